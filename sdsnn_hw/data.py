"""Data sets and the encoders that turn pixels into input spike trains.

Image data sets (digits, MNIST, Fashion-MNIST) hold pixels in [0, 1], encoded at every
use (:data:`ENCODINGS`); event data sets (N-MNIST, DVS-Gesture,
:mod:`sdsnn_hw.data_events`) hold binary event frames, the spikes themselves.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdsnn_hw.data_events import (
    DVSGESTURE_SIZE,
    NMNIST_SIZE,
    EventDataError,
    load_dvsgesture,
    load_nmnist,
)

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DATASETS = ("digits", "mnist", "fashion-mnist", "nmnist", "dvsgesture")
# Bernoulli rate coding, or sigma-delta: the same spike count for every presentation of
# a pixel, evenly spread (docs/hardware-contract.md, section 8)
RATE = "rate"
SIGMA_DELTA = "sigma-delta"
ENCODINGS = (RATE, SIGMA_DELTA)
SIGMA_DELTA_BITS = 16  # pixels at 2**-16 resolution in the sigma-delta encoder
SIGMA_DELTA_ONE = 1 << SIGMA_DELTA_BITS
_SHAPES = {
    "digits": ((1, 8, 8), 10),
    "mnist": ((1, 28, 28), 10),
    "fashion-mnist": ((1, 28, 28), 10),
    "nmnist": ((2, NMNIST_SIZE, NMNIST_SIZE), 10),
    "dvsgesture": ((2, DVSGESTURE_SIZE, DVSGESTURE_SIZE), 11),
}
# event frames per sample: the paper's T of each event data set
EVENT_STEPS = {"nmnist": 20, "dvsgesture": 64}


class DataError(ValueError):
    """A data set is unknown, missing or malformed."""


@dataclass(frozen=True)
class Dataset:
    """A classification data set.

    Attributes:
        name: registry name.
        x_train, x_test: float32 arrays (samples, features), values in [0, 1], the
            C-order pixels of ``input_shape`` images; for event data sets uint8 0/1
            frames (samples, time steps, features).
        y_train, y_test: int64 class labels.
        n_classes: number of classes.
        input_shape: (channels, height, width) of an image or frame.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    input_shape: tuple[int, int, int]

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[-1])


def dataset_shape(name: str) -> tuple[tuple[int, int, int], int]:
    """A data set's image shape (channels, height, width) and class count, unloaded."""
    if name not in _SHAPES:
        raise DataError(f"unknown data set {name!r}; expected one of: {', '.join(DATASETS)}")
    return _SHAPES[name]


def load_dataset(name: str, data_dir: Path | None = None, test_fraction: float = 0.2) -> Dataset:
    """Load a data set by name.

    Args:
        name: ``digits`` (scikit-learn, embedded); ``mnist`` or ``fashion-mnist`` (a
            folder of IDX files, gzipped or not); ``nmnist`` or ``dvsgesture`` (event
            files as tonic extracts them, see :mod:`sdsnn_hw.data_events`).
        data_dir: the folder; ``fashion-mnist`` defaults to the Debian package location,
            the other file-based sets need one.
        test_fraction: held-out fraction for ``digits`` (a fixed stratified split).

    Raises:
        DataError: naming the folder or file and what was expected there.
    """
    shape, classes = dataset_shape(name)
    if name == "digits":
        return _load_digits(test_fraction)
    if name == "fashion-mnist":
        data_dir = data_dir or FASHION_MNIST_DIR
    if data_dir is None:
        raise DataError(
            f"data set {name!r} is read from files: set key 'data.data_dir' (or --data-dir)"
        )
    folder = Path(data_dir)
    if not folder.is_dir():
        hint = " (install Debian's dataset-fashion-mnist)" if folder == FASHION_MNIST_DIR else ""
        raise DataError(f"{folder}: the {name} data folder does not exist{hint}")
    if name in EVENT_STEPS:
        loader = load_nmnist if name == "nmnist" else load_dvsgesture
        try:
            x_train, y_train, x_test, y_test = loader(folder, EVENT_STEPS[name])
        except EventDataError as exc:
            raise DataError(str(exc)) from None
    else:
        x_train, y_train = _idx_split(folder, "train", shape, classes)
        x_test, y_test = _idx_split(folder, "t10k", shape, classes)
    return Dataset(name, x_train, y_train, x_test, y_test, classes, shape)


def _load_digits(test_fraction: float) -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=0, stratify=y
    )
    shape, classes = dataset_shape("digits")
    return Dataset("digits", x_train, y_train, x_test, y_test, classes, shape)


