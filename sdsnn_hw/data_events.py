"""Event-camera data sets from files on disk, binned into binary event frames.

N-MNIST and DVS-Gesture are read in the layouts ``tonic`` (1.7) leaves after its own
download and extraction, so a folder tonic prepared works here; nothing is downloaded.
The readers are NumPy only: tonic itself pulls in librosa and numba, far more than two
binary formats need.

- N-MNIST: ``<dir>/Train/<digit>/<id>.bin`` and ``<dir>/Test/...``; 5 bytes per event:
  x, y, then polarity (bit 7) and a 23-bit timestamp in microseconds (big-endian).
- DVS-Gesture: ``<dir>/ibmGestureTrain/<user>_<light>/<label>.npy`` and
  ``<dir>/ibmGestureTest/...``; each file an (events, 4) array of x, y, polarity, t.

A sample becomes ``T`` frames of (polarity, y, x): a 1 where the pixel had at least one
event of that polarity in that time bin (equal bins over the sample's span).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NMNIST_SPLITS = ("Train", "Test")
DVSGESTURE_SPLITS = ("ibmGestureTrain", "ibmGestureTest")
NMNIST_SENSOR = 34
NMNIST_SIZE = 32  # one border pixel cropped: the conv net's two 2x2 poolings need 32
DVSGESTURE_SENSOR = 128
DVSGESTURE_SIZE = 32  # 4 x 4 sensor pixels per input


class EventDataError(ValueError):
    """An event file or folder that is missing or not in the expected format."""


def read_nmnist_bin(path: Path) -> np.ndarray:
    """Events (n, 4) int64 columns x, y, polarity, t (us) of an N-MNIST ``.bin`` file."""
    raw = np.fromfile(path, dtype=np.uint8)
    if len(raw) % 5:
        raise EventDataError(f"{path}: {len(raw)} bytes, not a whole number of 5-byte events")
    b = raw.reshape(-1, 5).astype(np.int64)
    t = ((b[:, 2] & 0x7F) << 16) | (b[:, 3] << 8) | b[:, 4]
    return np.stack([b[:, 0], b[:, 1], b[:, 2] >> 7, t], axis=1)


def read_dvsgesture_npy(path: Path) -> np.ndarray:
    """Events (n, 4) int64 columns x, y, polarity, t of a DVS-Gesture ``.npy`` file."""
    try:
        events = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise EventDataError(f"{path}: not a NumPy array file ({exc})") from None
    if events.ndim != 2 or events.shape[1] != 4:
        raise EventDataError(f"{path}: expected an (events, 4) array, got {events.shape}")
    return events.astype(np.int64)


def event_frames(events: np.ndarray, steps: int, size: int, scale: int, crop: int) -> np.ndarray:
    """Binary frames (steps, 2 * size * size) uint8 in (polarity, y, x) C order.

    Pixel ``(x, y)`` goes to ``((x - crop) // scale, (y - crop) // scale)``; events that
    land outside ``size`` are dropped.
    """
    frames = np.zeros((steps, 2, size, size), np.uint8)
    if len(events):
        x, y, p, t = ((events[:, i] - (crop if i < 2 else 0)) for i in range(4))
        x, y = x // scale, y // scale
        span = max(int(t.max() - t.min()), 1)
        step = np.minimum((t - t.min()) * steps // span, steps - 1)
        keep = (x >= 0) & (x < size) & (y >= 0) & (y < size) & (p >= 0) & (p <= 1)
        frames[step[keep], p[keep], y[keep], x[keep]] = 1
    return frames.reshape(steps, -1)


def _files(folder: Path, pattern: str, what: str) -> list[Path]:
    if not folder.is_dir():
        raise EventDataError(f"{folder}: folder not found; expected {what}")
    files = sorted(folder.glob(pattern))
    if not files:
        raise EventDataError(f"{folder}: no {pattern} files; expected {what}")
    return files


def load_nmnist(folder: Path, steps: int) -> tuple[np.ndarray, ...]:
    """``x_train, y_train, x_test, y_test`` of N-MNIST, frames (n, steps, 2 * 32 * 32)."""
    parts = []
    for split in NMNIST_SPLITS:
        files = _files(folder / split, "*/*.bin", f"{split}/<digit>/<id>.bin (tonic's NMNIST)")
        labels = []
        for f in files:
            if not f.parent.name.isdigit() or int(f.parent.name) > 9:
                raise EventDataError(f"{f}: the folder must be the digit 0..9")
            labels.append(int(f.parent.name))
        frames = [event_frames(read_nmnist_bin(f), steps, NMNIST_SIZE, 1, 1) for f in files]
        parts += [np.stack(frames), np.array(labels, np.int64)]
    return tuple(parts)


def load_dvsgesture(folder: Path, steps: int) -> tuple[np.ndarray, ...]:
    """``x_train, y_train, x_test, y_test`` of DVS-Gesture, frames (n, steps, 2 * 32 * 32)."""
    parts = []
    scale = DVSGESTURE_SENSOR // DVSGESTURE_SIZE
    for split in DVSGESTURE_SPLITS:
        what = f"{split}/<user>_<lighting>/<label 0..10>.npy (tonic's DVSGesture)"
        files = _files(folder / split, "*/*.npy", what)
        labels = []
        for f in files:
            if not f.stem.isdigit() or int(f.stem) > 10:
                raise EventDataError(f"{f}: the file name must be the class 0..10")
            labels.append(int(f.stem))
        frames = [
            event_frames(read_dvsgesture_npy(f), steps, DVSGESTURE_SIZE, scale, 0) for f in files
        ]
        parts += [np.stack(frames), np.array(labels, np.int64)]
    return tuple(parts)
