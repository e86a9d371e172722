"""Output folders: a command replaces only what it wrote, atomically, and never loses files."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from sdsnn_hw.cli import EXIT_USAGE, main
from sdsnn_hw.golden import GoldenNetwork
from sdsnn_hw.outdir import MARKER, OutputFolderError, foreign_files, output_folder
from tests.conftest import REPO


def _write(folder, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def _tree(folder) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_new_folder_is_written_with_its_marker(tmp_path) -> None:
    with output_folder(tmp_path / "out", "export") as work:
        _write(work, {"a.mem": "01\n", "sub/b.txt": "x"})
    assert sorted(_tree(tmp_path / "out")) == [MARKER, "a.mem", "sub/b.txt"]
    assert foreign_files(tmp_path / "out", "export") == []
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary left behind


def test_a_folder_the_tool_wrote_is_replaced_whole(tmp_path) -> None:
    with output_folder(tmp_path / "out", "export") as work:
        _write(work, {"old.mem": "01\n"})
    with output_folder(tmp_path / "out", "export") as work:
        _write(work, {"new.mem": "02\n"})
    assert sorted(_tree(tmp_path / "out")) == [MARKER, "new.mem"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize(
    ("case", "prepare"),
    [
        ("foreign file", lambda d: _write(d, {"notes.txt": "mine"})),
        ("edited file", lambda d: _write(d, {"old.mem": "ff\n"})),
        ("other kind", None),
    ],
)
def test_a_folder_with_anything_foreign_is_refused_and_kept(tmp_path, case, prepare) -> None:
    with output_folder(tmp_path / "out", "run") as work:
        _write(work, {"old.mem": "01\n"})
    if prepare is not None:
        prepare(tmp_path / "out")
    before = _tree(tmp_path / "out")
    kind = "export" if case == "other kind" else "run"
    refused = pytest.raises(OutputFolderError, match="holds files sdsnn did not write")
    with refused, output_folder(tmp_path / "out", kind) as work:
        _write(work, {"new.mem": "02\n"})
    assert _tree(tmp_path / "out") == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_force_moves_a_foreign_folder_aside_and_deletes_nothing(tmp_path) -> None:
    _write(tmp_path / "out", {"thesis.tex": "years of work"})
    messages = []
    with output_folder(tmp_path / "out", "export", force=True, log=messages.append) as work:
        _write(work, {"new.mem": "02\n"})
    assert sorted(_tree(tmp_path / "out")) == [MARKER, "new.mem"]
    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith("out.replaced-")]
    assert _tree(aside) == {"thesis.tex": b"years of work"}
    assert str(aside) in messages[0]


def test_a_failure_leaves_the_old_folder_and_no_temporary(tmp_path) -> None:
    with output_folder(tmp_path / "out", "export") as work:
        _write(work, {"old.mem": "01\n"})
    before = _tree(tmp_path / "out")
    with pytest.raises(RuntimeError, match="boom"), output_folder(tmp_path / "out", "export") as w:
        _write(w, {"half.mem": "0"})
        raise RuntimeError("boom")
    assert _tree(tmp_path / "out") == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_the_working_folder_is_never_an_output(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    refused = pytest.raises(OutputFolderError, match="is the working folder")
    with refused, output_folder(tmp_path, "export", force=True):
        pass


def test_export_into_a_run_folder_is_refused_and_the_run_survives(tmp_path, capsys) -> None:
    """`sdsnn export runs/demo/checkpoint.pt runs/demo` must not wipe the run."""
    run = tmp_path / "demo"
    _write(run, {"checkpoint.pt": "weights", "summary.json": "{}", "rtl/sim.log": "log"})
    before = _tree(run)
    code = main(["export", str(run / "checkpoint.pt"), str(run)])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds files sdsnn did not write" in err
    assert _tree(run) == before


def test_export_into_the_working_folder_is_refused(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, {"project.txt": "keep"})
    assert main(["export", "none.pt", ".", "--force"]) == EXIT_USAGE
    assert "is the working folder" in capsys.readouterr().err
    assert _tree(tmp_path) == {"project.txt": b"keep"}


def test_run_out_refuses_a_foreign_folder_before_training(tmp_path, capsys) -> None:
    _write(tmp_path / "out", {"data.csv": "1,2"})
    assert main(["run", "--out", str(tmp_path / "out"), "--no-rtl"]) == EXIT_USAGE
    assert "holds files sdsnn did not write as its run output" in capsys.readouterr().err
    assert _tree(tmp_path / "out") == {"data.csv": b"1,2"}


def test_rtl_work_refuses_a_foreign_folder(tmp_path, rng, capsys) -> None:
    from tests.networks import random_network, write_network

    write_network(tmp_path, random_network(rng, (4, 3), 6, 10, 1.0), np.ones((1, 2, 4)))
    _write(tmp_path / "work", {"notes.md": "mine"})
    code = main(["rtl", str(tmp_path / "export"), str(tmp_path / "stimulus.npz"),
                 "--work", str(tmp_path / "work")])  # fmt: skip
    assert code == EXIT_USAGE
    assert "holds files sdsnn did not write as its rtl output" in capsys.readouterr().err
    assert _tree(tmp_path / "work") == {"notes.md": b"mine"}


# A child process that exports one of two checkpoints over and over into the same folder;
# it prints "ready" once its imports are done, so the kills land inside the exports.
_EXPORT_LOOP = """
import sys
from sdsnn_hw.cli import main
print("ready", flush=True)
for i in range(1000):
    main(["export", sys.argv[1 + i % 2], sys.argv[3], "--formats", "mem"])
    print("exported", i % 2, flush=True)
