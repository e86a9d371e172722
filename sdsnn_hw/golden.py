"""Integer golden model: runs an exported network from its files alone.

Every number follows docs/hardware-contract.md; the RTL and HLS simulations are
compared against this model spike for spike and membrane for membrane, and their
counters against the cycle models of :mod:`sdsnn_hw.microarch` (fc layers) and
:mod:`sdsnn_hw.microarch_conv` (conv layers). The integer arithmetic of a layer step
is :mod:`sdsnn_hw.layer_math`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from sdsnn_hw import microarch, microarch_conv
from sdsnn_hw.layer_math import acc_bits, layer_current, layer_inputs
from sdsnn_hw.layouts import LayoutImage, decode, encode_choice
from sdsnn_hw.manifest import (
    MANIFEST_NAME,
    LayerSpec,
    ManifestError,
    load_manifest,
    read_memory,
)
from sdsnn_hw.microarch import Costs
from sdsnn_hw.netspec import CONV, FC, LayerShape
from sdsnn_hw.neuron import LifParams, lif_step

TRACE_BUDGET = 1 << 24
"""Neuron values (one per neuron, step and sample) a chunk of :func:`run_in_chunks` holds."""


@dataclass(frozen=True)
class GoldenLayer:
    """Decoded integer weights, the neuron parameters, the memory layout and the shape.

    Attributes:
        name: memory file prefix.
        weights: int64, fc (n_out, n_in), conv (out_channels, in_channels, K, K).
        lif: neuron parameters.
        layout: the weight memory layout.
        kind: ``fc`` or ``conv``.
        bias: int64 per neuron (fc) or output channel (conv), or None.
        pool: the AP<k> folded into the input (1: none).
        in_shape: the input map before pooling; None: a flat fc input (n_in, 1, 1).
    """

    name: str
    weights: np.ndarray
    lif: LifParams
    layout: str
    kind: str = FC
    bias: np.ndarray | None = None
    pool: int = 1
    in_shape: tuple[int, int, int] | None = None

    @property
    def shape(self) -> LayerShape:
        return LayerShape.of_weights(self.kind, self.weights, self.pool, self.in_shape)

    @property
    def n_out(self) -> int:
        """Neurons."""
        return self.shape.n_out


@dataclass(frozen=True)
class GoldenNetwork:
    layers: list[GoldenLayer]
    time_steps: int
    classes: int
    lanes: int

    @property
    def inputs(self) -> int:
        """Input width of the first layer (its input map before pooling, flattened)."""
        return math.prod(self.layers[0].shape.in_shape)

    @classmethod
    def from_export(cls, folder: Path) -> GoldenNetwork:
        """Load from an export folder, verifying every checksum and derived field."""
        manifest = load_manifest(folder)
        layers = [
            _load_layer(Path(folder), i, spec, manifest.lanes)
            for i, spec in enumerate(manifest.layers)
        ]
        return cls(layers, manifest.time_steps, manifest.classes, manifest.lanes)


def _load_layer(folder: Path, index: int, spec: LayerSpec, lanes: int) -> GoldenLayer:
    ptr = read_memory(folder, spec.ptr)
    words = read_memory(folder, spec.weights)
    conv = spec.kind == CONV
    image = LayoutImage(
        layout=spec.layout,
        lanes=lanes,
        n_in=spec.in_channels if conv else spec.n_in,
        n_out=spec.out_channels,
        weight_bits=spec.weight_bits,
        addr_bits=spec.addr_bits,
        ptr=np.asarray(ptr, dtype=np.int64),
        ptr_bits=spec.ptr_bits,
        words=tuple(words),
        word_bits=spec.weights.width,
        taps=spec.taps,
    )
    where = f"{folder / MANIFEST_NAME}: field 'layers[{index}]."
    try:
        weights = decode(image)
    except ValueError as exc:
        raise ManifestError(f"{folder / spec.weights.file}: {exc}") from None
    narrow = -(1 << (spec.weight_bits - 1))
    if np.any(weights == narrow):
        raise ManifestError(
            f"{folder / spec.weights.file}: a weight is the unused code {narrow} (narrow range)"
        )
    # Every derived field must be what the decoded weights derive to, and the files
    # must be the one canonical encoding of those weights.
    canonical, sizes = encode_choice(weights, spec.weight_bits, lanes, spec.layout)
    if canonical.words != image.words or not np.array_equal(canonical.ptr, image.ptr):
        raise ManifestError(
            f"{folder / spec.weights.file}: not the canonical {spec.layout} encoding of its "
            "weights (words out of order, or padding that is not zero)"
        )
    bias = None if spec.bias is None else _load_bias(folder, spec)
    for key, expected in (
        ("nnz", int(np.count_nonzero(weights))),
        ("acc_bits", acc_bits(weights, spec.weight_bits, spec.pool, bias)),
        ("layout_bits", sizes),
    ):
        if getattr(spec, key) != expected:
            raise ManifestError(
                f"{where}{key}' must be {expected} (derived from the weights in "
                f"{spec.weights.file}), got {getattr(spec, key)}"
            )
    in_shape = (spec.in_channels, spec.in_height, spec.in_width)
    return GoldenLayer(
        spec.name, weights, spec.lif, spec.layout, spec.kind, bias, spec.pool, in_shape
    )


def _load_bias(folder: Path, spec: LayerSpec) -> np.ndarray:
    """The biases from their memory: ``bias_bits`` two's complement, narrow range."""
    bits = spec.bias_bits
    codes = np.asarray(read_memory(folder, spec.bias), dtype=np.int64)
    bias = np.where(codes >= 1 << (bits - 1), codes - (1 << bits), codes)
    if np.any(bias == -(1 << (bits - 1))):
        raise ManifestError(
            f"{folder / spec.bias.file}: a bias is the unused code {-(1 << (bits - 1))} "
            "(narrow range)"
        )
    return bias


