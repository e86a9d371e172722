"""The integer network as an ONNX model that onnxruntime runs bit for bit like the golden model.

The graph unrolls the ``T`` time steps of contract sections 3 and 4. Every value is an
integer held exactly: currents of fc layers come from ``MatMul`` in float64 (exact
below 2**53), conv and sum pooling from float32 ``Conv`` (onnxruntime has no float64
``Conv``), which is exact because every partial sum of a conv unit lies between the
sums of its negative and of its positive terms, inside ``ACC_BITS`` <= 25 bits (the
exporter refuses wider conv layers). The membrane update runs in float64: the leak
``u >>> k`` is ``Floor(u * 2**-k)``, saturation ``Clip``, fire ``GreaterOrEqual``,
reset ``Where``.

Inputs and outputs (``batch`` is dynamic):

- ``spikes``: uint8 (batch, T, inputs), 0 or 1, inputs in C order of ``input_shape``.
- ``l<i>_spikes``: uint8 (batch, T, n_out) and ``l<i>_membranes``: int64 (batch, T,
  n_out), every layer's spikes and membranes after reset (the golden traces).
- ``counts``: int64 (batch, classes), output spike counts; ``predictions``: int64
  (batch,), their argmax, ties to the lowest class.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from sdsnn_hw import __version__
from sdsnn_hw.layer_math import acc_bits
from sdsnn_hw.netspec import CONV, LayerShape
from sdsnn_hw.neuron import LifParams

OPSET = 17
IR_VERSION = 8
FLOAT32_EXACT_ACC_BITS = 25
"""Signed widths whose integers (|x| <= 2**24) float32 holds exactly."""


class IntegerNetworkLayer(Protocol):
    """What the builder needs of a layer (``export.IntegerLayer``, ``golden.GoldenLayer``)."""

    weights: np.ndarray
    lif: LifParams
    kind: str
    bias: np.ndarray | None
    pool: int

    @property
    def shape(self) -> LayerShape: ...


class _Graph:
    """Nodes and initializers with unique, deterministic names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = set()
        self._count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        """An initializer, made on first use (unused ones would only draw warnings)."""
        if name not in self._names:
            self._names.add(name)
            self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], out: str | None = None, **attrs) -> str:
        self._count += 1
        out = out or f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], f"n{self._count}", **attrs))
        return out