def _idx_file(folder: Path, stem: str) -> Path:
    """``<stem>.gz`` or ``<stem>`` in ``folder`` (``train-images-idx3-ubyte``)."""
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder}: expected {stem}.gz or {stem} (an IDX file) in this folder")


def _idx_split(
    folder: Path, prefix: str, shape: tuple[int, int, int], classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels in [0, 1] (samples, features) and labels of one split of IDX files."""
    images = read_idx(_idx_file(folder, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_idx_file(folder, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{folder}: {prefix} images {images.shape} and labels {labels.shape} do not pair up"
        )
    if images.shape[1:] != shape[1:]:
        raise DataError(
            f"{folder}: {prefix} images must be {shape[1]}x{shape[2]}, got {images.shape[1:]}"
        )
    if len(labels) and int(labels.max()) >= classes:
        raise DataError(f"{folder}: {prefix} labels must be 0..{classes - 1}")
    x = images.reshape(len(images), -1).astype(np.float32) / 255.0
    return x, labels.astype(np.int64)


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed), the format of (Fashion-)MNIST."""
    if not path.is_file():
        raise DataError(
            f"{path}: file not found (install Debian's dataset-fashion-mnist or pass --data-dir)"
        )
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:  # a broken gzip stream
        raise DataError(f"{path}: cannot be read ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: IDX header cut short")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = raw[4 + 4 * ndim :]
    if len(body) != expected:
        raise DataError(
            f"{path}: expected {expected} data bytes for shape {dims}, found {len(body)}"
        )
    return np.frombuffer(body, dtype=dtype).reshape(dims)


def encode_rate(x: np.ndarray, time_steps: int, seed: int) -> np.ndarray:
    """Bernoulli rate coding: spike[n, t, j] = uniform(n, t, j) < x[n, j].

    Deterministic for a given seed, so the QAT model, the golden model and the RTL
    simulation see the same spike trains. Event frames (samples, steps, features) are
    spikes already: they come back as they are (:func:`event_spikes`).

    Returns:
        uint8 array of shape (samples, time_steps, features).
    """
    if x.ndim == 3:
        return event_spikes(x, time_steps)
    rng = np.random.default_rng(seed)
    uniform = rng.random((x.shape[0], time_steps, x.shape[1]), dtype=np.float32)
    return (uniform < x[:, None, :]).astype(np.uint8)


def encode_sigma_delta(x: np.ndarray, time_steps: int) -> np.ndarray:
    """First-order sigma-delta coding, deterministic: ``spike[n, t, j] = c(t + 1) - c(t)``
    with ``c(t) = (t * L + 2**15) >> 16`` and ``L = round(x[n, j] * 2**16)``.

    A pixel fires ``c(T)`` times (``T * x`` rounded half up, at 2**-16 resolution),
    evenly spaced; integer arithmetic, so :func:`sdsnn_hw.rate_code.sigma_delta_spikes`
    gives the same bits in training. Event frames come back as they are.

    Returns:
        uint8 array of shape (samples, time_steps, features).
    """
    if x.ndim == 3:
        return event_spikes(x, time_steps)
    level = np.round(x.astype(np.float32) * np.float32(SIGMA_DELTA_ONE)).astype(np.int64)
    t = np.arange(time_steps + 1, dtype=np.int64)[None, :, None]
    count = (t * level[:, None, :] + SIGMA_DELTA_ONE // 2) >> SIGMA_DELTA_BITS
    return (count[:, 1:] - count[:, :-1]).astype(np.uint8)


def encode(x: np.ndarray, time_steps: int, seed: int, encoding: str = RATE) -> np.ndarray:
    """The test-split stimulus in ``encoding`` (one of :data:`ENCODINGS`); ``seed`` seeds
    rate coding only."""
    if encoding == RATE:
        return encode_rate(x, time_steps, seed)
    if encoding == SIGMA_DELTA:
        return encode_sigma_delta(x, time_steps)
    raise DataError(f"unknown spike encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")


def event_spikes(frames: np.ndarray, time_steps: int) -> np.ndarray:
    """Event frames (samples, steps, features) as spikes, checked against ``time_steps``."""
    if frames.shape[1] != time_steps:
        raise DataError(
            f"the data set has {frames.shape[1]} event frames per sample, so key "
            f"'neuron.time_steps' must be {frames.shape[1]}, got {time_steps}"
        )
    return frames.astype(np.uint8, copy=False)