@dataclass(frozen=True)
class GoldenResult:
    """Everything the hardware must reproduce, per sample.

    Attributes:
        spikes: per layer, uint8 (samples, time, neurons).
        membranes: per layer, int64 (samples, time, neurons), after reset.
        counts: output spike counts (samples, classes).
        predictions: argmax of counts, ties to the lowest index.
        costs: cycles, synaptic operations, memory accesses and the lane bound per
            sample (and cycles per step), as the core spends them (:mod:`microarch`,
            :mod:`microarch_conv`).
    """

    spikes: list[np.ndarray]
    membranes: list[np.ndarray]
    counts: np.ndarray
    predictions: np.ndarray
    costs: Costs

    @property
    def synaptic_ops(self) -> np.ndarray:
        return self.costs.synops

    @property
    def cycles(self) -> np.ndarray:
        return self.costs.cycles

    @property
    def step_cycles(self) -> np.ndarray:
        return self.costs.step_cycles


def run_network(net: GoldenNetwork, spikes_in: np.ndarray, progress: bool = False) -> GoldenResult:
    """Run input spikes (samples, time, inputs) through the network, all samples at once."""
    samples, steps, _ = spikes_in.shape
    membranes = [np.zeros((samples, layer.n_out), np.int64) for layer in net.layers]
    spike_log = [np.zeros((samples, steps, m.shape[1]), np.uint8) for m in membranes]
    membrane_log = [np.zeros((samples, steps, m.shape[1]), np.int64) for m in membranes]
    for t in tqdm(range(steps), desc="golden", unit="step", disable=not progress):
        x = spikes_in[:, t]
        for i, layer in enumerate(net.layers):
            shape = layer.shape
            inputs = layer_inputs(x, shape.in_shape, shape.pool, as_map=layer.kind == CONV)
            current = layer_current(layer.kind, layer.weights, layer.bias, inputs)
            x, membranes[i] = lif_step(current, membranes[i], layer.lif)
            spike_log[i][:, t] = x
            membrane_log[i][:, t] = membranes[i]
    counts = spike_log[-1].sum(axis=1, dtype=np.int64)
    costs = costs_of(net, [spikes_in, *spike_log[:-1]])
    return GoldenResult(spike_log, membrane_log, counts, np.argmax(counts, axis=1), costs)


def costs_of(net: GoldenNetwork, layer_spikes: list[np.ndarray]) -> Costs:
    """Costs of every layer, each driven by ``layer_spikes[l]`` (samples, time, inputs):
    fc layers by :mod:`sdsnn_hw.microarch`, conv layers by :mod:`sdsnn_hw.microarch_conv`.

    A pooled input is one event per spike of its window, so the cost models take the
    window counts as the input of each event position.
    """
    total = None
    for layer, spikes in zip(net.layers, layer_spikes, strict=True):
        samples, steps = spikes.shape[:2]
        shape = layer.shape
        conv = layer.kind == CONV
        flat = spikes.reshape(samples * steps, -1)
        inputs = layer_inputs(flat, shape.in_shape, shape.pool, as_map=conv)
        inputs = inputs.reshape(samples, steps, *inputs.shape[1:])
        model = microarch_conv if conv else microarch
        part = model.layer_costs(layer.weights, layer.layout, net.lanes, inputs)
        total = part if total is None else total + part
    return total


def run_in_chunks(
    net: GoldenNetwork, spikes_in: np.ndarray, progress: bool = False
) -> Iterator[tuple[slice, GoldenResult]]:
    """:func:`run_network` on consecutive chunks of samples, each small enough that its
    traces hold about :data:`TRACE_BUDGET` neuron values; yields (samples, result)."""
    samples, steps, _ = spikes_in.shape
    neurons = sum(layer.n_out for layer in net.layers)
    size = max(1, TRACE_BUDGET // (neurons * steps))
    with tqdm(total=samples, desc="golden", unit="sample", disable=not progress) as bar:
        for start in range(0, max(samples, 1), size):  # an empty stimulus is one empty chunk
            part = slice(start, min(start + size, samples))
            yield part, run_network(net, spikes_in[part])
            bar.update(part.stop - part.start)


def concat_costs(parts: list[Costs]) -> Costs:
    """Per-sample costs of consecutive chunks, joined along the samples."""
    return Costs(
        **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Costs)}
    )
