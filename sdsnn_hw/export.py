"""Export a trained network as integer weight memories and a manifest.

Integers come out of Brevitas (``quant_weight().int()``), thresholds and biases from
the same function the training neuron uses; neurons and conv filters that can never
influence the output are removed, hidden units renumbered to balance the lanes, then
each layer is written in a memory layout of its kind for the core's lanes (``auto``:
the smallest of those close to the fewest cycles), in every requested format: ``.mem`` (always),
``.coe``, ``.mif`` and C headers beside it (:mod:`sdsnn_hw.formats`, ``network.h``),
the integer network as ONNX (plus Brevitas QONNX/QCDQ of the trained layers) and NIR.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sdsnn_hw import __version__
from sdsnn_hw.fileio import sha256_bytes, sha256_file
from sdsnn_hw.formats import WRITERS
from sdsnn_hw.lane_balance import balanced_banks, unit_order
from sdsnn_hw.layer_math import acc_bits
from sdsnn_hw.layouts import AUTO, DEFAULT_LANES, REGISTRY, bank_depth, encode_choice
from sdsnn_hw.manifest import (
    FORMATS,
    MEMORY_FORMATS,
    FileSpec,
    LayerSpec,
    Manifest,
    MemorySpec,
    SourceSpec,
    write_manifest,
)
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


def _select(layer: IntegerLayer, out_units: np.ndarray, in_units: np.ndarray) -> IntegerLayer:
    """``layer`` with the output units and input channels at these indices, in order."""
    channels, height, width = layer.shape.in_shape
    weights = layer.weights[out_units]
    if layer.kind == CONV:
        weights = weights[:, in_units]
    else:
        weights = weights.reshape(len(weights), channels, -1)[:, in_units].reshape(len(weights), -1)
    units = layer.weights.shape[0]
    return replace(
        layer,
        weights=weights,
        neuron_index=layer.neuron_index.reshape(units, -1)[out_units].ravel(),
        bias=None if layer.bias is None else layer.bias[out_units],
        in_shape=(len(in_units), height, width),
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
    kept = [np.flatnonzero(k) for k in keep]
    return [_select(layer, kept[i + 1], kept[i]) for i, layer in enumerate(layers)]


def balance_lanes(layers: list[IntegerLayer], lanes: int) -> list[IntegerLayer]:
    """Renumber every hidden layer's units so that each input's non-zero weights (fc)
    or taps (conv) spread evenly over the ``lanes`` banks (:mod:`sdsnn_hw.lane_balance`);
    the next layer's inputs follow. Exact for the network's outputs; ``neuron_index``
    keeps the trained index of every neuron."""
    layers = list(layers)
    for i in range(len(layers) - 1):
        layer = layers[i]  # its inputs renumbered in the step before
        nonzero = layer.weights != 0
        slots = nonzero.sum(axis=(2, 3)) if layer.kind == CONV else nonzero
        order = unit_order(balanced_banks(slots, lanes), lanes)
        following = layers[i + 1]
        layers[i] = _select(layer, order, np.arange(layer.shape.in_shape[0]))
        layers[i + 1] = _select(following, np.arange(following.weights.shape[0]), order)
    return layers


def _bias_words(layer: IntegerLayer) -> list[int]:
    """Bias memory words: two's complement in ``bias_bits``, narrow range."""
    limit = (1 << (layer.bias_bits - 1)) - 1
    if np.abs(layer.bias).max(initial=0) > limit:
        raise ValueError(f"a bias is outside -{limit}..{limit} ({layer.bias_bits} bits)")
    return [int(b) & ((1 << layer.bias_bits) - 1) for b in layer.bias]


