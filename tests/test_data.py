import gzip
import struct

import numpy as np
import pytest

from sdsnn_hw.data import DataError, encode_rate, load_dataset, read_idx
from sdsnn_hw.stimulus import Stimulus, StimulusError, load_stimulus, save_stimulus


def test_digits_split_is_fixed_and_large_enough() -> None:
    a, b = load_dataset("digits"), load_dataset("digits")
    assert len(a.y_test) >= 300
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert a.x_train.max() <= 1.0 and a.n_features == 64 and a.n_classes == 10


def test_unknown_dataset_names_the_choices() -> None:
    with pytest.raises(DataError, match=r"unknown data set 'mnist3'.*digits"):
        load_dataset("mnist3")


def test_rate_encoding_is_deterministic_and_follows_intensity() -> None:
    x = np.array([[0.0, 0.5, 1.0]], np.float32)
    a = encode_rate(x, 2000, seed=7)
    np.testing.assert_array_equal(a, encode_rate(x, 2000, seed=7))
    rates = a.mean(axis=1)[0]
    assert rates[0] == 0 and rates[2] == 1 and 0.45 < rates[1] < 0.55


def _write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_loader_reads_idx_files(tmp_path, rng) -> None:
    for prefix, n in (("train", 6), ("t10k", 4)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    data = load_dataset("fashion-mnist", tmp_path)
    assert data.x_train.shape == (6, 784) and data.x_test.shape == (4, 784)
    assert data.x_test.min() >= 0.0 and data.x_test.max() <= 1.0


def test_truncated_idx_file_is_reported(tmp_path) -> None:
    path = tmp_path / "bad-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10) + b"\x01\x02")
    with pytest.raises(DataError, match="expected 10 data bytes"):
        read_idx(path)


def test_missing_fashion_mnist_points_at_the_package(tmp_path) -> None:
    with pytest.raises(DataError, match="dataset-fashion-mnist"):
        load_dataset("fashion-mnist", tmp_path)


def test_stimulus_roundtrip_and_errors(tmp_path, rng) -> None:
    spikes = (rng.random((5, 3, 11)) < 0.5).astype(np.uint8)
    save_stimulus(tmp_path / "s.npz", Stimulus(spikes, np.arange(5)))
    loaded = load_stimulus(tmp_path / "s.npz")
    np.testing.assert_array_equal(loaded.spikes, spikes)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(StimulusError, match=r"junk\.npz"):
        load_stimulus(tmp_path / "junk.npz")