"""


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory):
    """Two different checkpoints of a small network, and each one's export."""
    import torch

    from sdsnn_hw.model import NetworkConfig, SpikingMLP
    from sdsnn_hw.pipeline import RunConfig, _save_checkpoint

    folder = tmp_path_factory.mktemp("checkpoints")
    exports = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        model = SpikingMLP(NetworkConfig(sizes=(64, 96, 48, 10)))
        _save_checkpoint(folder / f"c{seed}.pt", model, RunConfig(), classes=10)
        # as the command writes it: the manifest names its checkpoint
        export = ["export", str(folder / f"c{seed}.pt"), str(folder / f"e{seed}")]
        assert main([*export, "--formats", "mem"]) == 0  # fast: the kills catch both
        exports.append(_tree(folder / f"e{seed}"))
    return [folder / "c1.pt", folder / "c2.pt"], exports


def test_a_killed_export_leaves_the_old_or_the_new_folder_complete(
    tmp_path, two_checkpoints
) -> None:
    checkpoints, exports = two_checkpoints
    out = tmp_path / "export"
    assert main(["export", str(checkpoints[0]), str(out), "--formats", "mem"]) == 0
    rng = np.random.default_rng(7)
    seen = set()
    for _ in range(12):
        child = subprocess.Popen(
            [sys.executable, "-c", _EXPORT_LOOP, *map(str, checkpoints), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=REPO,
        )
        assert child.stdout.readline().strip() == b"ready"
        # after 1 to 4 whole exports (so that both checkpoints come up whatever the
        # machine's speed), then somewhere inside the next one
        for _ in range(int(rng.integers(1, 5))):
            line = b""
            while not line.startswith(b"exported"):  # past the export's own table
                line = child.stdout.readline()
                assert line, "the export loop ended"
        time.sleep(float(rng.uniform(0.0, 0.2)))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        tree = _tree(out)
        assert tree in exports, "the export folder is neither the old nor the new one"
        seen.add(exports.index(tree))
        GoldenNetwork.from_export(out)  # complete and consistent: every checksum holds
    assert seen == {0, 1}, "the kills should have caught both exports in place"