def export_formats(names: Iterable[str]) -> tuple[str, ...]:
    """The formats to write, in the manifest's order, ``mem`` always among them.

    Raises:
        ValueError: naming an unknown format.
    """
    names = set(names)
    unknown = sorted(names - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; expected some of: {', '.join(FORMATS)}")
    return tuple(name for name in FORMATS if name in names or name == "mem")


ExtraFiles = Callable[[Path], dict[str, str]]
"""Writes more network files into a folder; returns file name -> ``files[].format``."""


def write_export(
    folder: Path,
    layers: list[IntegerLayer],
    classes: int,
    time_steps: int,
    lanes: int = DEFAULT_LANES,
    layout: str = AUTO,
    force: bool = False,
    formats: Iterable[str] = ("mem",),
    source: SourceSpec | None = None,
    config: dict[str, Any] | None = None,
    extra: ExtraFiles | None = None,
) -> Manifest:
    """Write memory images, the other formats and the manifest into ``folder``.

    Args:
        folder: the export folder. It is replaced atomically, and only if it is an
            earlier export (see :mod:`sdsnn_hw.outdir`); ``force`` moves any other
            folder aside.
        layers: integer layers, input first.
        classes: output classes (the last layer's size).
        time_steps: steps per sample.
        lanes: P, the core's synapse lanes the memories are laid out for.
        layout: a layout of :data:`sdsnn_hw.layouts.REGISTRY` for every layer of its
            kind (the others choose as ``auto``), several joined by ``,`` (one per
            kind), or ``auto``: per layer :func:`sdsnn_hw.layouts.encode_choice`.
        formats: of :data:`sdsnn_hw.manifest.FORMATS`; ``mem`` is always written.
        source: the checkpoint the layers come from, recorded in the manifest.
        config: the configuration recorded in the manifest (informative).
        extra: with ``onnx`` among the formats, writes further ONNX files (the Brevitas
            exports of the trained layers).
    """
    chosen = [] if layout == AUTO else layout.split(",")
    for name in chosen:
        if name not in REGISTRY:
            raise ValueError(f"unknown layout {name!r}; expected one of: {', '.join(REGISTRY)}")
    if len({REGISTRY[name].kind for name in chosen}) != len(chosen):
        raise ValueError(f"layouts {layout!r}: at most one per layer kind")
    formats = export_formats(formats)
    if [int(i) for i in layers[-1].neuron_index] != list(range(classes)):
        raise ValueError(f"the last layer must keep its {classes} output neurons, in order")
    folder = Path(folder)
    specs, files = [], []
    with output_folder(folder, "export", force) as tmp:
        for i, layer in enumerate(layers):
            spec, layer_files = _write_layer(tmp, f"l{i}", layer, lanes, layout, formats)
            specs.append(spec)
            files += layer_files
        manifest = Manifest(
            inputs=math.prod(layers[0].shape.in_shape),
            classes=classes,
            time_steps=time_steps,
            readout="spike_count_argmax",
            lanes=lanes,
            layers=specs,
            generator=f"sdsnn-hw {__version__}",
            input_shape=layers[0].shape.in_shape,
            formats=formats,
            source=source,
            config=config,
        )
        written = _write_network_files(tmp, manifest, layers, formats, extra)
        files += [FileSpec(f, fmt, sha256_file(tmp / f)) for f, fmt in written.items()]
        manifest = replace(manifest, files=sorted(files, key=lambda spec: spec.file))
        write_manifest(tmp, manifest)
    return manifest


def _write_network_files(
    folder: Path,
    manifest: Manifest,
    layers: list[IntegerLayer],
    formats: tuple[str, ...],
    extra: ExtraFiles | None,
) -> dict[str, str]:
    """Files of the whole network; returns file name -> format. Imported here: ONNX and
    NIR are needed only by exports that ask for them."""
    written = {}
    if "h" in formats:
        from sdsnn_hw.network_header import HEADER_NAME, network_header

        (folder / HEADER_NAME).write_text(network_header(manifest), encoding="ascii")
        written[HEADER_NAME] = "h"
    if "onnx" in formats:
        from sdsnn_hw.onnx_export import onnx_bytes

        (folder / "network.onnx").write_bytes(onnx_bytes(layers, manifest.time_steps))
        written["network.onnx"] = "onnx"
        written.update(extra(folder) if extra else {})
    if "nir" in formats:
        from sdsnn_hw.nir_export import nir_bytes

        (folder / "network.nir").write_bytes(nir_bytes(layers))
        written["network.nir"] = "nir"
    return written


def _write_layer(
    folder: Path, name: str, layer: IntegerLayer, lanes: int, layout: str, formats: tuple[str, ...]
) -> tuple[LayerSpec, list[FileSpec]]:
    """Encode one layer, write its memory images and return its manifest entry."""
    shape = layer.shape
    if layer.weights.shape != shape.weight_shape:
        raise ValueError(
            f"layer {name}: weights {layer.weights.shape} do not fit the {shape.kind} "
            f"shape {shape.weight_shape}"
        )
    if (layer.bias is None) != (layer.bias_bits == 0):
        raise ValueError(f"layer {name}: a bias needs bias_bits >= 2, and bias_bits a bias")
    own_layout = next(
        (n for n in layout.split(",") if n in REGISTRY and REGISTRY[n].kind == layer.kind), AUTO
    )
    image, sizes = encode_choice(layer.weights, layer.weight_bits, lanes, own_layout)
    parts = [("ptr", image.ptr, image.ptr_bits), ("weights", image.words, image.word_bits)]
    if layer.bias is not None:
        parts.append(("bias", _bias_words(layer), layer.bias_bits))
    memories: dict[str, MemorySpec | None] = {"bias": None}
    files = []
    for part, words, width in parts:
        stem = f"{name}_{part}"
        for fmt in (f for f in formats if f in MEMORY_FORMATS):
            data = WRITERS[fmt](words, width, stem).encode("ascii")
            (folder / f"{stem}.{fmt}").write_bytes(data)
            if fmt == "mem":
                memories[part] = MemorySpec(f"{stem}.mem", len(words), width, sha256_bytes(data))
            else:
                files.append(FileSpec(f"{stem}.{fmt}", fmt, sha256_bytes(data), f"{stem}.mem"))
    out_channels, out_height, out_width = shape.out_shape
    conv = layer.kind == CONV
    spec = LayerSpec(
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
    return spec, files


def export_model(
    folder: Path,
    model: SpikingNetwork,
    classes: int,
    lanes: int = DEFAULT_LANES,
    layout: str = AUTO,
    force: bool = False,
    formats: Iterable[str] = FORMATS,
    source: Path | None = None,
) -> Manifest:
    """Fold, prune, balance the lanes and write a trained model (arguments as
    :func:`write_export`).

    ``source`` is the checkpoint the model was loaded from: its sha256 and training
    configuration go into the manifest beside the network's and the export's.
    """
    from sdsnn_hw.qonnx_export import quantized_layer_files

    layers = balance_lanes(remove_dead_neurons(integer_layers(model)), lanes)
    formats = export_formats(formats)
    config = {
        "network": asdict(model.config),
        "export": {"lanes": lanes, "layout": layout, "formats": list(formats)},
        "run": None if source is None else _run_config(source),
    }
    return write_export(
        folder, layers, classes, model.config.time_steps, lanes, layout, force, formats,
        source=None if source is None else SourceSpec(Path(source).name, sha256_file(source)),
        config=config,
        extra=lambda tmp: quantized_layer_files(model, tmp),
    )  # fmt: skip


def _run_config(checkpoint: Path) -> dict[str, Any] | None:
    """The run configuration ``sdsnn run`` stored in a checkpoint (a JSON string in its
    ``run_config`` entry), or None where it has none."""
    saved = torch.load(checkpoint, weights_only=True, map_location="cpu")
    text = saved.get("run_config") if isinstance(saved, dict) else None
    return json.loads(text) if isinstance(text, str) else None
