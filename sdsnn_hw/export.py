"""Export a trained network as integer weight memories and a manifest.

Integers come out of Brevitas (``quant_weight().int()``), thresholds from the same
function the training neuron uses; neurons that can never influence the output are
removed, then each layer is written in the smallest memory layout for the core's lanes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from sdsnn_hw import __version__
from sdsnn_hw.fileio import sha256_bytes
from sdsnn_hw.layouts import AUTO, DEFAULT_LANES, encode_choice
from sdsnn_hw.manifest import LayerSpec, Manifest, MemorySpec, write_manifest
from sdsnn_hw.memfile import format_mem
from sdsnn_hw.model import SpikingMLP
from sdsnn_hw.neuron import LifParams, accumulator_bits
from sdsnn_hw.outdir import output_folder


@dataclass(frozen=True)
class IntegerLayer:
    """A dense integer layer before sparse encoding.

    Attributes:
        weights: int64 (n_out, n_in).
        lif: neuron parameters.
        weight_bits: weight width.
        weight_scale: float value of one integer weight step.
        neuron_index: original index of each kept neuron.
    """

    weights: np.ndarray
    lif: LifParams
    weight_bits: int
    weight_scale: float
    neuron_index: np.ndarray


@torch.no_grad()
def integer_layers(model: SpikingMLP) -> list[IntegerLayer]:
    """Integer weights and neuron parameters of every layer, all neurons kept."""
    layers = []
    for layer, lif in zip(model.layers, model.lif_params(), strict=True):
        quant = layer.quant_weight()
        weights = quant.int().to(torch.int64).numpy()
        layers.append(
            IntegerLayer(
                weights=weights,
                lif=lif,
                weight_bits=model.config.weight_bits,
                weight_scale=float(quant.scale.item()),
                neuron_index=np.arange(weights.shape[0]),
            )
        )
    return layers


def remove_dead_neurons(layers: list[IntegerLayer]) -> list[IntegerLayer]:
    """Drop hidden neurons with no incoming or no outgoing synapse.

    Exact for the network's outputs: with no input a neuron's membrane stays 0 below a
    threshold >= 1, and a neuron with no outgoing synapse reaches nothing.
    """
    # keep[0] are the network inputs (never removed), keep[i + 1] the neurons of layer i
    keep = [np.ones(layers[0].weights.shape[1], dtype=bool)]
    keep += [np.ones(layer.weights.shape[0], dtype=bool) for layer in layers]
    changed = True
    while changed:
        changed = False
        for i in range(len(layers) - 1):
            has_in = np.any(layers[i].weights[:, keep[i]] != 0, axis=1)
            has_out = np.any(layers[i + 1].weights[keep[i + 2]] != 0, axis=0)
            new = keep[i + 1] & has_in & has_out
            changed |= bool(np.any(new != keep[i + 1]))
            keep[i + 1] = new
    return [
        replace(
            layer,
            weights=layer.weights[keep[i + 1]][:, keep[i]],
            neuron_index=layer.neuron_index[keep[i + 1]],
        )
        for i, layer in enumerate(layers)
    ]


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
        layout: a layout of :data:`sdsnn_hw.layouts.LAYOUTS` for every layer, or
            ``auto``: per layer the smallest in bits.
    """
    folder = Path(folder)
    specs = []
    with output_folder(folder, "export", force) as tmp:
        for i, layer in enumerate(layers):
            name = f"l{i}"
            image, sizes = encode_choice(layer.weights, layer.weight_bits, lanes, layout)
            memories = {}
            for part, words, width in (
                ("ptr", image.ptr, image.ptr_bits),
                ("weights", image.words, image.word_bits),
            ):
                text = format_mem(words, width).encode("ascii")
                file = f"{name}_{part}.mem"
                (tmp / file).write_bytes(text)
                memories[part] = MemorySpec(file, len(words), width, sha256_bytes(text))
            n_out, n_in = layer.weights.shape
            specs.append(
                LayerSpec(
                    name=name,
                    kind="fc",
                    n_in=n_in,
                    n_out=n_out,
                    weight_bits=layer.weight_bits,
                    v_bits=layer.lif.v_bits,
                    acc_bits=accumulator_bits(layer.weights, layer.weight_bits),
                    leak_shift=layer.lif.leak_shift,
                    v_th=layer.lif.v_th,
                    layout=image.layout,
                    layout_bits=sizes,
                    nnz=int(np.count_nonzero(layer.weights)),
                    bank_depth=image.depth,
                    addr_bits=image.addr_bits,
                    slot_bits=image.slot_bits,
                    ptr_bits=image.ptr_bits,
                    weight_scale=layer.weight_scale,
                    neuron_index=[int(j) for j in layer.neuron_index],
                    ptr=memories["ptr"],
                    weights=memories["weights"],
                )
            )
        manifest = Manifest(
            inputs=specs[0].n_in,
            classes=classes,
            time_steps=time_steps,
            readout="spike_count_argmax",
            lanes=lanes,
            layers=specs,
            generator=f"sdsnn-hw {__version__}",
        )
        write_manifest(tmp, manifest)
    return manifest


def export_model(
    folder: Path,
    model: SpikingMLP,
    classes: int,
    lanes: int = DEFAULT_LANES,
    layout: str = AUTO,
    force: bool = False,
) -> Manifest:
    """Fold, prune and write a trained model (arguments as :func:`write_export`)."""
    layers = remove_dead_neurons(integer_layers(model))
    return write_export(folder, layers, classes, model.config.time_steps, lanes, layout, force)
