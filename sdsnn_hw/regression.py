"""Random differential cases for the RTL regression and ``sdsnn fuzz``.

A case is drawn from its seed alone, so a failing case replays from one number. Cases
fall into build groups (the network shape, lanes, layouts and widths a simulator build
is made for: fc and conv layers, pooling, biases); within a group everything else
varies: sparsity from 0 to 100 % (of weights and of whole kernels), weights, biases,
thresholds (1 and ``V_MAX`` included), every leak shift, the membrane width below the
build's (through the saturation bounds), input rates, samples back to back.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from sdsnn_hw.export import IntegerLayer
from sdsnn_hw.layer_math import layer_current, layer_inputs
from sdsnn_hw.netspec import CONV, LayerShape, fc_spec, resolve
from sdsnn_hw.neuron import LifParams


@dataclass(frozen=True)
class BuildGroup:
    """A network shape, lane count, layouts and the widest weights, biases and membranes.

    Attributes:
        net: the layers in the paper's notation (:mod:`sdsnn_hw.netspec`).
        input_shape: the input map (channels, height, width).
        lanes: P.
        layout: the layout of every layer of its kind, several joined by ``,``.
        weight_bits, v_bits: the widest weights and membranes of the group's cases.
        bias_bits: the biases' width (0: no bias).
    """

    net: str
    input_shape: tuple[int, int, int]
    lanes: int
    layout: str
    weight_bits: int
    v_bits: int
    bias_bits: int = 0

    @property
    def shapes(self) -> tuple[LayerShape, ...]:
        return resolve(self.net, self.input_shape)


def _fc(sizes: tuple[int, ...], lanes: int, layout: str, weight_bits: int, v_bits: int):
    return BuildGroup(fc_spec(sizes[1:]), (sizes[0], 1, 1), lanes, layout, weight_bits, v_bits)


# The regression's groups: every lane count, every layout, weights from 2 to 8 bits,
# membranes up to 4..24 bits, one neuron, a single input, deep and wide networks;
# convolutions with kernels 1, 3 and 5 in every conv layout, pooling by 2 and 3
# before conv and fc layers, biases from 4 to 8 bits. One simulator build serves
# every case of a group.
CI_GROUPS = (
    _fc((1, 1), 1, "csr_fanout", 2, 4),
    _fc((6, 1), 8, "dense_rows", 8, 24),
    _fc((9, 5), 2, "csr_fanout", 5, 8),
    _fc((12, 9, 5), 4, "dense_rows", 6, 12),
    _fc((12, 9, 5), 8, "csr_fanout", 3, 16),
    _fc((20, 16, 4), 1, "dense_rows", 7, 6),
    _fc((7, 16, 6, 3), 2, "dense_rows", 4, 16),
    _fc((7, 16, 6, 3), 8, "csr_fanout", 8, 10),
    # inputs over several 32-bit spike-queue words, one-word fan-outs back to back
    _fc((100, 7, 3), 4, "csr_fanout", 5, 12),
    _fc((40, 33, 2), 1, "dense_rows", 3, 8),
    BuildGroup("3C3-FC4", (1, 6, 6), 2, "kernel_list,csr_fanout", 4, 10, 5),
    BuildGroup("4C3-AP2-3C3-AP2-FC3", (2, 8, 8), 4, "dense_kernels,dense_rows", 3, 12, 6),
    BuildGroup("2C5-FC2", (1, 5, 5), 1, "tap_list,dense_rows", 6, 16, 4),
    BuildGroup("5C1-AP2-FC3", (3, 4, 4), 8, "dense_kernels,csr_fanout", 8, 24, 8),
    BuildGroup("AP3-4C3-FC3", (1, 9, 9), 2, "kernel_list,dense_rows", 5, 12),
    BuildGroup("AP2-FC5-FC3", (2, 4, 4), 4, "csr_fanout", 4, 10, 6),
    BuildGroup("6C3-AP2-5C3-FC3", (2, 6, 6), 8, "tap_list,csr_fanout", 4, 12, 6),
)


@dataclass(frozen=True)
class Case:
    """One random network and its inputs, drawn from ``seed``."""

    seed: int
    group: BuildGroup
    layers: list[IntegerLayer]
    inputs: np.ndarray

    def replay_command(self, simulator: str = "verilator") -> str:
        """The command that runs this case alone (on ``simulator``)."""
        option = "" if simulator == "verilator" else f" --simulator {simulator}"
        return f"sdsnn fuzz --cases 1 --seed {self.seed}{option}"


def _density(rng: np.random.Generator) -> float:
    """0 or 1 sometimes, else anything between."""
    return float(rng.choice([0.0, 1.0, rng.uniform(0.05, 1.0)], p=[0.1, 0.2, 0.7]))


def draw_case(seed: int) -> Case:
    """The case of ``seed``, in build group ``CI_GROUPS[seed % len(CI_GROUPS)]``.

    Weights keep a random share of their synapses; conv layers also lose whole kernels
    (the unit SD-SNN prunes), so a layer runs from no kernel to every kernel.
    """
    rng = np.random.default_rng(seed)
    group = CI_GROUPS[seed % len(CI_GROUPS)]
    limit = (1 << (group.weight_bits - 1)) - 1
    layers = []
    for shape in group.shapes:
        weight_shape = shape.weight_shape
        weights = rng.integers(-limit, limit + 1, size=weight_shape)
        weights *= rng.random(weight_shape) < _density(rng)
        if shape.kind == CONV:
            weights *= (rng.random(weight_shape[:2]) < _density(rng))[..., None, None]
        bias = None
        if group.bias_bits:
            largest = (1 << (group.bias_bits - 1)) - 1
            scale = int(rng.choice([largest, min(largest, limit)]))
            bias = rng.integers(-scale, scale + 1, size=shape.out_channels)
        fan_in = shape.fan_in * shape.pool**2
        v_bits = int(rng.integers(2, group.v_bits + 1)) if rng.random() < 0.5 else group.v_bits
        v_max = (1 << (v_bits - 1)) - 1
        high = max(2, min(v_max, 3 * limit * min(fan_in, 4)))
        v_th = int(
            rng.choice([1, v_max, rng.integers(1, high + 1)])
            if rng.random() < 0.3
            else rng.integers(1, high + 1)
        )
        lif = LifParams(v_th=min(v_th, v_max), leak_shift=int(rng.integers(v_bits)), v_bits=v_bits)
        layer = IntegerLayer(
            weights, lif, group.weight_bits, 1.0, np.arange(shape.n_out), shape.kind,
            bias, group.bias_bits, shape.pool, shape.in_shape,
        )  # fmt: skip
        layers.append(layer)
    samples, steps = int(rng.integers(1, 4)), int(rng.integers(1, 7))
    rate = float(rng.uniform(0.0, 1.0))
    inputs = (rng.random((samples, steps, math.prod(group.input_shape))) < rate).astype(np.uint8)
    return Case(seed, group, layers, inputs)


def coverage(case: Case) -> Counter:
    """Events the case exercises: saturation at both ends, ``v == V_TH``, spiking inputs
    with no synapse, layers with no synapse at all, one-neuron layers, pooled counts
    above 1, conv kernels with taps outside the map."""
    events: Counter = Counter()
    x = case.inputs.astype(np.int64)
    samples, steps = x.shape[:2]
    for layer in case.layers:
        lif, w, shape = layer.lif, layer.weights, layer.shape
        conv = shape.kind == CONV
        flat = layer_inputs(x.reshape(samples * steps, -1), shape.in_shape, shape.pool, conv)
        counts = flat.reshape(samples * steps, -1)
        used = np.any(w != 0, axis=(0, 2, 3) if conv else 0)
        if conv:
            used = np.repeat(used, counts.shape[1] // len(used))
            events["conv_edge_spikes"] += int(counts[:, _edge_mask(shape)].sum())
        events["empty_fanout_spikes"] += int(counts[:, ~used].sum())
        events["pooled_counts"] += int((counts > 1).sum())
        events["all_pruned_layers"] += int(not np.any(w))
        events["one_neuron_layers"] += int(shape.n_out == 1)
        current = layer_current(shape.kind, w, layer.bias, flat).reshape(samples, steps, -1)
        u = np.zeros((samples, shape.n_out), np.int64)
        out = np.zeros((samples, steps, shape.n_out), np.int64)
        for t in range(steps):
            raw = np.right_shift(u, lif.leak_shift) + current[:, t]
            v = np.clip(raw, lif.v_min, lif.v_max)
            events["saturate_high"] += int((raw > lif.v_max).sum())
            events["saturate_low"] += int((raw < lif.v_min).sum())
            events["threshold_equal"] += int((v == lif.v_th).sum())
            fire = v >= lif.v_th
            u = np.where(fire, 0, v)
            out[:, t] = fire
        x = out
    return events


def _edge_mask(shape: LayerShape) -> np.ndarray:
    """Pooled input positions (C order) where some kernel tap lands outside the map."""
    channels, height, width = shape.pooled_shape
    reach = shape.kernel // 2
    rows, cols = np.arange(height), np.arange(width)
    edge = ((rows < reach) | (rows >= height - reach))[:, None] | (
        (cols < reach) | (cols >= width - reach)
    )[None, :]
    return np.tile(edge.ravel(), channels)
