"""Export a trained network as integer weight memories and a manifest.

Integers come out of Brevitas (``quant_weight().int()``), thresholds and biases from
the same function the training neuron uses; neurons and conv filters that can never
influence the output are removed, then each layer is written in the smallest memory
layout of its kind for the core's lanes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from sdsnn_hw import __version__
from sdsnn_hw.fileio import sha256_bytes
from sdsnn_hw.layer_math import acc_bits
from sdsnn_hw.layouts import AUTO, DEFAULT_LANES, REGISTRY, bank_depth, encode_choice
from sdsnn_hw.manifest import LayerSpec, Manifest, MemorySpec, write_manifest
from sdsnn_hw.memfile import format_mem
from sdsnn_hw.model import SpikingNetwork
from sdsnn_hw.netspec import CONV, FC, LayerShape
from sdsnn_hw.neuron import LifParams
from sdsnn_hw.outdir import output_folder


@dataclass(frozen=True)
class IntegerLayer:
    """A dense integer layer before encoding.

    Attributes:
        weights: int64, fc (n_out, n_in), conv (out_channels, in_channels, K, K).
        lif: neuron parameters.
        weight_bits: weight width.
        weight_scale: float value of one integer weight step.
        neuron_index: original index of each kept neuron.
        kind: ``fc`` or ``conv``.
        bias: int64 per neuron (fc) or output channel (conv) in units of
            ``weight_scale / pool**2``, or None.
        bias_bits: the biases' signed narrow-range width (0 without bias).
        pool: the AP<k> folded into the input (1: none).
        in_shape: the input map before pooling; None for a flat fc input (n_in, 1, 1).
    """

    weights: np.ndarray
    lif: LifParams
    weight_bits: int
    weight_scale: float
    neuron_index: np.ndarray
    kind: str = FC
    bias: np.ndarray | None = None
    bias_bits: int = 0
    pool: int = 1
    in_shape: tuple[int, int, int] | None = None

    @property
    def shape(self) -> LayerShape:
        return LayerShape.of_weights(self.kind, self.weights, self.pool, self.in_shape)


@torch.no_grad()
def integer_layers(model: SpikingNetwork) -> list[IntegerLayer]:
    """Integer weights, biases and neuron parameters of every layer, all neurons kept."""
    layers = []
    config = model.config
    for i, (layer, shape) in enumerate(zip(model.layers, model.shapes, strict=True)):
        quant = layer.quant_weight()
        quantized = model.quantized_layer(i)
        bias = quantized.bias
        layers.append(
            IntegerLayer(
                weights=quant.int().to(torch.int64).numpy(),
                lif=quantized.lif,
                weight_bits=config.weight_bits,
                weight_scale=float(quant.scale.item()),
                neuron_index=np.arange(shape.n_out),
                kind=shape.kind,
                bias=None if bias is None else bias.to(torch.int64).numpy(),
                bias_bits=config.bias_bits if bias is not None else 0,
                pool=shape.pool,
                in_shape=shape.in_shape,
            )
        )
    return layers


def _links(layer: IntegerLayer) -> np.ndarray:
    """bool (units, input units): whether any weight links output unit ``u`` (fc neuron,
    conv output channel) to input unit ``v`` (a channel of the input map; after an fc
    layer every input is its own channel)."""
    nonzero = layer.weights != 0
    if layer.kind == CONV:
        return nonzero.any(axis=(2, 3))
    return nonzero.reshape(len(nonzero), layer.shape.in_shape[0], -1).any(axis=2)


def _kept(layer: IntegerLayer, keep_out: np.ndarray, keep_in: np.ndarray) -> IntegerLayer:
    """``layer`` with only the kept output units and input channels."""
    channels, height, width = layer.shape.in_shape
    weights = layer.weights[keep_out]
    if layer.kind == CONV:
        weights = weights[:, keep_in]
    else:
        weights = weights.reshape(len(weights), channels, -1)[:, keep_in].reshape(len(weights), -1)
    units = layer.weights.shape[0]
    return replace(
        layer,
        weights=weights,
        neuron_index=layer.neuron_index.reshape(units, -1)[keep_out].ravel(),
        bias=None if layer.bias is None else layer.bias[keep_out],
        in_shape=(int(keep_in.sum()), height, width),
    )


def remove_dead_neurons(layers: list[IntegerLayer]) -> list[IntegerLayer]:
    """Drop hidden units (fc neurons, whole conv filters) that cannot affect the output.

    A unit goes when it has no outgoing synapse (its spikes reach nothing), or when it
    has no incoming synapse and no positive bias: its membrane then never rises above
    0 < V_TH, so it never fires. Removing a conv filter removes that input channel (for
    an fc layer, that channel's block of flattened columns) from the next layer.
    Exact for the network's outputs.
    """
    links = [_links(layer) for layer in layers]
    # keep[0]: the network's input channels (never removed); keep[i + 1]: layer i's units
    keep = [np.ones(links[0].shape[1], dtype=bool)]
    keep += [np.ones(len(link), dtype=bool) for link in links]
    changed = True
    while changed:
        changed = False
        for i in range(len(layers) - 1):
            has_in = np.any(links[i][:, keep[i]], axis=1)
            if layers[i].bias is not None:
                has_in |= layers[i].bias > 0
            has_out = np.any(links[i + 1][keep[i + 2]], axis=0)
            new = keep[i + 1] & has_in & has_out
            changed |= bool(np.any(new != keep[i + 1]))
            keep[i + 1] = new
    return [_kept(layer, keep[i + 1], keep[i]) for i, layer in enumerate(layers)]


def _bias_words(layer: IntegerLayer) -> list[int]:
    """Bias memory words: two's complement in ``bias_bits``, narrow range."""
    limit = (1 << (layer.bias_bits - 1)) - 1
    if np.abs(layer.bias).max(initial=0) > limit:
        raise ValueError(f"a bias is outside -{limit}..{limit} ({layer.bias_bits} bits)")
    return [int(b) & ((1 << layer.bias_bits) - 1) for b in layer.bias]


def write_export(
    folder: Path,
    layers: list[IntegerLayer],
    classes: int,
    time_steps: int,
    lanes: int = DEFAULT_LANES,
    layout: str = AUTO,
    force: bool = False,
) -> Manifest:
    """Write memory images and the manifest into ``folder``.

    Args:
        folder: the export folder. It is replaced atomically, and only if it is an
            earlier export (see :mod:`sdsnn_hw.outdir`); ``force`` moves any other
            folder aside.
        layers: integer layers, input first.
        classes: output classes (the last layer's size).
        time_steps: steps per sample.
        lanes: P, the core's synapse lanes the memories are laid out for.
        layout: a layout of :data:`sdsnn_hw.layouts.REGISTRY` for every layer of its
            kind (the others choose by size), or ``auto``: per layer the smallest in bits.
    """
    if layout != AUTO and layout not in REGISTRY:
        raise ValueError(f"unknown layout {layout!r}; expected one of: {', '.join(REGISTRY)}")
    folder = Path(folder)
    specs = []
    with output_folder(folder, "export", force) as tmp:
        for i, layer in enumerate(layers):
            specs.append(_write_layer(tmp, f"l{i}", layer, lanes, layout))
        manifest = Manifest(
            inputs=math.prod(layers[0].shape.in_shape),
            classes=classes,
            time_steps=time_steps,
            readout="spike_count_argmax",
            lanes=lanes,
            layers=specs,
            generator=f"sdsnn-hw {__version__}",
            input_shape=layers[0].shape.in_shape,
        )
        write_manifest(tmp, manifest)
    return manifest


def _write_layer(
    folder: Path, name: str, layer: IntegerLayer, lanes: int, layout: str
) -> LayerSpec:
    """Encode one layer, write its memory images and return its manifest entry."""
    shape = layer.shape
    if layer.weights.shape != shape.weight_shape:
        raise ValueError(
            f"layer {name}: weights {layer.weights.shape} do not fit the {shape.kind} "
            f"shape {shape.weight_shape}"
        )
    if (layer.bias is None) != (layer.bias_bits == 0):
        raise ValueError(f"layer {name}: a bias needs bias_bits >= 2, and bias_bits a bias")
    own_layout = layout if layout == AUTO or REGISTRY[layout].kind == layer.kind else AUTO
    image, sizes = encode_choice(layer.weights, layer.weight_bits, lanes, own_layout)
    parts = [("ptr", image.ptr, image.ptr_bits), ("weights", image.words, image.word_bits)]
    if layer.bias is not None:
        parts.append(("bias", _bias_words(layer), layer.bias_bits))
    memories: dict[str, MemorySpec | None] = {"bias": None}
    for part, words, width in parts:
        text = format_mem(words, width).encode("ascii")
        file = f"{name}_{part}.mem"
        (folder / file).write_bytes(text)
        memories[part] = MemorySpec(file, len(words), width, sha256_bytes(text))
    out_channels, out_height, out_width = shape.out_shape
    conv = layer.kind == CONV
    return LayerSpec(
        name=name,
        kind=layer.kind,
        n_in=shape.n_in,
        n_out=shape.n_out,
        in_channels=shape.in_shape[0],
        in_height=shape.in_shape[1],
        in_width=shape.in_shape[2],
        pool=shape.pool,
        out_channels=out_channels,
        out_height=out_height,
        out_width=out_width,
        kernel=shape.kernel if conv else None,
        padding=shape.kernel // 2 if conv else None,
        stride=1 if conv else None,
        weight_bits=layer.weight_bits,
        bias_bits=layer.bias_bits,
        v_bits=layer.lif.v_bits,
        acc_bits=acc_bits(layer.weights, layer.weight_bits, shape.pool, layer.bias),
        leak_shift=layer.lif.leak_shift,
        v_th=layer.lif.v_th,
        layout=image.layout,
        layout_bits=sizes,
        nnz=int(np.count_nonzero(layer.weights)),
        bank_depth=bank_depth(out_channels, lanes) * out_height * out_width,
        addr_bits=image.addr_bits,
        slot_bits=image.slot_bits,
        ptr_bits=image.ptr_bits,
        weight_scale=layer.weight_scale,
        neuron_index=[int(j) for j in layer.neuron_index],
        ptr=memories["ptr"],
        weights=memories["weights"],
        bias=memories["bias"],
    )


def export_model(
    folder: Path,
    model: SpikingNetwork,
    classes: int,
    lanes: int = DEFAULT_LANES,
    layout: str = AUTO,
    force: bool = False,
) -> Manifest:
    """Fold, prune and write a trained model (arguments as :func:`write_export`)."""
    layers = remove_dead_neurons(integer_layers(model))
    return write_export(folder, layers, classes, model.config.time_steps, lanes, layout, force)
