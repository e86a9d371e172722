"""Known-answer cases of the integer LIF update, worked out by hand from the contract.

Two kinds of case; the arithmetic of every entry is written out beside it, and the
expected numbers are literals, never computed by the code under test:

- :class:`KnownAnswer`: one layer, one sample. Weights (n_out, n_in), neuron
  parameters, input spikes (time, n_in), expected spikes and membranes (time, n_out).
  The golden, training, integer-step and RTL tests all reuse these.
- :class:`KnownNetwork`: several layers and/or several samples back to back. Inputs
  (samples, time, n_in), and per layer the expected spikes and membranes (samples,
  time, n_out). The golden and RTL tests run these; the single-layer steps cannot.

Every case also states ``acc_bits``, the ``ACC_BITS`` the exporter must derive
(contract section 3: the smallest signed width holding each neuron's sum of positive
weights and its sum of negative weights, and at least ``W_BITS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdsnn_hw import microarch
from sdsnn_hw.neuron import LifParams


@dataclass(frozen=True)
class KnownLayer:
    """One layer of a :class:`KnownNetwork` and what it must produce.

    Attributes:
        weights: integer weights (n_out, n_in), inside ``weight_bits``' narrow range.
        lif: neuron parameters.
        weight_bits: ``W_BITS`` of the export.
        acc_bits: ``ACC_BITS`` worked out by hand.
        spikes, membranes: expected, (samples, time, n_out); membranes after reset.
    """

    weights: np.ndarray
    lif: LifParams
    weight_bits: int
    acc_bits: int
    spikes: np.ndarray
    membranes: np.ndarray


@dataclass(frozen=True)
class KnownNetwork:
    """Layers run in order within a step, samples back to back from zero membranes.

    Attributes:
        name: test id.
        inputs: input spikes (samples, time, n_in).
        layers: input layer first; layer ``l`` takes layer ``l - 1``'s spikes of the
            same step.
        predictions: argmax of the last layer's spike counts per sample (ties low).
    """

    name: str
    inputs: np.ndarray
    layers: tuple[KnownLayer, ...]
    predictions: tuple[int, ...]


@dataclass(frozen=True)
class KnownAnswer:
    """One layer, one sample (see the module docstring)."""

    name: str
    weights: np.ndarray
    lif: LifParams
    inputs: np.ndarray
    spikes: np.ndarray
    membranes: np.ndarray
    weight_bits: int = 8
    acc_bits: int | None = None

    def network(self) -> KnownNetwork:
        """The same case as a one-layer, one-sample :class:`KnownNetwork`."""
        if self.acc_bits is None:
            raise ValueError(f"case {self.name}: acc_bits is not worked out")
        layer = KnownLayer(
            self.weights,
            self.lif,
            self.weight_bits,
            self.acc_bits,
            self.spikes[None],
            self.membranes[None],
        )
        # the readout of a single layer: most spikes, ties to the lowest index
        prediction = int(np.argmax(self.spikes.sum(axis=0)))
        return KnownNetwork(self.name, self.inputs[None], (layer,), (prediction,))


# Case "threshold_floor_saturate": v_bits 8 (range -128..127), leak u >>> 1, v_th 10.
#   inputs  t0 [1,1,0]  t1 [1,0,0]  t2 [1,1,0]  t3 [0,0,1]
#   n0 w=[6,4,0]:      t0 0+10=10 >= 10 fire -> 0 | t1 0+6=6 | t2 3+10=13 fire -> 0 | t3 0+0=0
#   n1 w=[-3,0,0]:     t0 0-3=-3 | t1 (-3>>>1=-2)-3=-5 | t2 (-5>>>1=-3)-3=-6 | t3 -3+0=-3
#   n2 w=[-100,-100,0]: t0 -200 -> sat -128 | t1 -64-100=-164 -> -128 | t2 -64-200 -> -128
#                       | t3 -64+0=-64
#   input 2 has no synapse at all: an empty fan-out list.
#   ACC_BITS: sums +10 (n0) and -200 (n2) need 9 bits (-256..255), more than W_BITS 8.
THRESHOLD_FLOOR_SATURATE = KnownAnswer(
    name="threshold_floor_saturate",
    weights=np.array([[6, 4, 0], [-3, 0, 0], [-100, -100, 0]]),
    lif=LifParams(v_th=10, leak_shift=1, v_bits=8),
    inputs=np.array([[1, 1, 0], [1, 0, 0], [1, 1, 0], [0, 0, 1]]),
    spikes=np.array([[1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0]]),
    membranes=np.array([[0, -3, -128], [6, -5, -128], [0, -6, -128], [0, -3, -64]]),
    acc_bits=9,
)

# Case "saturate_high_fires": v_bits 8, no leak, v_th 127 (the largest legal threshold).
#   n0 w=[100,100]: t0 200 -> sat 127 >= 127 fire -> 0 | t1 0+100=100 | t2 100+100=200
#                   -> sat 127 fire -> 0.  Wrapping instead of saturating would give -56.
#   ACC_BITS: +200 needs 9 bits.
SATURATE_HIGH_FIRES = KnownAnswer(
    name="saturate_high_fires",
    weights=np.array([[100, 100]]),
    lif=LifParams(v_th=127, leak_shift=0, v_bits=8),
    inputs=np.array([[1, 1], [1, 0], [1, 0]]),
    spikes=np.array([[1], [0], [1]]),
    membranes=np.array([[0], [100], [0]]),
    acc_bits=9,
)

# Case "leak_shift_2": v_bits 8, leak u >>> 2 (floor of u / 4), v_th 20, W_BITS 6.
#   inputs  t0 [1,0,0]  t1 [1,1,0]  t2 [0,0,1]  t3 [0,1,1]  t4 [0,0,0]
#   n0 w=[15,6,-1]: t0 0+15=15 | t1 (15>>>2=3)+21=24 fire -> 0 | t2 0-1=-1
#                   | t3 (-1>>>2=-1)+5=4 (a truncating shift: 0+5=5) | t4 (4>>>2=1)+0=1
#   n1 w=[-5,-4,0]: t0 -5 | t1 (-5>>>2=-2, -1.25 down)-9=-11 | t2 (-11>>>2=-3, -2.75 down)=-3
#                   | t3 (-3>>>2=-1)-4=-5 | t4 (-5>>>2=-2)+0=-2
#   n2 w=[16,0,2]:  t0 16 | t1 (16>>>2=4)+16=20 >= 20 fire -> 0 (u>>>3 would give 18, no
#                   spike) | t2 0+2=2 | t3 (2>>>2=0)+2=2 | t4 (2>>>2=0)+0=0
#   ACC_BITS: sums +21 (n0) and -9 (n1) need 6 bits (-32..31); W_BITS 6 -> 6.
LEAK_SHIFT_2 = KnownAnswer(
    name="leak_shift_2",
    weights=np.array([[15, 6, -1], [-5, -4, 0], [16, 0, 2]]),
    lif=LifParams(v_th=20, leak_shift=2, v_bits=8),
    inputs=np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [0, 0, 0]]),
    spikes=np.array([[0, 0, 0], [1, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]]),
    membranes=np.array([[15, -5, 16], [0, -11, 0], [-1, -3, 2], [4, -5, 2], [1, -2, 0]]),
    weight_bits=6,
    acc_bits=6,
)

# Case "leak_shift_3": v_bits 6 (range -32..31), leak u >>> 3 (floor of u / 8), v_th 12,
# W_BITS 6.
#   inputs  t0 [1,1,0]  t1 [0,0,1]  t2 [1,0,0]  t3 [0,0,0]  t4 [0,0,1]
#   n0 w=[-20,-20,9]: t0 0-40=-40 -> sat -32 | t1 (-32>>>3=-4)+9=5 | t2 (5>>>3=0)-20=-20
#                     | t3 (-20>>>3=-3, -2.5 down; truncating: -2)=-3 | t4 (-3>>>3=-1)+9=8
#   n1 w=[11,0,11]:   t0 11 | t1 (11>>>3=1)+11=12 >= 12 fire -> 0 | t2 0+11=11
#                     | t3 (11>>>3=1)+0=1 | t4 (1>>>3=0)+11=11
#   n2 w=[-1,0,0]:    t0 -1 | t1 (-1>>>3=-1: -1 never decays to 0)=-1 | t2 -1-1=-2
#                     | t3 (-2>>>3=-1)=-1 | t4 (-1>>>3=-1)=-1
#   ACC_BITS: sums -40 (n0) and +22 (n1) need 7 bits (-64..63), more than W_BITS 6; the
#   sum (u >>> 3) + I is formed at max(6, 7) + 1 bits, then saturated (t0 of n0).
LEAK_SHIFT_3 = KnownAnswer(
    name="leak_shift_3",
    weights=np.array([[-20, -20, 9], [11, 0, 11], [-1, 0, 0]]),
    lif=LifParams(v_th=12, leak_shift=3, v_bits=6),
    inputs=np.array([[1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 0], [0, 0, 1]]),
    spikes=np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]),
    membranes=np.array([[-32, 11, -1], [5, 0, -1], [-20, 11, -2], [-3, 1, -1], [8, 11, -1]]),
    weight_bits=6,
    acc_bits=7,
)

# Case "accumulator_exact_width": W_BITS 4 (weights -7..7), v_bits 6, leak u >>> 1, v_th 7.
#   n0 w=[7,7,1,-7,-7,-2]: positive sum 15, negative sum -16; n1 w=[-7,-7,-1,7,7,1]: +15, -15.
#   ACC_BITS = max(4, bits for -16..15) = 5, whose range is exactly -16..15: at t0 n0's
#   current is the largest value of 5 bits, at t1 the smallest.
#   inputs  t0 [1,1,1,0,0,0]  t1 [0,0,0,1,1,1]  t2 [1,0,0,0,0,0]  t3 [1,1,1,1,1,1]
#   n0: t0 I=7+7+1=15: 0+15=15 >= 7 fire -> 0 | t1 I=-7-7-2=-16: 0-16=-16
#       | t2 I=7: (-16>>>1=-8)+7=-1 | t3 I=15-16=-1: (-1>>>1=-1)-1=-2
#   n1: t0 I=-15: -15 | t1 I=15: (-15>>>1=-8, -7.5 down)+15=7 >= 7 fire -> 0
#       | t2 I=-7: -7 | t3 I=-15+15=0: (-7>>>1=-4)+0=-4
#   A 4-bit accumulator (-8..7) wraps 15 to -1 and -16 to 0: n0 would not fire at t0
#   and would fire at t2 (0+7=7); n1's -15 would wrap to 1.
ACCUMULATOR_EXACT_WIDTH = KnownAnswer(
    name="accumulator_exact_width",
    weights=np.array([[7, 7, 1, -7, -7, -2], [-7, -7, -1, 7, 7, 1]]),
    lif=LifParams(v_th=7, leak_shift=1, v_bits=6),
    inputs=np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 0, 0, 0, 0], [1] * 6]),
    spikes=np.array([[1, 0], [0, 1], [0, 0], [0, 0]]),
    membranes=np.array([[0, -15], [-16, 0], [-1, -7], [-2, -4]]),
    weight_bits=4,
    acc_bits=5,
)

CASES = (THRESHOLD_FLOOR_SATURATE, SATURATE_HIGH_FIRES)
"""The first single-layer cases; tests/test_rtl.py runs these on both simulators."""
MORE_LAYER_CASES = (LEAK_SHIFT_2, LEAK_SHIFT_3, ACCUMULATOR_EXACT_WIDTH)
"""Single-layer cases added later; tests/test_known_answers_rtl.py runs them on the RTL."""
LAYER_CASES = (*CASES, *MORE_LAYER_CASES)
"""Every single-layer case: golden, training neuron and integer step run all of them."""

# Case "three_layers_same_step": 4 inputs -> 3 -> 3 -> 2 neurons, one sample of 4 steps,
# W_BITS 4 everywhere. Layer l at step t takes layer l-1's spikes of the same step t, so
# input 0 at t0 reaches the output at t0 (l0 n0 -> l1 m1 -> l2 k0); a core that hands
# spikes on one step late would fire nothing at t0 and k0 at t2.
#   inputs  t0 [1,0,0,0]  t1 [0,1,1,0]  t2 [0,1,0,1]  t3 [1,0,1,1]
# Layer 0: v_th 6, leak u >>> 1, v_bits 8.
#   n0 w=[6,0,0,-2]:  t0 I=6: 0+6=6 fire -> 0 | t1 0 | t2 I=-2: -2 | t3 I=4: (-2>>>1=-1)+4=3
#   n1 w=[0,4,3,0]:   t0 0 | t1 I=7: 7 fire -> 0 | t2 I=4: 4 | t3 I=3: (4>>>1=2)+3=5
#   n2 w=[-3,0,5,3]:  t0 I=-3: -3 | t1 I=5: (-3>>>1=-2)+5=3 | t2 I=3: (3>>>1=1)+3=4
#                     | t3 I=-3+5+3=5: (4>>>1=2)+5=7 fire -> 0
#   spikes t0 [1,0,0] t1 [0,1,0] t2 [0,0,0] t3 [0,0,1]
#   ACC_BITS: sums +8 (n2) and -3 (n2) need 5 bits.
# Layer 1: v_th 5, no leak, v_bits 8; inputs are layer 0's spikes above.
#   m0 w=[3,2,0]:     t0 I=3: 3 | t1 I=2: 3+2=5 fire -> 0 | t2 0 | t3 I=0: 0
#   m1 w=[5,0,-4]:    t0 I=5: 5 fire -> 0 | t1 0 | t2 0 | t3 I=-4: -4
#   m2 w=[0,-2,7]:    t0 0 | t1 I=-2: -2 | t2 -2 | t3 I=7: -2+7=5 fire -> 0
#   spikes t0 [0,1,0] t1 [1,0,0] t2 [0,0,0] t3 [0,0,1]
#   ACC_BITS: sums +7 (m2) and -4 (m1) fit 4 bits = W_BITS.
# Layer 2: v_th 5, leak u >>> 2, v_bits 6; inputs are layer 1's spikes above.
#   k0 w=[1,5,0]:     t0 I=5: 5 fire -> 0 | t1 I=1: 1 | t2 (1>>>2=0)=0 | t3 I=0: 0
#   k1 w=[-3,2,5]:    t0 I=2: 2 | t1 I=-3: (2>>>2=0)-3=-3 | t2 (-3>>>2=-1)=-1
#                     | t3 I=5: (-1>>>2=-1)+5=4 < 5 (a truncating shift: 0+5=5 would fire)
#   spikes t0 [1,0] t1..t3 [0,0]: counts [1,0], prediction 0.
#   ACC_BITS: sums +7 (k1) and -3 (k1) fit 4 bits = W_BITS.
THREE_LAYERS_SAME_STEP = KnownNetwork(
    name="three_layers_same_step",
    inputs=np.array([[[1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1], [1, 0, 1, 1]]]),
    layers=(
        KnownLayer(
            weights=np.array([[6, 0, 0, -2], [0, 4, 3, 0], [-3, 0, 5, 3]]),
            lif=LifParams(v_th=6, leak_shift=1, v_bits=8),
            weight_bits=4,
            acc_bits=5,
            spikes=np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]]]),
            membranes=np.array([[[0, 0, -3], [0, 0, 3], [-2, 4, 4], [3, 5, 0]]]),
        ),
        KnownLayer(
            weights=np.array([[3, 2, 0], [5, 0, -4], [0, -2, 7]]),
            lif=LifParams(v_th=5, leak_shift=0, v_bits=8),
            weight_bits=4,
            acc_bits=4,
            spikes=np.array([[[0, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 1]]]),
            membranes=np.array([[[3, 0, 0], [0, 0, -2], [0, 0, -2], [0, -4, 0]]]),
        ),
        KnownLayer(
            weights=np.array([[1, 5, 0], [-3, 2, 5]]),
            lif=LifParams(v_th=5, leak_shift=2, v_bits=6),
            weight_bits=4,
            acc_bits=4,
            spikes=np.array([[[1, 0], [0, 0], [0, 0], [0, 0]]]),
            membranes=np.array([[[0, 2], [1, -3], [0, -1], [0, 4]]]),
        ),
    ),
    predictions=(0,),
)

# Case "samples_back_to_back": 2 inputs -> 2 -> 2 neurons, 3 samples of 3 steps; sample 2
# repeats sample 0, and every sample starts from zero membranes in every layer (the
# first_step flag), although samples 0 and 1 end with non-zero membranes in both layers.
#   s0  t0 [1,0]  t1 [0,1]  t2 [1,1]      s1  t0 [0,1]  t1 [1,0]  t2 [0,1]      s2 = s0
# Layer 0: v_th 4, leak u >>> 1, v_bits 8, W_BITS 4.
#   n0 w=[4,-3]:  s0 t0 I=4: 4 fire -> 0 | t1 I=-3: -3 | t2 I=1: (-3>>>1=-2)+1=-1
#                 s1 t0 I=-3: -3 | t1 I=4: (-3>>>1=-2)+4=2 | t2 I=-3: (2>>>1=1)-3=-2
#   n1 w=[-2,5]:  s0 t0 I=-2: -2 | t1 I=5: (-2>>>1=-1)+5=4 fire -> 0 | t2 I=3: 0+3=3
#                 s1 t0 I=5: 5 fire -> 0 | t1 I=-2: -2 | t2 I=5: (-2>>>1=-1)+5=4 fire -> 0
#   spikes s0 [1,0] [0,1] [0,0]   s1 [0,1] [0,0] [0,1]
#   ACC_BITS: sums +5 (n1) and -3 (n0) fit 4 bits = W_BITS.
#   Carrying s0's end (-1, 3) into s1: n0 at s1 t0 would be (-1>>>1=-1)-3=-4, not -3;
#   carrying s1's end (-2, 0) into s2: n0 at s2 t0 would be -1+4=3, no spike.
# Layer 1: v_th 3, no leak, v_bits 8, W_BITS 3 (weights -3..3).
#   k0 w=[3,-1]:  s0 t0 I=3: 3 fire -> 0 | t1 I=-1: -1 | t2 I=0: -1
#                 s1 t0 I=-1: -1 | t1 I=0: -1 | t2 I=-1: -2
#   k1 w=[-2,3]:  s0 t0 I=-2: -2 | t1 I=3: 1 | t2 I=0: 1
#                 s1 t0 I=3: 3 fire -> 0 | t1 0 | t2 I=3: 3 fire -> 0
#   spikes s0 [1,0] [0,0] [0,0]   s1 [0,1] [0,0] [0,1]: counts [1,0] [0,2] [1,0],
#   predictions 0, 1, 0.
#   ACC_BITS: sums +3 and -2 fit 3 bits = W_BITS.
#   Carrying layer 1 alone: k0 ends s1 at -1-1+0-1=-3, and s2 t0 gives -3+3=0, no spike.
SAMPLES_BACK_TO_BACK = KnownNetwork(
    name="samples_back_to_back",
    inputs=np.array(
        [
            [[1, 0], [0, 1], [1, 1]],
            [[0, 1], [1, 0], [0, 1]],
            [[1, 0], [0, 1], [1, 1]],
        ]
    ),
    layers=(
        KnownLayer(
            weights=np.array([[4, -3], [-2, 5]]),
            lif=LifParams(v_th=4, leak_shift=1, v_bits=8),
            weight_bits=4,
            acc_bits=4,
            spikes=np.array(
                [
                    [[1, 0], [0, 1], [0, 0]],
                    [[0, 1], [0, 0], [0, 1]],
                    [[1, 0], [0, 1], [0, 0]],
                ]
            ),
            membranes=np.array(
                [
                    [[0, -2], [-3, 0], [-1, 3]],
                    [[-3, 0], [2, -2], [-2, 0]],
                    [[0, -2], [-3, 0], [-1, 3]],
                ]
            ),
        ),
        KnownLayer(
            weights=np.array([[3, -1], [-2, 3]]),
            lif=LifParams(v_th=3, leak_shift=0, v_bits=8),
            weight_bits=3,
            acc_bits=3,
            spikes=np.array(
                [
                    [[1, 0], [0, 0], [0, 0]],
                    [[0, 1], [0, 0], [0, 1]],
                    [[1, 0], [0, 0], [0, 0]],
                ]
            ),
            membranes=np.array(
                [
                    [[0, -2], [-1, 1], [-1, 1]],
                    [[-1, 0], [-1, 0], [-2, 0]],
                    [[0, -2], [-1, 1], [-1, 1]],
                ]
            ),
        ),
    ),
    predictions=(0, 1, 0),
)

NETWORK_CASES = (THREE_LAYERS_SAME_STEP, SAMPLES_BACK_TO_BACK)
"""Multi-layer and multi-sample cases: golden and RTL run these."""


@dataclass(frozen=True)
class KnownCosts:
    """Per-sample costs of a :class:`KnownNetwork` (docs/microarchitecture.md, section 5),
    worked out by hand for one lane count and one layout per layer.

    Attributes:
        lanes: P.
        layouts: the memory layout of each layer.
        words: W of each layer at each step of the (single) sample.
        depths: D = ceil(N_OUT / P) of each layer.
        synops ... bound: the sample's totals over every layer and step; accumulator
            and membrane reads equal their writes.
    """

    lanes: int
    layouts: tuple[str, ...]
    words: tuple[tuple[int, ...], ...]
    depths: tuple[int, ...]
    synops: int
    ptr_reads: int
    wrom_reads: int
    acc_accesses: int
    mem_accesses: int
    bound: int

    def step_cycles(self) -> list[int]:
        """cycles = W + D + OVERHEAD per layer step, summed over the layers of a step.

        ``microarch.OVERHEAD`` is read when called, by name: its value is the cycle
        model's to change.
        """
        return [
            sum(w[t] + d + microarch.OVERHEAD for w, d in zip(self.words, self.depths, strict=True))
            for t in range(len(self.words[0]))
        ]


# Costs of "three_layers_same_step" with P = 2 lanes, csr_fanout in every layer.
# Bank of neuron n: n mod 2, address n div 2. words_j (csr_fanout) = the largest count
# of input j's non-zero weights in one bank; ceil(fanout_j / 2) for the bound.
# Layer 0 (D = ceil(3/2) = 2; banks: n0, n2 in bank 0, n1 in bank 1):
#   input 0 -> n0, n2 (both bank 0): 2 words, fanout 2 | input 1 -> n1: 1 word, fanout 1
#   input 2 -> n1, n2 (one per bank): 1 word, fanout 2 | input 3 -> n0, n2: 2 words, fan. 2
#   W: t0 {0} 2 | t1 {1,2} 1+1=2 | t2 {1,3} 1+2=3 | t3 {0,2,3} 2+1+2=5      (sum 12)
#   synops: 2 | 1+2=3 | 1+2=3 | 2+2+2=6 (14); spiking inputs with words 1+2+2+3=8
#   bound: ceil(fanout/2)=1 per spiking input + D: 3 + 4 + 4 + 5 = 16
# Layer 1 (D = 2; m0, m2 in bank 0, m1 in bank 1), driven by layer 0's spikes:
#   input n0 -> m0, m1: 1 word | input n1 -> m0, m2 (both bank 0): 2 words
#   input n2 -> m1, m2: 1 word; every fanout is 2
#   W: t0 {n0} 1 | t1 {n1} 2 | t2 {} 0 | t3 {n2} 1                          (sum 4)
#   synops: 2+2+0+2=6; spiking inputs 3; bound: 3 + 2+2+2+2 = 11
# Layer 2 (D = ceil(2/2) = 1; k0 in bank 0, k1 in bank 1), driven by layer 1's spikes:
#   input m0 -> k0, k1: 1 word | m1 -> k0, k1: 1 word | m2 -> k1: 1 word (fanout 1)
#   W: t0 {m1} 1 | t1 {m0} 1 | t2 {} 0 | t3 {m2} 1                          (sum 3)
#   synops: 2+2+0+1=5; spiking inputs 3; bound: 3 + 1+1+1+1 = 7
# Totals: synops 14+6+5=25; pointer reads 2*(8+3+3)=28; weight reads 12+4+3=19;
#   accumulator reads (= writes) synops + P*D per layer step: 25 + 4*(2*2 + 2*2 + 2*1)
#   = 65; membrane reads (= writes) 4*(4+4+2) = 40; bound 16+11+7 = 34.
THREE_LAYERS_CSR_P2 = KnownCosts(
    lanes=2,
    layouts=("csr_fanout", "csr_fanout", "csr_fanout"),
    words=((2, 2, 3, 5), (1, 2, 0, 1), (1, 1, 0, 1)),
    depths=(2, 2, 1),
    synops=25,
    ptr_reads=28,
    wrom_reads=19,
    acc_accesses=65,
    mem_accesses=40,
    bound=34,
)

# The same with layer 0 and layer 2 in dense_rows: every input of theirs has a non-zero
# weight, so each owns D words: layer 0 W = 2 per spiking input, t0 2 | t1 4 | t2 4 | t3 6
# (sum 16); layer 2 (D = 1) stays 1 word per input. Weight reads 16+4+3=23; pointer
# reads, synops, accesses and the bound do not depend on the layout.
THREE_LAYERS_MIXED_P2 = KnownCosts(
    lanes=2,
    layouts=("dense_rows", "csr_fanout", "dense_rows"),
    words=((2, 4, 4, 6), (1, 2, 0, 1), (1, 1, 0, 1)),
    depths=(2, 2, 1),
    synops=25,
    ptr_reads=28,
    wrom_reads=23,
    acc_accesses=65,
    mem_accesses=40,
    bound=34,
)
