"""Integer golden model: runs an exported network from its files alone.

Every number follows docs/hardware-contract.md; the RTL and HLS simulations are
compared against this model spike for spike and membrane for membrane.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from sdsnn_hw.manifest import (
    MANIFEST_NAME,
    LayerSpec,
    ManifestError,
    load_manifest,
    read_memory,
)
from sdsnn_hw.neuron import LifParams, accumulator_bits, lif_step
from sdsnn_hw.sparse import decode_fanout


@dataclass(frozen=True)
class GoldenLayer:
    """Dense int64 weights (n_out, n_in) and the layer's neuron parameters."""

    name: str
    weights: np.ndarray
    lif: LifParams

    @property
    def fanout(self) -> np.ndarray:
        """Stored synapses per input: the synaptic operations one input spike costs."""
        return np.count_nonzero(self.weights, axis=0)


@dataclass(frozen=True)
class GoldenNetwork:
    layers: list[GoldenLayer]
    time_steps: int
    classes: int

    @property
    def inputs(self) -> int:
        """Input width of the first layer."""
        return self.layers[0].weights.shape[1]

    @classmethod
    def from_export(cls, folder: Path) -> GoldenNetwork:
        """Load from an export folder, verifying every checksum."""
        manifest = load_manifest(folder)
        layers = [_load_layer(Path(folder), i, spec) for i, spec in enumerate(manifest.layers)]
        return cls(layers, manifest.time_steps, manifest.classes)


def _load_layer(folder: Path, index: int, spec: LayerSpec) -> GoldenLayer:
    ptr = read_memory(folder, spec.ptr)
    syn = read_memory(folder, spec.syn)
    try:
        weights = decode_fanout(ptr, syn, spec.n_out, spec.index_bits, spec.weight_bits)
    except ValueError as exc:
        raise ManifestError(f"{folder / spec.syn.file}: {exc}") from None
    if np.count_nonzero(weights) != spec.nnz:
        raise ManifestError(
            f"{folder / spec.syn.file}: holds {np.count_nonzero(weights)} "
            f"non-zero synapses, manifest field 'nnz' says {spec.nnz}"
        )
    # The hardware's current is exact only at this width (contract section 3).
    acc_bits = accumulator_bits(weights, spec.weight_bits)
    if spec.acc_bits != acc_bits:
        raise ManifestError(
            f"{folder / MANIFEST_NAME}: field 'layers[{index}].acc_bits' must be {acc_bits} "
            f"(derived from the weights in {spec.syn.file}), got {spec.acc_bits}"
        )
    return GoldenLayer(spec.name, weights, spec.lif)


@dataclass(frozen=True)
class GoldenResult:
    """Everything the hardware must reproduce, per sample.

    Attributes:
        spikes: per layer, uint8 (samples, time, neurons).
        membranes: per layer, int64 (samples, time, neurons), after reset.
        counts: output spike counts (samples, classes).
        predictions: argmax of counts, ties to the lowest index.
        synaptic_ops: synapses read and accumulated per sample.
        step_cycles: clock cycles the RTL core takes per sample and time step (contract
            section 7), (samples, time).
        mem_reads: pointer and synapse words the RTL core reads per sample.
    """

    spikes: list[np.ndarray]
    membranes: list[np.ndarray]
    counts: np.ndarray
    predictions: np.ndarray
    synaptic_ops: np.ndarray
    step_cycles: np.ndarray
    mem_reads: np.ndarray

    @property
    def cycles(self) -> np.ndarray:
        """Clock cycles per sample."""
        return self.step_cycles.sum(axis=1)


def run_network(net: GoldenNetwork, spikes_in: np.ndarray, progress: bool = False) -> GoldenResult:
    """Run input spikes (samples, time, inputs) through the network, all samples at once."""
    samples, steps, _ = spikes_in.shape
    membranes = [np.zeros((samples, layer.weights.shape[0]), np.int64) for layer in net.layers]
    spike_log = [np.zeros((samples, steps, m.shape[1]), np.uint8) for m in membranes]
    membrane_log = [np.zeros((samples, steps, m.shape[1]), np.int64) for m in membranes]
    synaptic_ops = np.zeros(samples, np.int64)
    mem_reads = np.zeros(samples, np.int64)
    step_cycles = np.zeros((samples, steps), np.int64)
    for t in tqdm(range(steps), desc="golden", unit="step", disable=not progress):
        x = spikes_in[:, t]
        for i, layer in enumerate(net.layers):
            x = x.astype(np.int64)
            n_out, n_in = layer.weights.shape
            spiking = x.sum(axis=1)
            ops = x @ layer.fanout
            synaptic_ops += ops
            mem_reads += 2 * spiking + ops
            # start + one scan cycle per input + fetch and drain per spiking input + one
            # cycle per synapse + scan end + one update cycle per neuron
            step_cycles[:, t] += 2 + n_in + 2 * spiking + ops + n_out
            x, membranes[i] = lif_step(x @ layer.weights.T, membranes[i], layer.lif)
            spike_log[i][:, t] = x
            membrane_log[i][:, t] = membranes[i]
    counts = spike_log[-1].sum(axis=1, dtype=np.int64)
    predictions = np.argmax(counts, axis=1)
    return GoldenResult(
        spike_log, membrane_log, counts, predictions, synaptic_ops, step_cycles, mem_reads
    )
