"""Brevitas QONNX and QCDQ exports of a trained model's quantized layers (FINN, QONNX).

One file per layer and format, ``l<i>_qonnx.onnx`` and ``l<i>_qcdq.onnx``: the
``QuantLinear`` / ``QuantConv2d`` of trained layer ``i`` with every neuron (before the
export removes dead ones), its float weight scale and integer weights, on one input
of its pooled shape. They hold the synapses only: the spiking neurons, pooling and
biases are the integer network's (``network.onnx``). Brevitas's TorchScript exporter
is used, whose output is deterministic.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from sdsnn_hw.model import SpikingNetwork
from sdsnn_hw.netspec import CONV

with warnings.catch_warnings():  # Brevitas warns about optional kernels it does not need
    warnings.simplefilter("ignore")
    from brevitas.export import export_onnx_qcdq, export_qonnx

EXPORTERS: dict[str, Callable] = {"qonnx": export_qonnx, "qcdq": export_onnx_qcdq}


@torch.no_grad()
def quantized_layer_files(model: SpikingNetwork, folder: Path) -> dict[str, str]:
    """Write every layer in every Brevitas format into ``folder``; returns file -> format."""
    written = {}
    for i, (layer, shape) in enumerate(zip(model.layers, model.shapes, strict=True)):
        pooled = shape.pooled_shape
        example = torch.zeros(1, *pooled) if shape.kind == CONV else torch.zeros(1, shape.n_in)
        training = layer.training
        layer.eval()
        try:
            for fmt, exporter in EXPORTERS.items():
                file = f"l{i}_{fmt}.onnx"
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exporter(layer, example, export_path=str(folder / file), dynamo=False)
                written[file] = fmt
        finally:
            layer.train(training)
    return written
