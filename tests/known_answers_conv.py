"""Known answers of pooling, bias and convolution, worked out by hand from the contract.

Like tests/known_answers.py: the arithmetic of every entry is written out beside it,
and the expected numbers are literals, never computed by the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdsnn_hw.neuron import LifParams


@dataclass(frozen=True)
class KnownConvLayer:
    """One conv layer, one sample.

    Attributes:
        weights: (out_channels, in_channels, K, K).
        bias: per output channel.
        lif: neuron parameters.
        weight_bits, bias_bits, acc_bits: widths; ``acc_bits`` worked out by hand.
        pool: the AP<k> folded into the input.
        inputs: the previous layer's spikes (time, in_channels, H, W), before pooling.
        spikes, membranes: expected (time, neurons), neurons in C order (o, y, x).
        events_per_step, synops, bound, lanes, layout, depth: costs (contract 7.1).
    """

    weights: np.ndarray
    bias: np.ndarray
    lif: LifParams
    weight_bits: int
    bias_bits: int
    acc_bits: int
    pool: int
    inputs: np.ndarray
    spikes: np.ndarray
    membranes: np.ndarray
    lanes: int
    layout: str
    depth: int
    words_cycles_per_step: tuple[int, ...]
    synops: int
    bound: int
    events: int


# Case "pooled_biased_conv": 1 input channel, 4x4 map, AP2 -> 2x2 counts, two 3x3
# kernels (padding 1, stride 1), biases (-1, 2), W_BITS 4, BIAS_BITS 6, v_th 6, leak
# u >>> 1, v_bits 8.
#   o0: tap (1,1) = 2, tap (1,2) = -1:  I0[y,x] = 2 n[y,x] - n[y,x+1]
#   o1: tap (0,0) = 1, tap (2,2) = 3:   I1[y,x] = n[y-1,x-1] + 3 n[y+1,x+1]
#   (tap (dy,dx) reads n[y+dy-1, x+dx-1]; outside the 2x2 map it reads 0)
# t0 input          counts (2x2 window sums)
#   1 1 0 0          3 1          o0: (0,0) 2*3-1=5   (0,1) 2*1-0=2   (1,0) 0-4=-4  (1,1) 2*4=8
#   1 0 0 1          0 4          o1: (0,0) 0+3*4=12  (0,1) 0         (1,0) 0       (1,1) 3+0=3
#   0 0 1 1          + bias, from u = 0: o0 [4, 1, -5, 7]; o1 [14, 2, 2, 5]
#   0 0 1 1          fire >= 6: o0 (1,1) = 7 and o1 (0,0) = 14 -> reset to 0
#   spikes  [0,0,0,1, 1,0,0,0]   membranes [4,1,-5,0, 0,2,2,5]
# t1 input          counts
#   0 0 0 0          1 1          o0: (0,0) 2-1=1  (0,1) 2  (1,0) 2-0=2  (1,1) 0
#   0 1 1 0          1 0          o1: (0,0) 0+3*0=0  (0,1) 0  (1,0) 0  (1,1) n[0,0]=1
#   0 1 0 0          I + b: o0 [0, 1, 1, -1]; o1 [2, 2, 2, 3]
#   0 0 0 0          u >>> 1: o0 [2, 0, -3 (-5/2 = -2.5 down), 0]; o1 [0, 1, 1, 2]
#   v = o0 [2, 1, -2, -1]; o1 [2, 3, 3, 5]: no spike.
#   spikes  0                    membranes [2,1,-2,-1, 2,3,3,5]
# ACC_BITS: AP2 counts reach 4. o0: 4*2 + 0 = 8 and 4*(-1) - 1 = -5; o1: 4*(1+3) + 2 = 18
#   and 0: -5..18 needs 6 bits (5 bits stop at 15); W_BITS 4 -> 6.
# Costs, P = 2, dense_kernels (its 74 bits beat kernel_list's 76: both 1 word for c0):
#   R = ceil(2/2) = 1 word per event; D = 1 * 2*2 = 4. On a 2x2 map every position has
#   2 in-bounds rows and 2 columns of taps: 4 cycles per word per event.
#   events t0: 3 + 1 + 0 + 4 = 8 -> 32 cycles; t1: 1 + 1 + 1 = 3 -> 12 cycles.
#   synops per event (non-zero weights whose target is inside the map):
#     (0,0): o0 tap (1,1), o1 tap (0,0) -> 2     (0,1): o0 taps (1,1), (1,2) -> 2
#     (1,0): o0 tap (1,1) -> 1                   (1,1): o0 (1,1), (1,2), o1 (2,2) -> 3
#   synops: t0 3*2 + 1*2 + 4*3 = 20; t1 2 + 2 + 1 = 5; total 25.
#   bound: ceil(synops/2) per event: t0 3*1 + 1*1 + 4*2 = 12, t1 1+1+1 = 3; + D per
#   step: 12 + 4 + 3 + 4 = 23.
POOLED_BIASED_CONV = KnownConvLayer(
    weights=np.array(
        [
            [[[0, 0, 0], [0, 2, -1], [0, 0, 0]]],
            [[[1, 0, 0], [0, 0, 0], [0, 0, 3]]],
        ]
    ),
    bias=np.array([-1, 2]),
    lif=LifParams(v_th=6, leak_shift=1, v_bits=8),
    weight_bits=4,
    bias_bits=6,
    acc_bits=6,
    pool=2,
    inputs=np.array(
        [
            [[[1, 1, 0, 0], [1, 0, 0, 1], [0, 0, 1, 1], [0, 0, 1, 1]]],
            [[[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]],
        ]
    ),
    spikes=np.array([[0, 0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]]),
    membranes=np.array([[4, 1, -5, 0, 0, 2, 2, 5], [2, 1, -2, -1, 2, 3, 3, 5]]),
    lanes=2,
    layout="dense_kernels",
    depth=4,
    words_cycles_per_step=(32, 12),
    synops=25,
    bound=23,
    events=11,
)


# Layout example of the contract (section 5): W_BITS 2, K 3, P 2, 2 input and 3 output
# channels. Non-zero kernels: (o0,c0) tap (1,1) = 1; (o1,c0) tap (0,0) = -1;
# (o2,c0) tap (2,2) = 1; (o2,c1) tap (0,1) = 1, tap (1,0) = -1.
LAYOUT_EXAMPLE_WEIGHTS = np.zeros((3, 2, 3, 3), dtype=np.int64)
LAYOUT_EXAMPLE_WEIGHTS[0, 0, 1, 1] = 1
LAYOUT_EXAMPLE_WEIGHTS[1, 0, 0, 0] = -1
LAYOUT_EXAMPLE_WEIGHTS[2, 0, 2, 2] = 1
LAYOUT_EXAMPLE_WEIGHTS[2, 1, 0, 1] = 1
LAYOUT_EXAMPLE_WEIGHTS[2, 1, 1, 0] = -1
# kernel_list: 19-bit slots {1-bit address, 18 weight bits}; kernel fields 0x100, 0x3,
# 0x10000, 0xc4. c0: word 0 = {0, 0x100} | {0, 0x3} << 19, word 1 = {1, 0x10000};
# c1: word 2 = {1, 0xc4}.
KERNEL_LIST_EXAMPLE = ([0, 2, 3], "0000180100\n0000050000\n00000400c4\n", 120)
# dense_kernels: 18-bit slots, every channel with a kernel owns 2 words (channels 0, 1
# in word 0; channel 2 and padding in word 1).
DENSE_KERNELS_EXAMPLE = ([0, 2, 4], "0000c0100\n000010000\n000000000\n0000000c4\n", 153)
# tap_list: 7-bit slots {1-bit address, 4-bit tap, 2-bit weight}. c0: bank 0 holds
# (o0, tap 4, 1) = 0x11 then (o2, tap 8, 1) = 0x61, bank 1 (o1, tap 0, -1) = 0x03:
# word 0 = 0x11 | 0x03 << 7, word 1 = 0x61; c1: (o2, tap 1, 1) = 0x45, (o2, tap 3, -1)
# = 0x4f, both in bank 0.
TAP_LIST_EXAMPLE = ([0, 2, 4], "0191\n0061\n0045\n004f\n", 65)
