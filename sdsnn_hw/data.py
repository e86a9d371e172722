"""Data sets and the rate encoder that turns pixels into input spike trains."""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DATASETS = ("digits", "fashion-mnist")
_SHAPES = {"digits": ((1, 8, 8), 10), "fashion-mnist": ((1, 28, 28), 10)}


class DataError(ValueError):
    """A data set is unknown, missing or malformed."""


@dataclass(frozen=True)
class Dataset:
    """A classification data set with features scaled to [0, 1].

    Attributes:
        name: registry name.
        x_train, x_test: float32 arrays of shape (samples, features), values in [0, 1],
            the C-order pixels of ``input_shape`` images.
        y_train, y_test: int64 class labels.
        n_classes: number of classes.
        input_shape: (channels, height, width) of an image.
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
        return int(self.x_train.shape[1])


def dataset_shape(name: str) -> tuple[tuple[int, int, int], int]:
    """A data set's image shape (channels, height, width) and class count, unloaded."""
    if name not in _SHAPES:
        raise DataError(f"unknown data set {name!r}; expected one of: {', '.join(DATASETS)}")
    return _SHAPES[name]


def load_dataset(name: str, data_dir: Path | None = None, test_fraction: float = 0.2) -> Dataset:
    """Load a data set by name.

    Args:
        name: ``digits`` (scikit-learn, embedded) or ``fashion-mnist`` (IDX files).
        data_dir: folder holding the IDX files for ``fashion-mnist``; defaults to the
            Debian package location.
        test_fraction: held-out fraction for ``digits`` (a fixed stratified split).
    """
    if name == "digits":
        return _load_digits(test_fraction)
    if name == "fashion-mnist":
        return _load_fashion_mnist(data_dir or FASHION_MNIST_DIR)
    raise DataError(f"unknown data set {name!r}; expected one of: {', '.join(DATASETS)}")


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


def _load_fashion_mnist(folder: Path) -> Dataset:
    shape, classes = dataset_shape("fashion-mnist")

    def part(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
        labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(
                f"{folder}: {prefix} images {images.shape} and labels {labels.shape} do not pair up"
            )
        if images.shape[1:] != shape[1:]:
            raise DataError(
                f"{folder}: {prefix} images must be {shape[1]}x{shape[2]}, got {images.shape[1:]}"
            )
        x = images.reshape(len(images), -1).astype(np.float32) / 255.0
        return x, labels.astype(np.int64)

    x_train, y_train = part("train")
    x_test, y_test = part("t10k")
    return Dataset("fashion-mnist", x_train, y_train, x_test, y_test, classes, shape)


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed), the format of (Fashion-)MNIST."""
    if not path.is_file():
        raise DataError(
            f"{path}: file not found (install Debian's dataset-fashion-mnist or pass --data-dir)"
        )
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
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
    simulation see the same spike trains.

    Returns:
        uint8 array of shape (samples, time_steps, features).
    """
    rng = np.random.default_rng(seed)
    uniform = rng.random((x.shape[0], time_steps, x.shape[1]), dtype=np.float32)
    return (uniform < x[:, None, :]).astype(np.uint8)
