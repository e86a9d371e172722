"""Random corruptions of every input file, fed to every loader through the CLI.

Whatever is broken, a command either succeeds (the corruption changed nothing that
matters, e.g. JSON whitespace) or exits 2 with one line naming the problem: never a
traceback, never a partial output folder.
"""

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdsnn_hw.cli import EXIT_USAGE, main
from sdsnn_hw.fileio import sha256_bytes
from sdsnn_hw.manifest import _canonical
from tests.networks import random_network, write_network

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
EXPORT_FILES = ["manifest.json", "l0_ptr.mem", "l0_weights.mem", "l1_ptr.mem", "l1_weights.mem"]


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """A valid export, stimulus and checkpoint that every example starts from."""
    from sdsnn_hw.model import NetworkConfig, SpikingMLP
    from sdsnn_hw.pipeline import RunConfig, _save_checkpoint

    folder = tmp_path_factory.mktemp("good")
    rng = np.random.default_rng(5)
    layers = random_network(rng, (6, 5, 3), weight_bits=6, v_bits=10, density=0.6)
    write_network(folder, layers, (rng.random((3, 4, 6)) < 0.5).astype(np.uint8))
    torch.manual_seed(0)
    model = SpikingMLP(NetworkConfig(sizes=(6, 5, 3)))
    _save_checkpoint(folder / "checkpoint.pt", model, RunConfig(), classes=3)
    return folder


def _cli(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue()


def _assert_clean(code: int, err: str) -> None:
    assert code in (0, EXIT_USAGE), err
    if code == EXIT_USAGE:
        assert err.startswith("sdsnn: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err


@contextlib.contextmanager
def _copy(good: Path):
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "case"
        shutil.copytree(good, work)
        yield work


def _check_every_command(work: Path) -> None:
    export, stimulus = str(work / "export"), str(work / "stimulus.npz")
    code, err = _cli(["golden", export, stimulus])
    _assert_clean(code, err)
    if code == EXIT_USAGE:  # inputs the golden model refuses never reach a simulator
        code, err = _cli(["rtl", export, stimulus, "--work", str(work / "rtl")])
        assert code == EXIT_USAGE, err
        _assert_clean(code, err)
        assert not (work / "rtl").exists()
    code, err = _cli(["export", str(work / "checkpoint.pt"), str(work / "again")])
    _assert_clean(code, err)
    assert (work / "again").exists() == (code == 0)


byte_edits = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.just(0), st.just(0)),
    st.tuples(st.just("garbage"), st.integers(0, 64), st.integers(0, 2**32)),
)


def _edit_bytes(path: Path, edit: tuple[str, int, int]) -> None:
    kind, position, value = edit
    data = path.read_bytes()
    at = position % (len(data) + 1)
    if kind == "flip" and data:
        at %= len(data)
        data = data[:at] + bytes([data[at] ^ value]) + data[at + 1 :]
    elif kind == "truncate":
        data = data[:at]
    elif kind == "insert":
        data = data[:at] + bytes([value]) + data[at:]
    elif kind == "garbage":
        data = np.random.default_rng(value).bytes(position)
    if kind == "delete":
        path.unlink()
    else:
        path.write_bytes(data)


@FUZZ
@given(
    file=st.sampled_from(
        [f"export/{name}" for name in EXPORT_FILES] + ["stimulus.npz", "checkpoint.pt"]
    ),
    edit=byte_edits,
)
def test_a_damaged_file_is_refused_cleanly(good, file, edit) -> None:
    with _copy(good) as work:
        _edit_bytes(work / file, edit)
        _check_every_command(work)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
MANIFEST_FIELDS = ["inputs", "classes", "time_steps", "readout", "lanes", "layers", "generator"]
LAYER_FIELDS = [
    "name", "kind", "n_in", "n_out", "weight_bits", "v_bits", "acc_bits", "leak_shift", "v_th",
    "layout", "layout_bits", "nnz", "bank_depth", "addr_bits", "slot_bits", "ptr_bits",
    "weight_scale", "neuron_index", "ptr", "weights",
]  # fmt: skip
MEMORY_FIELDS = ["file", "depth", "width", "sha256"]


@FUZZ
@given(
    where=st.one_of(
        st.tuples(st.sampled_from(MANIFEST_FIELDS)),
        st.tuples(st.integers(0, 1), st.sampled_from(LAYER_FIELDS)),
        st.tuples(
            st.integers(0, 1), st.sampled_from(["ptr", "weights"]), st.sampled_from(MEMORY_FIELDS)
        ),
    ),
    value=json_values | st.integers(-3, 40),
    remove=st.booleans(),
)
def test_a_resealed_manifest_with_any_field_changed_is_refused_cleanly(
    good, where, value, remove
) -> None:
    """A tool that edits a field and recomputes the checksum: every field is re-validated."""
    with _copy(good) as work:
        path = work / "export" / "manifest.json"
        raw = json.loads(path.read_text())
        parent = raw if len(where) == 1 else raw["layers"][where[0]]
        if len(where) == 3:
            parent = parent[where[1]]
        if remove:
            parent.pop(where[-1])
        else:
            parent[where[-1]] = value
        body = {k: v for k, v in raw.items() if k != "manifest_sha256"}
        raw["manifest_sha256"] = sha256_bytes(_canonical(body))
        path.write_text(json.dumps(raw))
        _check_every_command(work)


arrays = st.one_of(
    st.builds(
        lambda dtype, shape, seed: (
            np.random.default_rng(seed).integers(-300, 300, size=shape).astype(dtype)
        ),
        st.sampled_from(["uint8", "int64", "int8", "float32", "bool"]),
        st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple),
        st.integers(0, 100),
    ),
)


@FUZZ
@given(field=st.sampled_from(["spikes", "shape", "labels"]), array=arrays, drop=st.booleans())
def test_a_stimulus_with_any_field_changed_is_refused_cleanly(good, field, array, drop) -> None:
    with _copy(good) as work:
        path = work / "stimulus.npz"
        with np.load(path) as data:
            fields = {name: data[name] for name in data.files}
        if drop:
            fields.pop(field)
        else:
            fields[field] = array
        with path.open("wb") as f:
            np.savez(f, **fields)
        _check_every_command(work)


@FUZZ
@given(
    key=st.sampled_from(["network", "classes", "model", "network.sizes", "network.weight_bits"]),
    value=json_values | st.lists(st.integers(-2, 70), max_size=4),
)
def test_a_checkpoint_with_any_field_changed_is_refused_cleanly(good, key, value) -> None:
    with _copy(good) as work:
        path = work / "checkpoint.pt"
        saved = torch.load(path, weights_only=True)
        target, _, inner = key.partition(".")
        if inner:
            saved[target][inner] = value
        else:
            saved[target] = value
        torch.save(saved, path)
        code, err = _cli(["export", str(path), str(work / "again")])
        _assert_clean(code, err)
        assert (work / "again").exists() == (code == 0)
