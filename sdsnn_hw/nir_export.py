"""The integer network as a NIR graph (``nir`` package), for other simulators and chips.

Nodes, in order: ``input`` (the input map ``[C, H, W]``), per layer ``l<i>_pool``
(``SumPool2d``, where the layer folds an ``AP<k>``), ``l<i>_flatten`` (``Flatten``,
where an fc layer reads a map), ``l<i>_synapses`` (``Affine`` for fc, ``Conv2d`` for
conv, with the integer weights and biases as floats) and ``l<i>_neurons`` (``IF`` for
``LEAK_SHIFT = 0``, else ``LIF``), then ``output``. NIR's neurons are continuous-time;
docs/hardware-contract.md section 6.2 says how each integer parameter maps and where
the two differ. The integer parameters themselves travel in each neuron node's
metadata (``v_th``, ``leak_shift``, ``v_bits``) so a tool can run the exact update.
"""

from __future__ import annotations

import io

import nir
import numpy as np

from sdsnn_hw.netspec import CONV
from sdsnn_hw.onnx_export import IntegerNetworkLayer

DT = 1.0
"""One time step of the integer network, in NIR's time unit."""


def neuron_node(layer: IntegerNetworkLayer) -> nir.NIRNode:
    """``IF`` or ``LIF`` whose forward-Euler step with ``dt = 1`` is the integer update
    without the floor of the leak, the saturation and ``>=``.

    LIF: ``v += dt/tau * (v_leak - v + r*I)`` equals ``v*2**-k + I`` for
    ``tau = 1 / (1 - 2**-k)``, ``r = tau``, ``v_leak = 0``. NIR fires on ``v > v_threshold``
    and the hardware on ``v >= V_TH``; on integer membranes both agree for
    ``v_threshold = V_TH - 1/2``. Reset to 0.
    """
    out = layer.shape.out_shape if layer.kind == CONV else (layer.shape.n_out,)
    ones = np.ones(out)
    lif = layer.lif
    meta = {"v_th": lif.v_th, "leak_shift": lif.leak_shift, "v_bits": lif.v_bits, "dt": DT}
    threshold = (lif.v_th - 0.5) * ones
    if lif.leak_shift == 0:
        return nir.IF(r=ones, v_threshold=threshold, v_reset=0 * ones, metadata=meta)
    tau = 1.0 / (1.0 - 2.0**-lif.leak_shift)
    return nir.LIF(
        tau=tau * ones, r=tau * ones, v_leak=0 * ones, v_threshold=threshold,
        v_reset=0 * ones, metadata=meta,
    )  # fmt: skip


def nir_graph(layers: list[IntegerNetworkLayer]) -> nir.NIRGraph:
    """The network as a NIR graph (node names as in the module docstring)."""
    first = layers[0].shape.in_shape
    first = first if first[1:] != (1, 1) else first[:1]  # a flat input is a vector
    nodes: dict[str, nir.NIRNode] = {"input": nir.Input(np.array(first))}
    edges: list[tuple[str, str]] = []
    last = "input"

    def add(name: str, node: nir.NIRNode) -> None:
        nonlocal last
        nodes[name] = node
        edges.append((last, name))
        last = name

    for i, layer in enumerate(layers):
        shape = layer.shape
        channels, height, width = shape.in_shape
        k = layer.pool
        if k > 1:
            add(f"l{i}_pool", nir.SumPool2d(np.array([k, k]), np.array([k, k]), np.array([0, 0])))
        pooled = (channels, height // k, width // k)
        bias = np.zeros(shape.out_shape[0]) if layer.bias is None else layer.bias
        bias = bias.astype(np.float64)
        weights = layer.weights.astype(np.float64)
        if layer.kind == CONV:
            p = shape.kernel // 2
            synapses = nir.Conv2d(pooled[1:], weights, 1, p, 1, 1, bias)
        else:
            if pooled[1:] != (1, 1):
                add(f"l{i}_flatten", nir.Flatten({"input": np.array(pooled)}, start_dim=0))
            synapses = nir.Affine(weights, bias)
        add(f"l{i}_synapses", synapses)
        add(f"l{i}_neurons", neuron_node(layer))
    add("output", nir.Output(np.array([layers[-1].shape.n_out])))
    return nir.NIRGraph(nodes, edges, metadata={"source": "sdsnn-hw", "dt": DT}, type_check=False)


def nir_bytes(layers: list[IntegerNetworkLayer]) -> bytes:
    """The graph as a NIR HDF5 file (``nir.write``)."""
    buffer = io.BytesIO()
    nir.write(buffer, nir_graph(layers))
    return buffer.getvalue()
