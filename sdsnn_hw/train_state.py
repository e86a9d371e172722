"""Training checkpoints (``last.pt``, ``best.pt``): everything an exact resume needs.

A checkpoint holds plain tensors, numbers, strings, lists and dicts only, so
``torch.load(path, weights_only=True)`` reads it. It also carries ``model``,
``network`` and ``classes`` as ``checkpoint.pt`` of ``sdsnn run`` does, so ``sdsnn
export best.pt OUT`` exports it. Files are written to a temporary file and renamed.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sdsnn_hw.fileio import atomic_write_bytes
from sdsnn_hw.structure import StructureDevelopment, _LayerState

FORMAT = "sdsnn-train/1"


class TrainStateError(ValueError):
    """A checkpoint that cannot be resumed from (exit code 2)."""


def structure_state(structure: StructureDevelopment) -> dict[str, Any]:
    """Step count and every layer's spine ranges, streaks, masks and rates."""
    layers = None if structure.states is None else [dict(vars(s)) for s in structure.states]
    return {"step_count": structure.step_count, "layers": layers}


def load_structure_state(structure: StructureDevelopment, state: dict[str, Any]) -> None:
    structure.step_count = int(state["step_count"])
    if state["layers"] is None:
        structure.states = None
        return
    expected = set(vars(_LayerState(torch.zeros(1, 1), 0.0)))
    layers = []
    for fields in state["layers"]:
        if set(fields) != expected:
            raise TrainStateError(
                f"structure state with fields {sorted(fields)}, expected {sorted(expected)}: "
                "written by another version of sdsnn_hw.structure, so training cannot resume "
                "from it (sdsnn export still reads its weights)"
            )
        layer = _LayerState.__new__(_LayerState)
        layer.__dict__.update(fields)
        layers.append(layer)
    structure.states = layers


def structure_tensors(structure: StructureDevelopment) -> list[torch.Tensor]:
    """Every tensor of the structure state, in a fixed order."""
    tensors = []
    for layer in structure.states or []:
        tensors += [v for _, v in sorted(vars(layer).items()) if isinstance(v, torch.Tensor)]
    return tensors


def structure_scalars(structure: StructureDevelopment) -> dict[str, Any]:
    return {
        "step_count": structure.step_count,
        "layers": [
            {k: v for k, v in vars(layer).items() if not isinstance(v, torch.Tensor)}
            for layer in structure.states or []
        ],
    }


def load_structure_scalars(structure: StructureDevelopment, scalars: dict[str, Any]) -> None:
    structure.step_count = scalars["step_count"]
    for layer, values in zip(structure.states or [], scalars["layers"], strict=True):
        layer.__dict__.update(values)


def rng_state(generator: torch.Generator) -> dict[str, Any]:
    """The training generator's state and the global torch, Python and NumPy states."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "generator": generator.get_state(),
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
    }


def load_rng_state(generator: torch.Generator, state: dict[str, Any]) -> None:
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached"]))


def save(path: Path, checkpoint: dict[str, Any]) -> None:
    """Write ``checkpoint`` atomically (temporary file, then rename)."""
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **checkpoint}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load(path: Path) -> dict[str, Any]:
    """Read a training checkpoint with ``weights_only=True``.

    Raises:
        TrainStateError: naming the file when it is not a checkpoint of this trainer.
    """
    if not zipfile.is_zipfile(path):
        raise TrainStateError(f"{path}: not a PyTorch weights file")
    try:
        saved = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises many kinds for a file it cannot read
        raise TrainStateError(f"{path}: cannot be read ({type(exc).__name__})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise TrainStateError(f"{path}: not a training checkpoint (field 'format' is not {FORMAT})")
    return saved
