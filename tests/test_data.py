import gzip
import re
import struct

import numpy as np
import pytest
import torch

from sdsnn_hw.data import DataError, encode, encode_rate, encode_sigma_delta, load_dataset, read_idx
from sdsnn_hw.rate_code import training_spikes
from sdsnn_hw.stimulus import Stimulus, StimulusError, load_stimulus, save_stimulus
from tests.test_formats import contract_table


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


@pytest.mark.parametrize(("pixel", "train"), contract_table("sigma-delta"))
def test_the_contract_sigma_delta_examples(pixel: str, train: str) -> None:
    spikes = encode_sigma_delta(np.array([[float(pixel)]], np.float32), len(train))
    assert "".join(map(str, spikes[0, :, 0])) == train


def test_sigma_delta_fires_t_times_x_rounded_half_up_and_ignores_the_seed(rng) -> None:
    x = rng.random((40, 50), dtype=np.float32)
    spikes = encode(x, 12, seed=1, encoding="sigma-delta")
    np.testing.assert_array_equal(spikes, encode(x, 12, seed=2, encoding="sigma-delta"))
    level = np.round(x * 65536).astype(np.int64)
    np.testing.assert_array_equal(spikes.sum(axis=1), (12 * level + 32768) >> 16)


@pytest.mark.parametrize("encoding", ["rate", "sigma-delta"])
def test_training_encoder_matches_the_stimulus_encoder(encoding: str, rng) -> None:
    """Training batches and the test stimulus: sigma-delta gives the same bits in both,
    rate coding draws from another generator but with the same probabilities."""
    x = rng.random((30, 64), dtype=np.float32)
    x[0, :3] = [0.0, 1.0, 0.5]
    batch = training_spikes(torch.from_numpy(x), 9, torch.Generator().manual_seed(0), encoding)
    stimulus = encode(x, 9, seed=5, encoding=encoding)
    assert batch.shape == (9, 30, 64) and batch.dtype == torch.uint8
    same = np.array_equal(batch.permute(1, 0, 2).numpy(), stimulus)
    assert same == (encoding == "sigma-delta")


def test_unknown_encoding_names_the_choices() -> None:
    with pytest.raises(DataError, match=r"unknown spike encoding 'poisson'.*rate, sigma-delta"):
        encode(np.zeros((1, 2), np.float32), 4, seed=0, encoding="poisson")


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


def test_mnist_reads_uncompressed_idx_files(tmp_path, rng) -> None:
    for prefix, n in (("train", 5), ("t10k", 3)):
        parts = (("images-idx3", rng.integers(0, 256, (n, 28, 28))),)
        parts += (("labels-idx1", rng.integers(0, 10, n)),)
        for kind, array in parts:
            _write_idx(tmp_path / f"{prefix}-{kind}-ubyte.gz", array)
            raw = gzip.decompress((tmp_path / f"{prefix}-{kind}-ubyte.gz").read_bytes())
            (tmp_path / f"{prefix}-{kind}-ubyte.gz").unlink()
            (tmp_path / f"{prefix}-{kind}-ubyte").write_bytes(raw)
    data = load_dataset("mnist", tmp_path)
    assert data.x_train.shape == (5, 784) and data.name == "mnist" and data.n_classes == 10


@pytest.mark.parametrize(
    ("name", "folder", "message"),
    [
        (
            "fashion-mnist",
            "empty",
            "expected train-images-idx3-ubyte.gz or train-images-idx3-ubyte",
        ),
        ("mnist", None, "data set 'mnist' is read from files: set key 'data.data_dir'"),
        ("mnist", "missing", "missing: the mnist data folder does not exist"),
        ("nmnist", "empty", "Train: folder not found; expected Train/<digit>/<id>.bin"),
        ("dvsgesture", "empty", "ibmGestureTrain: folder not found; expected ibmGestureTrain/"),
    ],
)
def test_a_missing_data_folder_says_what_is_expected_where(tmp_path, name, folder, message):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=re.escape(message)):
        load_dataset(name, None if folder is None else tmp_path / folder)


def test_the_cli_exits_2_on_a_missing_data_folder(tmp_path, capsys) -> None:
    from sdsnn_hw.cli import EXIT_USAGE, main

    args = ["train", "--preset", "paper-mnist", "--set", f"data.data_dir='{tmp_path}/none'"]
    assert main([*args, "--out", str(tmp_path / "out")]) == EXIT_USAGE
    assert f"{tmp_path}/none: the mnist data folder does not exist" in capsys.readouterr().err


def _nmnist_bin(events) -> bytes:
    """tonic's / the original N-MNIST .bin: x, y, polarity bit 7 + 23-bit time (us)."""
    out = bytearray()
    for x, y, p, t in events:
        out += bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 255, t & 255])
    return bytes(out)


