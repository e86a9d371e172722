"""Stimulus files: encoded input spike trains and labels shared by every simulator."""

from __future__ import annotations

import io
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


def load_stimulus(path: Path) -> Stimulus:
    path = Path(path)
    if not path.is_file():
        raise StimulusError(f"{path}: stimulus file not found")
    try:
        with np.load(path) as data:
            packed, shape, labels = data["spikes"], data["shape"], data["labels"]
    except (OSError, ValueError, KeyError) as exc:
        raise StimulusError(
            f"{path}: not a stimulus file with fields spikes/shape/labels ({exc})"
        ) from None
    if shape.shape != (3,) or packed.ndim != 3 or labels.shape != (int(shape[0]),):
        raise StimulusError(
            f"{path}: field 'shape' {shape.tolist()} does not match "
            f"'spikes' {packed.shape} and 'labels' {labels.shape}"
        )
    samples, steps, inputs = (int(v) for v in shape)
    spikes = np.unpackbits(packed, axis=2, count=inputs)
    if spikes.shape != (samples, steps, inputs):
        raise StimulusError(
            f"{path}: field 'spikes' unpacks to {spikes.shape}, expected {(samples, steps, inputs)}"
        )
    return Stimulus(spikes.astype(np.uint8), labels)
