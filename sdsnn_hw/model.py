"""Quantization-aware spiking network whose neurons run the integer update of the contract.

Weights come from Brevitas ``QuantLinear`` and ``QuantConv2d`` layers. Each forward pass
works in a layer's integer unit, one weight step divided by ``pool**2`` (contract
section 3.1): currents are sums of Brevitas integer weights times input counts (the
k x k sums an ``AP<k>`` folds into the layer), the threshold and the bias are the float
ones divided by that unit and rounded, and the membrane follows
:func:`sdsnn_hw.neuron.lif_step` exactly (floor shift, saturation, fire on ``>=``, hard
reset). Gradients pass through straight-through estimators and a rectangular
surrogate, so what trains is what the hardware executes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import brevitas.nn as qnn
import torch
from brevitas.quant import Int8WeightPerTensorFloat
from torch import nn
from torch.nn import functional

from sdsnn_hw.kernels import int8_exact, integer_matmul, lif_scan
from sdsnn_hw.netspec import CONV, LayerShape, fc_spec, resolve
from sdsnn_hw.neuron import LifParams

# Integers of magnitude up to 2**24 are exact in float32 (24-bit significand).
FLOAT32_EXACT_BITS = 24
DEFAULT_SIZES = (64, 128, 10)
BIAS_BITS_RANGE = (2, 16)


@dataclass(frozen=True)
class NetworkConfig:
    """Shape and number formats of the spiking network.

    The shape is given either by ``sizes`` (fully connected layers) or by ``net`` and
    ``input_shape``; the other fields are then filled in, so a config always carries
    all three and survives a round trip through :func:`dataclasses.asdict`. Given
    together, they must agree.

    Attributes:
        sizes: neurons per layer, input first (e.g. ``(64, 128, 10)``); the default when
            neither is given.
        weight_bits: signed integer weight width (2..8), narrow range.
        v_bits: signed membrane width.
        leak_shift: membrane decay ``2**-leak_shift`` per step.
        v_th: threshold in float weight units; ``round(v_th * pool**2 / scale)`` in
            integer units.
        time_steps: simulation steps per sample.
        net: the network in the paper's notation (:mod:`sdsnn_hw.netspec`).
        input_shape: (channels, height, width) of the input.
        biases: every layer adds an integer bias current per neuron (fc) or per output
            channel (conv) at every step.
        bias_bits: signed narrow-range width of the biases.
    """

    sizes: tuple[int, ...] = ()
    weight_bits: int = 6
    v_bits: int = 16
    leak_shift: int = 2
    v_th: float = 0.5
    time_steps: int = 12
    net: str = ""
    input_shape: tuple[int, ...] = ()
    biases: bool = False
    bias_bits: int = 12

    def __post_init__(self) -> None:
        sizes, net, input_shape = tuple(self.sizes), self.net, tuple(self.input_shape)
        if not net:
            sizes = sizes or DEFAULT_SIZES
            if len(sizes) < 2 or min(sizes) < 1:
                raise ValueError(f"sizes needs an input and at least one layer, got {sizes}")
            net = fc_spec(sizes[1:])
            input_shape = input_shape or (sizes[0], 1, 1)
        layers = resolve(net, input_shape)
        derived = (math.prod(input_shape), *(layer.n_out for layer in layers))
        if sizes and sizes != derived:
            raise ValueError(f"sizes {sizes} contradict network '{net}' on {input_shape}")
        object.__setattr__(self, "sizes", derived)
        object.__setattr__(self, "net", net)
        object.__setattr__(self, "input_shape", input_shape)
        if not 2 <= self.weight_bits <= 8:
            raise ValueError(f"weight_bits must be in 2..8, got {self.weight_bits}")
        if not BIAS_BITS_RANGE[0] <= self.bias_bits <= BIAS_BITS_RANGE[1]:
            low, high = BIAS_BITS_RANGE
            raise ValueError(f"bias_bits must be in {low}..{high}, got {self.bias_bits}")
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
        # The largest pre-saturation value, |u >>> k| + |I| + |b|, must stay exact in float32.
        bias = (1 << (self.bias_bits - 1)) - 1 if self.biases else 0
        for layer in layers:
            current = layer.pool**2 * layer.fan_in * ((1 << (self.weight_bits - 1)) - 1)
            if current + bias + (1 << (self.v_bits - 1)) > 1 << FLOAT32_EXACT_BITS:
                raise ValueError(
                    f"a fan-in of {layer.fan_in} at {self.weight_bits}-bit weights with "
                    f"{self.v_bits}-bit membranes exceeds 2**{FLOAT32_EXACT_BITS}, "
                    "where float32 training stops being exact"
                )

    @property
    def layers(self) -> tuple[LayerShape, ...]:
        """The geometry of every layer."""
        return resolve(self.net, self.input_shape)


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
    """Heaviside ``v >= v_th``; rectangular surrogate ``|v - v_th| <= v_th`` (open at
    ``v = 0``, where a pruned neuron sits)."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, v_th: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(v, v_th)
        return (v >= v_th).to(v.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        v, v_th = ctx.saved_tensors
        window = ((v - v_th).abs() <= v_th).to(v.dtype) / v_th
        return grad * window, None


class _RoundSte(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


# Brevitas' floor on the statistic its scale is made of (scaling_min_val)
SCALING_MIN = float(Int8WeightPerTensorFloat.scaling_min_val)


def brevitas_integers(
    weight: torch.Tensor, levels: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``quant_weight().scale`` and ``quant_weight().int()`` of an ``Int8WeightPerTensorFloat``
    layer, and the flat index of its largest ``|w|``.

    Brevitas' recipe, step by step: the statistic ``max|w|``, floored at
    ``scaling_min_val``, divided by ``levels = 2**(bits-1) - 1``; then ``round(w /
    scale)`` clamped to the narrow range. Brevitas itself spends most of a QAT step's
    overhead on it (its clamp builds bool masks, slow on the CPU). ``tests/test_model.py``
    and ``tests/test_train_kernels.py`` check both bit for bit against ``quant_weight()``,
    and the exporter reads ``quant_weight()`` itself.
    """
    magnitude, top = weight.detach().abs().view(-1).max(dim=0)
    scale = magnitude.clamp(min=SCALING_MIN) / levels
    return scale, torch.clamp(torch.round(weight.detach() / scale), -levels, levels), top


class _IntegerWeights(torch.autograd.Function):
    """Brevitas' integer weights with the gradient of Brevitas' own graph, computed in a
    few tensor operations instead of its few dozen.

    The quantizer (scale ``s = max|w| / L``, ``L = 2**(bits-1) - 1``, narrow range, so
    its clamp never cuts) gives ``q = round(w / s)`` with straight-through rounding:
    ``dq/dw = 1/s``, plus the path through the scale, ``dq/ds = -w / s**2``, which reaches
    only the largest ``|w|`` (``ds/dw = sign(w) / L`` there; none where the floor
    ``scaling_min_val`` holds the scale). ``tests/test_train_kernels.py`` checks it
    against Brevitas' autograd.
    """

    @staticmethod
    def forward(ctx, weight, integers, scale, top, levels: int):
        ctx.save_for_backward(weight, scale, top)
        ctx.levels = levels
        return integers

    @staticmethod
    def backward(ctx, grad):
        weight, scale, top = ctx.saved_tensors
        free = (scale * ctx.levels > SCALING_MIN).to(grad.dtype)  # the floor stops it
        through_scale = -(grad * weight).sum() * free / (scale * scale * ctx.levels)
        grad_weight = grad / scale
        flat = grad_weight.view(-1)
        flat[top] += torch.sign(weight.view(-1)[top]) * through_scale
        return grad_weight, None, None, None, None


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


@dataclass(frozen=True)
class QuantizedLayer:
    """One layer in its integer unit (weight scale / pool**2), differentiable.

    Attributes:
        weights: integer-valued weights, (n_out, n_in) or (O, C, K, K).
        bias: integer-valued bias per neuron (fc) or output channel (conv), or None.
        lif: the integer neuron parameters.
    """

    weights: torch.Tensor
    bias: torch.Tensor | None
    lif: LifParams


def sum_pool_torch(maps: torch.Tensor, k: int) -> torch.Tensor:
    """k x k window sums of (batch, C, H, W): exact integer counts 0..k*k (AP<k> folded)."""
    if k == 1:
        return maps
    n, c, h, w = maps.shape
    return maps.reshape(n, c, h // k, k, w // k, k).sum(dim=(3, 5))


def layer_current_torch(
    shape: LayerShape, layer: QuantizedLayer, spikes: torch.Tensor
) -> torch.Tensor:
    """``I + b`` (batch, n_out) from the previous layer's spikes (batch, neurons).

    Convolutions run as one matrix product over unfolded windows: every partial sum is
    an integer below 2**24, exact in float32 in any order (a Winograd or FFT kernel
    would not be).
    """
    inputs = spikes.reshape(len(spikes), *shape.in_shape)
    inputs = sum_pool_torch(inputs, shape.pool)
    if shape.kind == CONV:
        columns = functional.unfold(inputs, shape.kernel, padding=shape.kernel // 2)
        current = layer.weights.reshape(shape.out_channels, -1) @ columns  # (batch, O, H*W)
        if layer.bias is not None:
            current = current + layer.bias[:, None]
        return current.reshape(len(spikes), -1)
    current = inputs.reshape(len(spikes), -1) @ layer.weights.t()
    return current if layer.bias is None else current + layer.bias


class SpikingNetwork(nn.Module):
    """LIF network of Brevitas integer-weight layers, fc and conv (contract section 3)."""

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        self.shapes = config.layers
        self.layers = nn.ModuleList(self._synapses(shape) for shape in self.shapes)
        # dtype of the backward products; bfloat16 halves their cost on bf16 CPUs
        self.grad_dtype = torch.float32

    def _synapses(self, shape: LayerShape) -> nn.Module:
        quant = {
            "weight_quant": Int8WeightPerTensorFloat,
            "weight_bit_width": self.config.weight_bits,
        }
        if shape.kind == CONV:
            return qnn.QuantConv2d(
                shape.in_shape[0],
                shape.out_channels,
                shape.kernel,
                padding=shape.kernel // 2,
                bias=self.config.biases,
                **quant,
            )
        return qnn.QuantLinear(shape.n_in, shape.out_channels, bias=self.config.biases, **quant)

    def quantized_layer(self, index: int) -> QuantizedLayer:
        """Layer ``index`` in integer units, differentiable through straight-through
        rounding.

        The unit is ``scale / pool**2``: weights are Brevitas integers (one weight step
        per input spike, ``pool**2`` spikes per input at most), the threshold is
        ``max(1, round(v_th * pool**2 / scale))`` and the bias
        ``clamp(round(bias * pool**2 / scale))`` to ``bias_bits``' narrow range.
        """
        layer, shape = self.layers[index], self.shapes[index]
        levels = (1 << (self.config.weight_bits - 1)) - 1
        scale, integers, top = brevitas_integers(layer.weight, levels)
        weights = _IntegerWeights.apply(layer.weight, integers, scale, top, levels)
        area = shape.pool * shape.pool
        v_th = torch.clamp(torch.round(self.config.v_th * area / scale), min=1.0)
        lif = LifParams(int(v_th.item()), self.config.leak_shift, self.config.v_bits)
        bias = None
        if layer.bias is not None:
            limit = float((1 << (self.config.bias_bits - 1)) - 1)
            bias = torch.clamp(_RoundSte.apply(layer.bias * area / scale), -limit, limit)
        return QuantizedLayer(weights, bias, lif)

    def quantized(self, layer: nn.Module) -> tuple[torch.Tensor, LifParams]:
        """A layer's Brevitas integer weights and its integer neuron parameters."""
        quantized = self.quantized_layer(list(self.layers).index(layer))
        return quantized.weights, quantized.lif

    def lif_params(self) -> list[LifParams]:
        """Integer neuron parameters of every layer, as the exporter writes them."""
        with torch.no_grad():
            return [self.quantized_layer(i).lif for i in range(len(self.layers))]

    def forward(
        self, spikes_in: torch.Tensor, trace: Trace | None = None, time_major: bool = False
    ) -> torch.Tensor:
        """Run all time steps.

        Args:
            spikes_in: (batch, time, inputs) tensor of 0/1, inputs in C order of the
                input map; (time, batch, inputs) with ``time_major`` (float or uint8).
            trace: when given, filled with every layer's spikes and membranes.

        Returns:
            Output spike counts, (batch, classes).
        """
        if not time_major:
            spikes_in = spikes_in.transpose(0, 1).contiguous()
        return self.run_steps(spikes_in, trace)

    def run_steps(self, spikes_in: torch.Tensor, trace: Trace | None = None) -> torch.Tensor:
        """:meth:`forward` on time-major input spikes (time, batch, inputs).

        Layers run one after the other over all steps (contract section 4: layer ``l`` at
        step ``t`` sees layer ``l-1``'s spikes of step ``t``): one product per layer,
        then the membrane scan.
        """
        x = spikes_in
        for i, shape in enumerate(self.shapes):
            layer = self.quantized_layer(i)
            current = self._current(shape, layer, x)
            x, membranes = lif_scan(current, layer.lif)
            if trace is not None:
                trace.spikes.append(x.detach().transpose(0, 1))
                trace.membranes.append(membranes.transpose(0, 1))
        return x.sum(dim=0)

    def _current(self, shape: LayerShape, layer: QuantizedLayer, x: torch.Tensor) -> torch.Tensor:
        """``I + b`` of every step, (time, batch, n_out), from spikes (time, batch, neurons)."""
        steps, batch = x.shape[0], x.shape[1]
        flat = x.reshape(steps * batch, -1)
        if shape.kind == CONV or shape.pool > 1:
            flat = flat.float()
        if shape.kind == CONV:
            return layer_current_torch(shape, layer, flat).reshape(steps, batch, -1)
        if shape.pool > 1:
            flat = sum_pool_torch(flat.reshape(-1, *shape.in_shape), shape.pool)
            flat = flat.reshape(steps * batch, -1)
        use_int8 = flat.device.type == "cpu" and int8_exact(
            shape.pool * shape.pool, self.config.weight_bits
        )
        current = integer_matmul(flat, layer.weights, use_int8, self.grad_dtype)
        if layer.bias is not None:
            current = current + layer.bias
        return current.reshape(steps, batch, -1)


SpikingMLP = SpikingNetwork
"""The name from before convolutions; checkpoints, tests and benches still use it."""


def predict(counts: torch.Tensor) -> torch.Tensor:
    """Class with the most output spikes; ties go to the lowest index (contract section 4)."""
    return torch.argmax(counts, dim=1)