def test_nmnist_bin_files_become_event_frames(tmp_path) -> None:
    events = [(1, 1, 1, 0), (2, 1, 0, 70000), (33, 5, 1, 100000), (0, 3, 1, 50000)]
    assert read_nmnist_bin_bytes(tmp_path, _nmnist_bin(events)).tolist() == [
        list(e) for e in events
    ]
    for split, digit in (("Train", 3), ("Train", 7), ("Test", 9)):
        (tmp_path / split / str(digit)).mkdir(parents=True)
        (tmp_path / split / str(digit) / "00001.bin").write_bytes(_nmnist_bin(events))
    data = load_dataset("nmnist", tmp_path)
    assert data.x_train.shape == (2, 20, 2 * 32 * 32) and data.x_train.dtype == np.uint8
    assert data.y_train.tolist() == [3, 7] and data.y_test.tolist() == [9]
    frames = data.x_test[0].reshape(20, 2, 32, 32)
    # one border pixel cropped: (1, 1) -> (0, 0); x = 33 and x = 0 fall outside
    # bins of 100000 / 20 us: t = 0 -> 0, 70000 -> 14, the last event -> 19 (clipped)
    assert frames[0, 1, 0, 0] == 1 and frames[14, 0, 0, 1] == 1
    assert int(frames.sum()) == 2
    assert encode_rate(data.x_test, 20, seed=5) is not None
    with pytest.raises(DataError, match=r"'neuron\.time_steps' must be 20, got 12"):
        encode_rate(data.x_test, 12, seed=5)
    (tmp_path / "Test" / "9" / "00002.bin").write_bytes(b"\x00" * 7)
    with pytest.raises(DataError, match="7 bytes, not a whole number of 5-byte events"):
        load_dataset("nmnist", tmp_path)


def read_nmnist_bin_bytes(folder, raw: bytes) -> np.ndarray:
    from sdsnn_hw.data_events import read_nmnist_bin

    (folder / "one.bin").write_bytes(raw)
    return read_nmnist_bin(folder / "one.bin")


def test_dvsgesture_npy_files_become_downsampled_frames(tmp_path) -> None:
    events = np.array([[0, 0, 1, 0], [127, 4, 0, 640], [8, 127, 1, 1279]], np.float64)
    for split, label in (("ibmGestureTrain", 10), ("ibmGestureTest", 0)):
        (tmp_path / split / "user01_fluorescent").mkdir(parents=True)
        np.save(tmp_path / split / "user01_fluorescent" / f"{label}.npy", events)
    data = load_dataset("dvsgesture", tmp_path)
    assert data.x_train.shape == (1, 64, 2 * 32 * 32) and data.n_classes == 11
    assert data.y_train.tolist() == [10] and data.y_test.tolist() == [0]
    frames = data.x_train[0].reshape(64, 2, 32, 32)
    # 4 x 4 sensor pixels per input; 64 bins over 1279: t = 640 -> bin 32
    assert frames[0, 1, 0, 0] == 1 and frames[32, 0, 1, 31] == 1 and frames[63, 1, 31, 2] == 1
    assert int(frames.sum()) == 3
    np.save(tmp_path / "ibmGestureTest" / "user01_fluorescent" / "11.npy", events)
    with pytest.raises(DataError, match=r"11\.npy: the file name must be the class 0\.\.10"):
        load_dataset("dvsgesture", tmp_path)


def test_event_frames_train_through_the_trainer(tmp_path) -> None:
    """Frames go in as spikes: no rate coding, T from the data."""
    from sdsnn_hw.data import Dataset
    from sdsnn_hw.model import NetworkConfig, SpikingNetwork
    from sdsnn_hw.structure import StructureConfig
    from sdsnn_hw.train import TrainConfig, train

    rng = np.random.default_rng(0)
    frames = (rng.random((12, 4, 2 * 4 * 4)) < 0.3).astype(np.uint8)
    labels = np.arange(12) % 2
    data = Dataset("events", frames, labels, frames[:4], labels[:4], 2, (2, 4, 4))
    model = SpikingNetwork(NetworkConfig(net="FC6-FC2", input_shape=(2, 4, 4), time_steps=4))
    result = train(data, model, TrainConfig(epochs=2, batch_size=4), StructureConfig(), False)
    assert len(result.metrics) == 2 and 0.0 <= result.metrics[-1]["test_accuracy"] <= 1.0


def test_stimulus_roundtrip_and_errors(tmp_path, rng) -> None:
    spikes = (rng.random((5, 3, 11)) < 0.5).astype(np.uint8)
    save_stimulus(tmp_path / "s.npz", Stimulus(spikes, np.arange(5)))
    loaded = load_stimulus(tmp_path / "s.npz")
    np.testing.assert_array_equal(loaded.spikes, spikes)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(StimulusError, match=r"junk\.npz"):
        load_stimulus(tmp_path / "junk.npz")
