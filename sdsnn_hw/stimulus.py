"""Stimulus files: encoded input spike trains and labels shared by every simulator."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdsnn_hw.fileio import atomic_write_bytes


class StimulusError(ValueError):
    """A stimulus file is missing or malformed."""


@dataclass(frozen=True)
class Stimulus:
    """Input spikes uint8 (samples, time, inputs) and int64 labels (samples,)."""

    spikes: np.ndarray
    labels: np.ndarray


def save_stimulus(path: Path, stimulus: Stimulus) -> None:
    """Write spikes bit-packed along the input axis, as a compressed ``.npz``."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        spikes=np.packbits(stimulus.spikes.astype(bool), axis=2),
        shape=np.asarray(stimulus.spikes.shape, dtype=np.int64),
        labels=stimulus.labels.astype(np.int64),
    )
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_stimulus(
    path: Path,
    inputs: int | None = None,
    time_steps: int | None = None,
    classes: int | None = None,
) -> Stimulus:
    """Read a stimulus file, checking it against the network it is meant for.

    Args:
        path: the ``.npz`` file.
        inputs, time_steps, classes: when given, the input width, time steps per
            sample and class count the stimulus must match (from the manifest).

    Raises:
        StimulusError: naming the file, the field, what was expected and what was found.
    """
    path = Path(path)
    if not path.is_file():
        raise StimulusError(f"{path}: stimulus file not found")
    try:
        with np.load(path) as data:
            packed, shape, labels = data["spikes"], data["shape"], data["labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise StimulusError(
            f"{path}: not a stimulus file with fields spikes/shape/labels ({exc})"
        ) from None
    if packed.dtype != np.uint8 or shape.dtype.kind not in "iu" or labels.dtype.kind not in "iu":
        raise StimulusError(
            f"{path}: fields 'spikes'/'shape'/'labels' must be uint8/integer/integer, "
            f"got {packed.dtype}/{shape.dtype}/{labels.dtype}"
        )
    if shape.shape != (3,) or np.any(shape < 0):
        raise StimulusError(f"{path}: field 'shape' must be 3 sizes, got {shape.tolist()}")
    samples, steps, width = (int(v) for v in shape)
    if packed.shape != (samples, steps, (width + 7) // 8) or labels.shape != (samples,):
        raise StimulusError(
            f"{path}: field 'shape' {shape.tolist()} does not match "
            f"'spikes' {packed.shape} and 'labels' {labels.shape}"
        )
    for field, expected, found in (("inputs", inputs, width), ("time_steps", time_steps, steps)):
        if expected is not None and expected != found:
            raise StimulusError(
                f"{path}: field 'shape' gives {found} {field.replace('_', ' ')}, "
                f"the export's '{field}' is {expected}"
            )
    if classes is not None and samples and (labels.min() < 0 or labels.max() >= classes):
        raise StimulusError(
            f"{path}: field 'labels' must be in 0..{classes - 1}, "
            f"found {int(labels.min())}..{int(labels.max())}"
        )
    spikes = np.unpackbits(packed, axis=2, count=width)
    return Stimulus(spikes.astype(np.uint8), labels.astype(np.int64))