def onnx_network(layers: list[IntegerNetworkLayer], time_steps: int) -> onnx.ModelProto:
    """Build the unrolled integer network.

    Raises:
        ValueError: for a conv layer whose sums need more than 25 bits (float32 ``Conv``
            would no longer be exact).
    """
    g = _Graph()
    inputs = int(np.prod(layers[0].shape.in_shape))
    source = g.op("Cast", ["spikes"], to=TensorProto.DOUBLE)
    for i, layer in enumerate(layers):
        _weights(g, f"l{i}", layer)
    states: list[str | None] = [None] * len(layers)
    traces: list[tuple[list[str], list[str]]] = [([], []) for _ in layers]
    for t in range(time_steps):
        index = g.const(f"t{t}", np.array(t, dtype=np.int64))
        x = g.op("Gather", [source, index], axis=1)  # (batch, inputs) float64
        for i, layer in enumerate(layers):
            current = _current(g, f"l{i}", layer, x)
            x, states[i] = _lif(g, f"l{i}", layer.lif, current, states[i])
            spikes, membranes = traces[i]
            spikes.append(g.op("Unsqueeze", [x, "axis1"]))
            membranes.append(g.op("Unsqueeze", [states[i], "axis1"]))
    g.const("axis1", np.array([1], dtype=np.int64))
    outputs = []
    for i, (layer, (spikes, membranes)) in enumerate(zip(layers, traces, strict=True)):
        n_out = layer.shape.n_out
        joined = g.op("Concat", spikes, axis=1)
        g.op("Cast", [joined], f"l{i}_spikes", to=TensorProto.UINT8)
        g.op("Cast", [g.op("Concat", membranes, axis=1)], f"l{i}_membranes", to=TensorProto.INT64)
        dims = ["batch", time_steps, n_out]
        outputs += [
            helper.make_tensor_value_info(f"l{i}_spikes", TensorProto.UINT8, dims),
            helper.make_tensor_value_info(f"l{i}_membranes", TensorProto.INT64, dims),
        ]
        if i == len(layers) - 1:
            counts = g.op("ReduceSum", [joined, "axis1"], keepdims=0)
            g.op("Cast", [counts], "counts", to=TensorProto.INT64)
            g.op("ArgMax", [counts], "predictions", axis=1, keepdims=0, select_last_index=0)
            outputs += [
                helper.make_tensor_value_info("counts", TensorProto.INT64, ["batch", n_out]),
                helper.make_tensor_value_info("predictions", TensorProto.INT64, ["batch"]),
            ]
    graph = helper.make_graph(
        g.nodes,
        "sdsnn_integer_network",
        [helper.make_tensor_value_info("spikes", TensorProto.UINT8, ["batch", time_steps, inputs])],
        outputs,
        g.initializers,
        doc_string="Integer LIF network of sdsnn-hw (docs/hardware-contract.md), unrolled "
        f"over {time_steps} steps; bit-exact with the golden model.",
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_operatorsetid("", OPSET)],
        producer_name="sdsnn-hw",
        producer_version=__version__,
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def _weights(g: _Graph, name: str, layer: IntegerNetworkLayer) -> None:
    """Constants of one layer: weights, sum-pool kernel, bias, neuron parameters."""
    shape = layer.shape
    channels = shape.in_shape[0]
    if layer.kind == CONV or layer.pool > 1:
        width = acc_bits(layer.weights, 2, layer.pool) if layer.kind == CONV else 2
        if width > FLOAT32_EXACT_ACC_BITS:
            raise ValueError(
                f"layer {name}: its conv sums need {width} bits; the ONNX export runs "
                f"conv in float32, exact only up to {FLOAT32_EXACT_ACC_BITS}"
            )
    if layer.pool > 1:
        ones = np.ones((channels, 1, layer.pool, layer.pool), dtype=np.float32)
        g.const(f"{name}_pool", ones)
    if layer.kind == CONV:
        g.const(f"{name}_w", layer.weights.astype(np.float32))
    else:
        g.const(f"{name}_w", layer.weights.T.astype(np.float64))
    if layer.bias is not None:
        per_neuron = np.repeat(layer.bias, shape.n_out // len(layer.bias))  # C order
        g.const(f"{name}_b", per_neuron.astype(np.float64))
    lif = layer.lif
    g.const(f"{name}_vmin", np.array(lif.v_min, dtype=np.float64))
    g.const(f"{name}_vmax", np.array(lif.v_max, dtype=np.float64))
    g.const(f"{name}_vth", np.array(lif.v_th, dtype=np.float64))
    g.const(f"{name}_zero", np.array(0.0, dtype=np.float64))


def _current(g: _Graph, name: str, layer: IntegerNetworkLayer, x: str) -> str:
    """``I + b`` of one step, float64 (batch, n_out), from float64 input spikes."""
    shape = layer.shape
    if layer.kind == CONV or layer.pool > 1:
        in_map = g.const(f"{name}_map", np.array([-1, *shape.in_shape], dtype=np.int64))
        maps = g.op("Cast", [g.op("Reshape", [x, in_map])], to=TensorProto.FLOAT)
        if layer.pool > 1:  # window sums, contract 3.1
            k = layer.pool
            maps = g.op(
                "Conv", [maps, f"{name}_pool"], group=shape.in_shape[0], strides=[k, k],
                kernel_shape=[k, k],
            )  # fmt: skip
        if layer.kind == CONV:
            p = shape.kernel // 2
            maps = g.op("Conv", [maps, f"{name}_w"], pads=[p, p, p, p], strides=[1, 1])
            flat = g.const(f"{name}_flat", np.array([-1, shape.n_out], dtype=np.int64))
        else:
            flat = g.const(f"{name}_flat_in", np.array([-1, shape.n_in], dtype=np.int64))
        current = g.op("Reshape", [maps, flat])
        current = g.op("Cast", [current], to=TensorProto.DOUBLE)
        if layer.kind != CONV:
            current = g.op("MatMul", [current, f"{name}_w"])
    else:
        current = g.op("MatMul", [x, f"{name}_w"])
    if layer.bias is not None:
        current = g.op("Add", [current, f"{name}_b"])
    return current


def _lif(
    g: _Graph, name: str, lif: LifParams, current: str, membrane: str | None
) -> tuple[str, str]:
    """One contract section 3 update: (spikes float64 0/1, membrane after reset)."""
    v = current
    if membrane is not None:  # u[-1] = 0: the first step has no leak term
        leaked = membrane
        if lif.leak_shift:
            decay = g.const(f"{name}_decay", np.array(2.0**-lif.leak_shift, dtype=np.float64))
            leaked = g.op("Floor", [g.op("Mul", [membrane, decay])])
        v = g.op("Add", [leaked, current])
    v = g.op("Clip", [v, f"{name}_vmin", f"{name}_vmax"])
    fire = g.op("GreaterOrEqual", [v, f"{name}_vth"])
    spikes = g.op("Cast", [fire], to=TensorProto.DOUBLE)
    return spikes, g.op("Where", [fire, f"{name}_zero", v])


def onnx_bytes(layers: list[IntegerNetworkLayer], time_steps: int) -> bytes:
    """The serialized model (deterministic: the same layers give the same bytes)."""
    return onnx_network(layers, time_steps).SerializeToString(deterministic=True)
