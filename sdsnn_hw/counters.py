"""Operation and memory-access counts per layer and per memory, and the two baselines.

The energy model (:mod:`sdsnn_hw.energy`) prices what this module counts. Three
networks are counted on the same input spikes, each as the P-lane core would run it:

- ``sdsnn``: the exported network. Every number comes from the cycle models
  (:mod:`sdsnn_hw.microarch`, :mod:`sdsnn_hw.microarch_conv`, which the RTL counters
  equal), taken one layer at a time instead of summed, plus each layer's output spikes
  from the golden model.
- ``dense_snn``: the same network unpruned: the trained layer sizes (no neuron
  removed) with every weight non-zero, laid out densely (``dense_rows``,
  ``dense_kernels``). Each layer sees the measured input events; an input unit the
  export removed is assumed as active as the mean kept one, so the event-driven counts
  scale by trained / exported input units, and its neurons spike at the measured mean
  rate per neuron.
- ``ann``: the equivalent quantized ANN: the dense layers in one pass (no time steps),
  every input present once, one MAC per weight per output position (a convolution's
  in-bounds taps), ``weight_bits``-bit weights and activations, an accumulator
  ``weight_bits - 1`` bits wider than the spiking one, no membranes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from sdsnn_hw.golden import GoldenLayer, GoldenNetwork, GoldenResult, costs_of
from sdsnn_hw.manifest import LayerSpec, Manifest
from sdsnn_hw.microarch import Costs
from sdsnn_hw.netspec import CONV, LayerShape, NetSpecError, resolve

NETWORKS = ("sdsnn", "dense_snn", "ann")
DENSE_LAYOUT = {"fc": "dense_rows", "conv": "dense_kernels"}
# Cost fields that grow with the input events; the rest is the update pass of each step.
_EVENT_FIELDS = ("synops", "ptr_reads", "wrom_reads", "acc_reads", "acc_writes", "bound", "cycles")
# Which cost fields are the reads and writes of each memory (None: not accessed that way).
_ACCESSES = {
    "weights": ("wrom_reads", None),
    "pointers": ("ptr_reads", None),
    "biases": ("mem_reads", None),  # each lane reads its unit's bias at every update address
    "accumulators": ("acc_reads", "acc_writes"),
    "membranes": ("mem_reads", "mem_writes"),
    "activations": ("inputs", None),  # ANN: one activation read per input
    "outputs": (None, "mem_writes"),  # ANN: one activation written per neuron
}


@dataclass(frozen=True)
class MemoryCount:
    """Accesses per inference to one memory of a layer.

    Attributes:
        memory: a key of ``_ACCESSES`` (``weights``, ``pointers``, ``biases``,
            ``accumulators``, ``membranes``; the ANN's ``activations`` and ``outputs``).
        width: bits per word of one array.
        depth: words per array.
        arrays: copies or lane banks; an access touches one array.
        reads, writes: words read and written per inference, all arrays together.
        block_ram: the core asks for block RAM here (the weight ROMs).
    """

    memory: str
    width: int
    depth: int
    arrays: int
    reads: float
    writes: float
    block_ram: bool = False

    @property
    def array_bits(self) -> int:
        return self.width * self.depth


@dataclass(frozen=True)
class LayerCount:
    """Operations of one layer per inference.

    Attributes:
        name: the layer's memory prefix (``l0`` ...).
        kind: ``fc`` or ``conv``.
        synops: synaptic additions (a non-zero weight accumulated; the ANN's MACs).
        acc_bits: width of a synaptic addition (the accumulator).
        mac_bits: operand width of the multiplication in a MAC (0: additions only).
        updates: neuron updates (every lane at every bank address, every step).
        update_bits: width of the update's two additions (leak and add, threshold).
        spikes: output spikes.
        cycles, bound: core cycles and the lane bound B(P).
        memories: accesses per memory.
    """

    name: str
    kind: str
    synops: float
    acc_bits: int
    mac_bits: int
    updates: float
    update_bits: int
    spikes: float
    cycles: float
    bound: float
    memories: tuple[MemoryCount, ...]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class NetworkCount:
    """Counts of one network per inference, the mean over ``samples`` inputs."""

    network: str
    samples: int
    lanes: int
    layers: tuple[LayerCount, ...]

    @property
    def cycles(self) -> float:
        return sum(layer.cycles for layer in self.layers)


def trained_shapes(manifest: Manifest) -> tuple[LayerShape, ...] | None:
    """The trained layer shapes from the manifest's configuration; None without one."""
    network = manifest.config.get("network") if isinstance(manifest.config, dict) else None
    try:
        shapes = resolve(str(network["net"]), tuple(network["input_shape"]), manifest.classes)
    except (TypeError, KeyError, ValueError, NetSpecError):
        return None
    return shapes if len(shapes) == len(manifest.layers) else None


def _input_units(shape: LayerShape) -> int:
    """Input units: fc inputs (after pooling) or conv input channels."""
    return shape.in_shape[0] if shape.kind == CONV else shape.n_in


def _positions(shape: LayerShape) -> int:
    """Neurons per output unit: the output map's positions (1 for fc)."""
    _, height, width = shape.out_shape
    return height * width


def _mean(costs: Costs) -> dict[str, float]:
    return {f.name: float(np.mean(getattr(costs, f.name))) for f in fields(Costs)}


def _unsigned_bits(value: int) -> int:
    return max(1, int(value).bit_length())


def _one_per_window(shape: LayerShape) -> np.ndarray:
    """One step with one spike in every pooling window: one activation per input."""
    channels, height, width = shape.in_shape
    grid = np.zeros((channels, height, width), np.uint8)
    grid[:, :: shape.pool, :: shape.pool] = 1
    return grid.reshape(1, 1, -1)


def _memory_counts(
    dims: dict[str, tuple[int, int, int]], costs: dict[str, float]
) -> tuple[MemoryCount, ...]:
    """Each memory's (width, depth, arrays) with its reads and writes from ``costs``."""
    out = []
    for memory, (width, depth, arrays) in dims.items():
        read, write = _ACCESSES[memory]
        out.append(
            MemoryCount(
                memory, width, depth, arrays,
                costs[read] if read else 0.0, costs[write] if write else 0.0,
                block_ram=memory == "weights",
            )
        )  # fmt: skip
    return tuple(out)


class CountAccumulator:
    """Collects per-layer counts chunk by chunk (:func:`sdsnn_hw.golden.run_in_chunks`).

    Args:
        net: the exported network.
        manifest: its manifest (memory widths and depths, the trained shapes).
    """

    def __init__(self, net: GoldenNetwork, manifest: Manifest) -> None:
        self.net, self.manifest = net, manifest
        shapes = trained_shapes(manifest)
        self.trained_from_config = shapes is not None
        self.shapes = shapes or tuple(layer.shape for layer in net.layers)
        self.samples = 0
        self._costs: list[list[dict[str, float]]] = [[{}, {}] for _ in net.layers]
        self._spikes = [0.0] * len(net.layers)

    def _scale(self, index: int) -> float:
        """Trained over exported input units of layer ``index``."""
        return _input_units(self.shapes[index]) / _input_units(self.net.layers[index].shape)

    def _dense(self, index: int, time_steps: int | None = None) -> GoldenNetwork:
        """Layer ``index`` alone, with its trained units, every weight 1, laid out densely."""
        layer = self.net.layers[index]
        shape = (self.shapes[index].out_channels, *layer.weights.shape[1:])
        dense = dataclasses.replace(
            layer, weights=np.ones(shape, np.int64), layout=DENSE_LAYOUT[layer.kind]
        )
        return self._alone(dense, time_steps)

    def _alone(self, layer: GoldenLayer, time_steps: int | None = None) -> GoldenNetwork:
        steps = time_steps or self.net.time_steps
        return GoldenNetwork([layer], steps, self.net.classes, self.net.lanes)

    def _scaled(self, index: int, net: GoldenNetwork, x: np.ndarray) -> dict[str, float]:
        """Mean costs on ``x``, the event-driven part scaled to the trained input units."""
        events = _mean(costs_of(net, [x]))
        fixed = _mean(costs_of(net, [np.zeros_like(x[:1])]))  # the same for every sample
        scale = self._scale(index)
        return {
            key: fixed[key] + scale * (value - fixed[key]) if key in _EVENT_FIELDS else value
            for key, value in events.items()
        }

    def add(self, spikes_in: np.ndarray, result: GoldenResult) -> None:
        """Count one chunk: its input spikes (samples, time, inputs) and golden result."""
        samples = len(spikes_in)
        if samples == 0:
            return
        inputs = [spikes_in, *result.spikes[:-1]]
        for i, (layer, x) in enumerate(zip(self.net.layers, inputs, strict=True)):
            parts = (_mean(costs_of(self._alone(layer), [x])), self._scaled(i, self._dense(i), x))
            for total, part in zip(self._costs[i], parts, strict=True):
                for key, value in part.items():
                    total[key] = total.get(key, 0.0) + value * samples
            self._spikes[i] += float(result.spikes[i].sum())
        self.samples += samples

    def counts(self) -> dict[str, NetworkCount]:
        """Per-inference counts of the three networks (:data:`NETWORKS`)."""
        if self.samples == 0:
            raise ValueError("no samples counted")
        n, lanes = self.samples, self.net.lanes
        layers: dict[str, list[LayerCount]] = {name: [] for name in NETWORKS}
        for i, spec in enumerate(self.manifest.layers):
            measured, dense = ({k: v / n for k, v in c.items()} for c in self._costs[i])
            spikes = self._spikes[i] / n
            layers["sdsnn"].append(_snn_layer(spec, measured, spikes, self._memories(spec)))
            shape = self.shapes[i]
            dense_spikes = spikes / spec.n_out * shape.n_out  # the measured rate per neuron
            layers["dense_snn"].append(
                _snn_layer(spec, dense, dense_spikes, self._dense_memories(i))
            )
            layers["ann"].append(self._ann_layer(i))
        return {name: NetworkCount(name, n, lanes, tuple(ls)) for name, ls in layers.items()}

    def _memories(self, spec: LayerSpec) -> dict[str, tuple[int, int, int]]:
        """(width, depth, arrays) of each memory of an exported layer."""
        lanes = self.net.lanes
        dims = {
            "weights": (spec.weights.width, spec.weights.depth, 1),
            "pointers": (spec.ptr.width, spec.ptr.depth, 2),  # two copies, one read each
            "accumulators": (spec.acc_bits, spec.bank_depth, lanes),
            "membranes": (spec.v_bits, spec.bank_depth, lanes),
        }
        if spec.bias is not None:
            dims["biases"] = (spec.bias_bits, -(-spec.out_channels // lanes), lanes)
        return dims

    def _dense_dims(self, index: int) -> tuple[int, int, int, int]:
        """Dense layout of layer ``index`` as trained: word width, words, bank rows, depth."""
        spec, shape, lanes = self.manifest.layers[index], self.shapes[index], self.net.lanes
        rows = -(-shape.out_channels // lanes)
        taps = shape.kernel * shape.kernel if shape.kind == CONV else 1
        return (
            lanes * taps * spec.weight_bits,
            _input_units(shape) * rows,
            rows,
            rows * _positions(shape),
        )

    def _dense_memories(self, index: int) -> dict[str, tuple[int, int, int]]:
        """(width, depth, arrays) of each memory of layer ``index`` dense, as trained."""
        spec, lanes = self.manifest.layers[index], self.net.lanes
        width, words, rows, depth = self._dense_dims(index)
        inputs = _input_units(self.shapes[index])
        dims = {
            "weights": (width, words, 1),
            "pointers": (_unsigned_bits(words), inputs + 1, 2),
            "accumulators": (spec.acc_bits, depth, lanes),
            "membranes": (spec.v_bits, depth, lanes),
        }
        if spec.bias is not None:
            dims["biases"] = (spec.bias_bits, rows, lanes)
        return dims

    def _ann_layer(self, index: int) -> LayerCount:
        """The dense layer in one pass, every input present once."""
        spec, lanes = self.manifest.layers[index], self.net.lanes
        shape = self.net.layers[index].shape
        every = _one_per_window(shape)
        costs = self._scaled(index, self._dense(index, time_steps=1), every)
        costs["inputs"] = costs["ptr_reads"] / 2  # one pointer pair per input event
        width, words, rows, depth = self._dense_dims(index)
        act_bits = spec.weight_bits
        acc_bits = spec.acc_bits + act_bits - 1
        in_shape = self.shapes[index].pooled_shape
        dims = {
            "weights": (width, words, 1),
            "activations": (act_bits, int(np.prod(in_shape)), 1),
            "accumulators": (acc_bits, depth, lanes),
            "outputs": (act_bits, depth, lanes),
        }
        if spec.bias is not None:
            dims["biases"] = (spec.bias_bits, rows, lanes)
        return LayerCount(
            name=spec.name,
            kind=spec.kind,
            synops=costs["synops"],
            acc_bits=acc_bits,
            mac_bits=act_bits,
            updates=costs["mem_writes"],
            update_bits=acc_bits + 1,
            spikes=0.0,
            cycles=costs["cycles"],
            bound=costs["bound"],
            memories=_memory_counts(dims, costs),
        )


def _snn_layer(
    spec: LayerSpec, costs: dict[str, float], spikes: float, dims: dict[str, tuple[int, int, int]]
) -> LayerCount:
    return LayerCount(
        name=spec.name,
        kind=spec.kind,
        synops=costs["synops"],
        acc_bits=spec.acc_bits,
        mac_bits=0,
        updates=costs["mem_writes"],
        update_bits=max(spec.v_bits, spec.acc_bits) + 1,
        spikes=spikes,
        cycles=costs["cycles"],
        bound=costs["bound"],
        memories=_memory_counts(dims, costs),
    )
