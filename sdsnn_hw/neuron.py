"""Integer LIF neuron of the hardware contract (docs/hardware-contract.md, section 2).

One pure NumPy step function is the reference for every other implementation: the
training neuron in :mod:`sdsnn_hw.model`, the golden network model and the RTL core.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LifParams:
    """Parameters of one layer of integer LIF neurons.

    Per time step, with ``I`` the summed weights of the inputs that spiked::

        v = sat_V((u >>> leak_shift) + I)     # arithmetic shift: decay 2**-leak_shift
        s = [v >= v_th]                        # fire on >=
        u' = 0 if s else v                     # hard reset in the same step

    Attributes:
        v_th: firing threshold in integer weight units, 1 <= v_th <= 2**(v_bits-1) - 1.
        leak_shift: right shift applied to the membrane each step (0 = no leak).
        v_bits: signed membrane width in bits; ``sat_V`` clamps to its range.
    """

    v_th: int
    leak_shift: int
    v_bits: int

    def __post_init__(self) -> None:
        if not 2 <= self.v_bits <= 32:
            raise ValueError(f"v_bits must be in 2..32, got {self.v_bits}")
        if not 0 <= self.leak_shift < self.v_bits:
            raise ValueError(f"leak_shift must be in 0..{self.v_bits - 1}, got {self.leak_shift}")
        if not 1 <= self.v_th <= self.v_max:
            raise ValueError(f"v_th must be in 1..{self.v_max}, got {self.v_th}")

    @property
    def v_min(self) -> int:
        """Most negative membrane value."""
        return -(1 << (self.v_bits - 1))

    @property
    def v_max(self) -> int:
        """Most positive membrane value."""
        return (1 << (self.v_bits - 1)) - 1


def lif_step(
    current: np.ndarray, membrane: np.ndarray, params: LifParams
) -> tuple[np.ndarray, np.ndarray]:
    """Advance integer LIF neurons by one time step.

    Args:
        current: summed input weights ``I`` per neuron (any integer dtype, any shape).
        membrane: membrane ``u`` before the step, same shape.
        params: the layer's neuron parameters.

    Returns:
        ``(spikes, membrane_after)``: spikes as uint8 0/1, membrane after reset as int64.
    """
    leaked = np.right_shift(membrane.astype(np.int64), params.leak_shift)
    v = np.clip(leaked + current.astype(np.int64), params.v_min, params.v_max)
    spikes = v >= params.v_th
    return spikes.astype(np.uint8), np.where(spikes, 0, v)


def accumulator_bits(weights: np.ndarray, weight_bits: int) -> int:
    """``ACC_BITS`` of a layer (contract section 3): the smallest signed width that holds
    every neuron's sum of positive weights, its sum of negative weights, and one weight.

    Args:
        weights: integer weights (n_out, n_in).
        weight_bits: the layer's ``W_BITS``.
    """
    positive = int(np.clip(weights, 0, None).sum(axis=1).max(initial=0))
    negative = int(np.clip(weights, None, 0).sum(axis=1).min(initial=0))
    return max(weight_bits, signed_bits_for(negative, positive))


def signed_bits_for(low: int, high: int) -> int:
    """Smallest two's complement width that holds every integer in [low, high]."""
    bits = 1
    while not (-(1 << (bits - 1)) <= low and high <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


def unsigned_bits_for(value: int) -> int:
    """Smallest unsigned width (at least 1) that holds ``value``."""
    return max(1, int(value).bit_length())
