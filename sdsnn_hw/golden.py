"""Integer golden model: runs an exported network from its files alone.

Every number follows docs/hardware-contract.md; the RTL and HLS simulations are
compared against this model spike for spike and membrane for membrane, and their
counters against the cycle model of :mod:`sdsnn_hw.microarch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from sdsnn_hw.layouts import LayoutImage, decode, encode_choice
from sdsnn_hw.manifest import (
    MANIFEST_NAME,
    LayerSpec,
    ManifestError,
    load_manifest,
    read_memory,
)
from sdsnn_hw.microarch import Costs, network_costs
from sdsnn_hw.neuron import LifParams, accumulator_bits, lif_step


@dataclass(frozen=True)
class GoldenLayer:
    """Dense int64 weights (n_out, n_in), the neuron parameters and the memory layout."""

    name: str
    weights: np.ndarray
    lif: LifParams
    layout: str


@dataclass(frozen=True)
class GoldenNetwork:
    layers: list[GoldenLayer]
    time_steps: int
    classes: int
    lanes: int

    @property
    def inputs(self) -> int:
        """Input width of the first layer."""
        return self.layers[0].weights.shape[1]

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
    image = LayoutImage(
        layout=spec.layout,
        lanes=lanes,
        n_in=spec.n_in,
        n_out=spec.n_out,
        weight_bits=spec.weight_bits,
        addr_bits=spec.addr_bits,
        ptr=np.asarray(ptr, dtype=np.int64),
        ptr_bits=spec.ptr_bits,
        words=tuple(words),
        word_bits=spec.weights.width,
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
    for key, expected in (
        ("nnz", int(np.count_nonzero(weights))),
        ("acc_bits", accumulator_bits(weights, spec.weight_bits)),
        ("layout_bits", sizes),
    ):
        if getattr(spec, key) != expected:
            raise ManifestError(
                f"{where}{key}' must be {expected} (derived from the weights in "
                f"{spec.weights.file}), got {getattr(spec, key)}"
            )
    return GoldenLayer(spec.name, weights, spec.lif, spec.layout)


@dataclass(frozen=True)
class GoldenResult:
    """Everything the hardware must reproduce, per sample.

    Attributes:
        spikes: per layer, uint8 (samples, time, neurons).
        membranes: per layer, int64 (samples, time, neurons), after reset.
        counts: output spike counts (samples, classes).
        predictions: argmax of counts, ties to the lowest index.
        costs: cycles, synaptic operations, memory accesses and the lane bound per
            sample (and cycles per step), as the core spends them (:mod:`microarch`).
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
    membranes = [np.zeros((samples, layer.weights.shape[0]), np.int64) for layer in net.layers]
    spike_log = [np.zeros((samples, steps, m.shape[1]), np.uint8) for m in membranes]
    membrane_log = [np.zeros((samples, steps, m.shape[1]), np.int64) for m in membranes]
    for t in tqdm(range(steps), desc="golden", unit="step", disable=not progress):
        x = spikes_in[:, t]
        for i, layer in enumerate(net.layers):
            x, membranes[i] = lif_step(
                x.astype(np.int64) @ layer.weights.T, membranes[i], layer.lif
            )
            spike_log[i][:, t] = x
            membrane_log[i][:, t] = membranes[i]
    counts = spike_log[-1].sum(axis=1, dtype=np.int64)
    layer_inputs = [spikes_in, *spike_log[:-1]]
    costs = network_costs(
        [layer.weights for layer in net.layers],
        [layer.layout for layer in net.layers],
        net.lanes,
        layer_inputs,
    )
    return GoldenResult(spike_log, membrane_log, counts, np.argmax(counts, axis=1), costs)
