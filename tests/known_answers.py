"""Known-answer cases of the integer LIF update, worked out by hand from the contract.

Each case is one layer: weights (n_out, n_in), neuron parameters, input spikes
(time, n_in) and the expected spikes and membranes (time, n_out). The arithmetic of
every entry is written out beside it; the golden, training, and RTL tests all reuse
these cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdsnn_hw.neuron import LifParams


@dataclass(frozen=True)
class KnownAnswer:
    name: str
    weights: np.ndarray
    lif: LifParams
    inputs: np.ndarray
    spikes: np.ndarray
    membranes: np.ndarray


# Case "threshold_floor_saturate": v_bits 8 (range -128..127), leak u >>> 1, v_th 10.
#   inputs  t0 [1,1,0]  t1 [1,0,0]  t2 [1,1,0]  t3 [0,0,1]
#   n0 w=[6,4,0]:      t0 0+10=10 >= 10 fire -> 0 | t1 0+6=6 | t2 3+10=13 fire -> 0 | t3 0+0=0
#   n1 w=[-3,0,0]:     t0 0-3=-3 | t1 (-3>>>1=-2)-3=-5 | t2 (-5>>>1=-3)-3=-6 | t3 -3+0=-3
#   n2 w=[-100,-100,0]: t0 -200 -> sat -128 | t1 -64-100=-164 -> -128 | t2 -64-200 -> -128
#                       | t3 -64+0=-64
#   input 2 has no synapse at all: an empty fan-out list.
THRESHOLD_FLOOR_SATURATE = KnownAnswer(
    name="threshold_floor_saturate",
    weights=np.array([[6, 4, 0], [-3, 0, 0], [-100, -100, 0]]),
    lif=LifParams(v_th=10, leak_shift=1, v_bits=8),
    inputs=np.array([[1, 1, 0], [1, 0, 0], [1, 1, 0], [0, 0, 1]]),
    spikes=np.array([[1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0]]),
    membranes=np.array([[0, -3, -128], [6, -5, -128], [0, -6, -128], [0, -3, -64]]),
)

# Case "saturate_high_fires": v_bits 8, no leak, v_th 127 (the largest legal threshold).
#   n0 w=[100,100]: t0 200 -> sat 127 >= 127 fire -> 0 | t1 0+100=100 | t2 100+100=200
#                   -> sat 127 fire -> 0.  Wrapping instead of saturating would give -56.
SATURATE_HIGH_FIRES = KnownAnswer(
    name="saturate_high_fires",
    weights=np.array([[100, 100]]),
    lif=LifParams(v_th=127, leak_shift=0, v_bits=8),
    inputs=np.array([[1, 1], [1, 0], [1, 0]]),
    spikes=np.array([[1], [0], [1]]),
    membranes=np.array([[0], [100], [0]]),
)

CASES = (THRESHOLD_FLOOR_SATURATE, SATURATE_HIGH_FIRES)
