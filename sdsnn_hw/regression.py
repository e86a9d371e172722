"""Random differential cases for the RTL regression and ``sdsnn fuzz``.

A case is drawn from its seed alone, so a failing case replays from one number. Cases
fall into build groups (the network shape, lanes, layouts and widths a simulator build
is made for); within a group everything else varies: sparsity from 0 to 100 %,
weights, thresholds (1 and ``V_MAX`` included), every leak shift, the membrane width
below the build's (through the saturation bounds), input rates, samples back to back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from sdsnn_hw.export import IntegerLayer
from sdsnn_hw.neuron import LifParams


@dataclass(frozen=True)
class BuildGroup:
    """A network shape, lane count, layout and the widest weights and membranes."""

    sizes: tuple[int, ...]
    lanes: int
    layout: str
    weight_bits: int
    v_bits: int


# The regression's groups: every lane count, both layouts, weights from 2 to 8 bits,
# membranes up to 4..24 bits, one neuron, a single input, deep and wide networks. One
# simulator build serves every case of a shape.
CI_GROUPS = (
    BuildGroup((1, 1), 1, "csr_fanout", 2, 4),
    BuildGroup((6, 1), 8, "dense_rows", 8, 24),
    BuildGroup((9, 5), 2, "csr_fanout", 5, 8),
    BuildGroup((12, 9, 5), 4, "dense_rows", 6, 12),
    BuildGroup((12, 9, 5), 8, "csr_fanout", 3, 16),
    BuildGroup((20, 16, 4), 1, "dense_rows", 7, 6),
    BuildGroup((7, 16, 6, 3), 2, "dense_rows", 4, 16),
    BuildGroup((7, 16, 6, 3), 8, "csr_fanout", 8, 10),
    # inputs over several 32-bit spike-queue words, one-word fan-outs back to back
    BuildGroup((100, 7, 3), 4, "csr_fanout", 5, 12),
    BuildGroup((40, 33, 2), 1, "dense_rows", 3, 8),
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


def draw_case(seed: int) -> Case:
    """The case of ``seed``, in build group ``CI_GROUPS[seed % len(CI_GROUPS)]``."""
    rng = np.random.default_rng(seed)
    group = CI_GROUPS[seed % len(CI_GROUPS)]
    limit = (1 << (group.weight_bits - 1)) - 1
    layers = []
    for n_in, n_out in zip(group.sizes, group.sizes[1:], strict=False):
        density = float(rng.choice([0.0, 1.0, rng.uniform(0.05, 1.0)], p=[0.1, 0.2, 0.7]))
        weights = rng.integers(-limit, limit + 1, size=(n_out, n_in))
        weights *= rng.random((n_out, n_in)) < density
        v_bits = int(rng.integers(2, group.v_bits + 1)) if rng.random() < 0.5 else group.v_bits
        v_max = (1 << (v_bits - 1)) - 1
        v_th = int(
            rng.choice([1, v_max, rng.integers(1, max(2, min(v_max, 3 * limit)) + 1)])
            if rng.random() < 0.3
            else rng.integers(1, max(2, min(v_max, 3 * limit)) + 1)
        )
        lif = LifParams(v_th=min(v_th, v_max), leak_shift=int(rng.integers(v_bits)), v_bits=v_bits)
        layers.append(IntegerLayer(weights, lif, group.weight_bits, 1.0, np.arange(n_out)))
    samples, steps = int(rng.integers(1, 4)), int(rng.integers(1, 7))
    rate = float(rng.uniform(0.0, 1.0))
    inputs = (rng.random((samples, steps, group.sizes[0])) < rate).astype(np.uint8)
    return Case(seed, group, layers, inputs)


def coverage(case: Case) -> Counter:
    """Events the case exercises: saturation at both ends, ``v == V_TH``, spiking inputs
    with no synapse, layers with no synapse at all, one-neuron layers."""
    events: Counter = Counter()
    x = case.inputs.astype(np.int64)
    for layer in case.layers:
        lif, w = layer.lif, layer.weights
        empty_inputs = ~np.any(w != 0, axis=0)
        events["empty_fanout_spikes"] += int(x[..., empty_inputs].sum())
        events["all_pruned_layers"] += int(not np.any(w))
        events["one_neuron_layers"] += int(w.shape[0] == 1)
        u = np.zeros((x.shape[0], w.shape[0]), np.int64)
        out = np.zeros((*x.shape[:2], w.shape[0]), np.int64)
        for t in range(x.shape[1]):
            raw = np.right_shift(u, lif.leak_shift) + x[:, t] @ w.T
            v = np.clip(raw, lif.v_min, lif.v_max)
            events["saturate_high"] += int((raw > lif.v_max).sum())
            events["saturate_low"] += int((raw < lif.v_min).sum())
            events["threshold_equal"] += int((v == lif.v_th).sum())
            fire = v >= lif.v_th
            u = np.where(fire, 0, v)
            out[:, t] = fire
        x = out
    return events
