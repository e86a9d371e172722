"""Quantization-aware spiking MLP whose neurons run the integer update of the contract.

Weights come from Brevitas ``QuantLinear`` layers. Each forward pass works in integer
weight units: currents are sums of Brevitas integer weights, the threshold is the
float threshold divided by the layer's weight scale and rounded, and the membrane
follows :func:`sdsnn_hw.neuron.lif_step` exactly (floor shift, saturation, fire on
``>=``, hard reset). Gradients pass through straight-through estimators and a
rectangular surrogate, so what trains is what the hardware executes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import brevitas.nn as qnn
import torch
from brevitas.quant import Int8WeightPerTensorFloat
from torch import nn

from sdsnn_hw.neuron import LifParams

# Integers of magnitude up to 2**24 are exact in float32 (24-bit significand).
FLOAT32_EXACT_BITS = 24


@dataclass(frozen=True)
class NetworkConfig:
    """Shape and number formats of the spiking MLP.

    Attributes:
        sizes: neurons per layer, input first (e.g. ``(64, 128, 10)``).
        weight_bits: signed integer weight width (2..8), narrow range.
        v_bits: signed membrane width.
        leak_shift: membrane decay ``2**-leak_shift`` per step.
        v_th: threshold in float weight units; ``round(v_th / scale)`` in integer units.
        time_steps: simulation steps per sample.
    """

    sizes: tuple[int, ...] = (64, 128, 10)
    weight_bits: int = 6
    v_bits: int = 16
    leak_shift: int = 2
    v_th: float = 0.5
    time_steps: int = 12

    def __post_init__(self) -> None:
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise ValueError(f"sizes needs an input and at least one layer, got {self.sizes}")
        if not 2 <= self.weight_bits <= 8:
            raise ValueError(f"weight_bits must be in 2..8, got {self.weight_bits}")
        if self.time_steps < 1:
            raise ValueError(f"time_steps must be >= 1, got {self.time_steps}")
        if not 2 <= self.v_bits <= FLOAT32_EXACT_BITS:
            raise ValueError(
                f"v_bits must be in 2..{FLOAT32_EXACT_BITS} (training runs membranes in "
                f"float32, exact only below 2**{FLOAT32_EXACT_BITS}), got {self.v_bits}"
            )
        if not 0 <= self.leak_shift < self.v_bits:
            raise ValueError(f"leak_shift must be in 0..{self.v_bits - 1}, got {self.leak_shift}")
        if not self.v_th > 0:
            raise ValueError(f"v_th must be > 0, got {self.v_th}")
        # The largest pre-saturation value, |u >>> k| + |I|, must stay exact in float32.
        widest = max(self.sizes[:-1]) * ((1 << (self.weight_bits - 1)) - 1)
        if widest + (1 << (self.v_bits - 1)) > 1 << FLOAT32_EXACT_BITS:
            raise ValueError(
                f"a fan-in of {max(self.sizes[:-1])} at {self.weight_bits}-bit weights with "
                f"{self.v_bits}-bit membranes exceeds 2**{FLOAT32_EXACT_BITS}, "
                "where float32 training stops being exact"
            )


class _FloorShift(torch.autograd.Function):
    """floor(u / 2**k) forward, scaling by 2**-k backward (straight through the floor)."""

    @staticmethod
    def forward(ctx, u: torch.Tensor, shift: int) -> torch.Tensor:
        ctx.shift = shift
        return torch.floor(u / (1 << shift))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad / (1 << ctx.shift), None


class _SpikeFn(torch.autograd.Function):
    """Heaviside ``v >= v_th``; rectangular surrogate of width ``v_th`` on each side."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, v_th: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(v, v_th)
        return (v >= v_th).to(v.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        v, v_th = ctx.saved_tensors
        window = ((v - v_th).abs() < v_th).to(v.dtype) / v_th
        return grad * window, None


class _RoundSte(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


def lif_step_torch(
    current: torch.Tensor, membrane: torch.Tensor, v_th: torch.Tensor, params: LifParams
) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable twin of :func:`sdsnn_hw.neuron.lif_step` on integer-valued floats."""
    leaked = _FloorShift.apply(membrane, params.leak_shift)
    v = torch.clamp(leaked + current, params.v_min, params.v_max)
    spikes = _SpikeFn.apply(v, v_th)
    return spikes, v * (1.0 - spikes.detach())


@dataclass
class Trace:
    """Per-layer spikes and membranes of a forward pass, each (batch, time, neurons)."""

    spikes: list[torch.Tensor] = field(default_factory=list)
    membranes: list[torch.Tensor] = field(default_factory=list)


class SpikingMLP(nn.Module):
    """Fully connected LIF network on Brevitas integer weights (no biases)."""

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList(
            qnn.QuantLinear(
                n_in,
                n_out,
                bias=False,
                weight_quant=Int8WeightPerTensorFloat,
                weight_bit_width=config.weight_bits,
            )
            for n_in, n_out in pairwise(config.sizes)
        )

    def quantized(self, layer: qnn.QuantLinear) -> tuple[torch.Tensor, LifParams]:
        """A layer's Brevitas integer weights and its integer neuron parameters.

        The weights are integer-valued floats, differentiable through a straight-through
        rounding; the threshold is ``max(1, round(v_th / scale))`` in the same units.
        """
        quant = layer.quant_weight()
        weights = _RoundSte.apply(quant.value / quant.scale)
        v_th = torch.clamp(torch.round(self.config.v_th / quant.scale.detach()), min=1.0)
        params = LifParams(int(v_th.item()), self.config.leak_shift, self.config.v_bits)
        return weights, params

    def lif_params(self) -> list[LifParams]:
        """Integer neuron parameters of every layer, as the exporter writes them."""
        with torch.no_grad():
            return [self.quantized(layer)[1] for layer in self.layers]

    def forward(self, spikes_in: torch.Tensor, trace: Trace | None = None) -> torch.Tensor:
        """Run all time steps.

        Args:
            spikes_in: (batch, time, inputs) tensor of 0/1.
            trace: when given, filled with every layer's spikes and membranes.

        Returns:
            Output spike counts, (batch, classes).
        """
        weights, params = zip(*(self.quantized(layer) for layer in self.layers), strict=True)
        thresholds = [spikes_in.new_tensor(float(p.v_th)) for p in params]
        batch, steps = spikes_in.shape[0], spikes_in.shape[1]
        membranes = [spikes_in.new_zeros(batch, w.shape[0]) for w in weights]
        per_step: list[list[tuple[torch.Tensor, torch.Tensor]]] = [[] for _ in weights]
        counts = spikes_in.new_zeros(batch, weights[-1].shape[0])
        for t in range(steps):
            x = spikes_in[:, t]
            for i, (w, v_th, p) in enumerate(zip(weights, thresholds, params, strict=True)):
                x, membranes[i] = lif_step_torch(x @ w.t(), membranes[i], v_th, p)
                if trace is not None:
                    per_step[i].append((x.detach(), membranes[i].detach()))
            counts = counts + x
        if trace is not None:
            for steps_of_layer in per_step:
                trace.spikes.append(torch.stack([s for s, _ in steps_of_layer], dim=1))
                trace.membranes.append(torch.stack([m for _, m in steps_of_layer], dim=1))
        return counts


def predict(counts: torch.Tensor) -> torch.Tensor:
    """Class with the most output spikes; ties go to the lowest index (contract section 4)."""
    return torch.argmax(counts, dim=1)
