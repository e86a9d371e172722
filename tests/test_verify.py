"""``sdsnn export`` of a checkpoint in every format; ``sdsnn verify`` on good and bad exports."""

import json
import re
import subprocess
from dataclasses import asdict

import pytest
import torch

from sdsnn_hw.cli import main
from sdsnn_hw.fileio import sha256_file
from sdsnn_hw.model import NetworkConfig, SpikingNetwork
from tests.conftest import SDSNN
from tests.test_manifest import _edit_manifest


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(5)
    config = NetworkConfig(net="FC12-FC4", input_shape=(1, 2, 5), time_steps=5)
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    model = SpikingNetwork(config)
    torch.save({"model": model.state_dict(), "network": asdict(config), "classes": 4}, path)
    return path


@pytest.fixture
def export(checkpoint, tmp_path, capsys):
    # one lane: 6-bit weight words, so a word can be too wide for its hex digits
    assert main(["export", str(checkpoint), str(tmp_path / "export"), "--lanes", "1"]) == 0
    capsys.readouterr()
    return tmp_path / "export"


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sdsnn: error: "), err
    return err


def test_export_writes_every_format_and_records_the_checkpoint(export, checkpoint) -> None:
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["version"] == 5
    assert manifest["formats"] == ["mem", "coe", "mif", "h", "onnx", "nir"]
    assert manifest["source"] == {"file": "checkpoint.pt", "sha256": sha256_file(checkpoint)}
    assert manifest["config"]["network"]["net"] == "FC12-FC4"
    assert manifest["config"]["export"] == {
        "lanes": 1,
        "layout": "auto",
        "formats": manifest["formats"],
    }
    files = {entry["file"]: entry for entry in manifest["files"]}
    for name in ("network.onnx", "network.nir", "network.h", "l0_qonnx.onnx", "l1_qcdq.onnx"):
        assert files[name]["sha256"] == sha256_file(export / name)
    assert files["l0_weights.coe"]["memory"] == "l0_weights.mem"
    on_disk = {p.name for p in export.iterdir()} - {"manifest.json", ".sdsnn-output.json"}
    memories = {name for name in on_disk if name.endswith(".mem")}
    assert on_disk == set(files) | memories


def test_verify_passes_on_a_fresh_export(export, capsys) -> None:
    assert main(["verify", str(export)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["agrees"] and report["disagreements"] == []
    assert report["onnx_samples"] == 64 and report["files"] == 1 + 4 + 4 * 3 + 7


def test_export_formats_option(checkpoint, tmp_path, capsys) -> None:
    out = tmp_path / "only"
    assert main(["export", str(checkpoint), str(out), "--formats", "coe"]) == 0
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == sorted(
        ["manifest.json"]
        + [f"l{i}_{m}.{e}" for i in (0, 1) for m in ("ptr", "weights") for e in ("mem", "coe")]
    )
    with pytest.raises(SystemExit) as stop:
        main(["export", str(checkpoint), str(tmp_path / "bad"), "--formats", "mem,vhdl"])
    assert stop.value.code == 2 and "unknown format 'vhdl'" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_export_is_byte_identical(checkpoint, export, tmp_path, capsys) -> None:
    assert main(["export", str(checkpoint), str(tmp_path / "again"), "--lanes", "1"]) == 0
    names = sorted(p.name for p in export.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    for name in names:
        assert (export / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


def _no_output(folder) -> None:
    assert not folder.exists()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.")]


def test_export_of_a_missing_checkpoint(tmp_path, capsys) -> None:
    assert main(["export", str(tmp_path / "none.pt"), str(tmp_path / "out")]) == 2
    assert "none.pt: checkpoint not found" in _error(capsys)
    _no_output(tmp_path / "out")


def test_export_of_a_checkpoint_without_quantized_layers(checkpoint, tmp_path, capsys) -> None:
    saved = torch.load(checkpoint, weights_only=True)
    plain = torch.nn.Linear(10, 4)  # a float model: no Brevitas layer, no integer weights
    path = tmp_path / "float.pt"
    torch.save({**saved, "model": plain.state_dict()}, path)
    assert main(["export", str(path), str(tmp_path / "out")]) == 2
    err = _error(capsys)
    assert "float.pt: not an sdsnn-hw checkpoint" in err and "layers.0.weight" in err
    _no_output(tmp_path / "out")


DEPTH = r"l1_ptr\.mem: expected depth 13 words, found "


def _reseal_memory(folder, name: str, text: str, field: str) -> None:
    (folder / name).write_text(text)
    layer, part = field.split(".")
    _edit_manifest(
        folder,
        lambda raw: raw["layers"][int(layer)][part].update(sha256=sha256_file(folder / name)),
    )


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("1.ptr", lambda text: text[: text.rindex("\n", 0, -1) + 1], DEPTH + "12"),
        ("1.ptr", lambda text: text + text.splitlines()[-1] + "\n", DEPTH + "14"),
        ("1.weights", lambda text: "ff" + text[2:], r"l1_weights\.mem:1: 'ff' does not fit in 6"),
    ],
    ids=["truncated", "over-long", "too-wide"],
)  # fmt: skip
def test_verify_refuses_a_resealed_bad_memory(export, capsys, name, change, message) -> None:
    file = f"l{name.replace('.', '_')}.mem"
    _reseal_memory(export, file, change((export / file).read_text()), name)
    assert main(["verify", str(export)]) == 2
    assert re.search(message, _error(capsys))


def test_verify_refuses_a_missing_file(export, capsys) -> None:
    (export / "l0_weights.coe").unlink()
    assert main(["verify", str(export)]) == 2
    assert "l0_weights.coe: file named in the manifest is missing" in _error(capsys)


def test_verify_refuses_a_sha256_mismatch(export, capsys) -> None:
    path = export / "l0_ptr.mif"
    path.write_text(path.read_text().replace("DEPTH", "DEPTH ", 1))
    assert main(["verify", str(export)]) == 2
    assert "l0_ptr.mif: sha256 does not match the manifest" in _error(capsys)


def test_verify_refuses_an_unknown_manifest_version(export, capsys) -> None:
    _edit_manifest(export, lambda raw: raw.update(version=3))
    assert main(["verify", str(export)]) == 2
    assert "manifest.json: field 'version' must be 5" in _error(capsys)


def test_verify_refuses_a_resealed_malformed_coe(export, capsys) -> None:
    path = export / "l0_ptr.coe"
    text = path.read_text()
    path.write_text(text[: text.rindex(",") + 2])  # the last word is gone
    _edit_manifest(
        export,
        lambda raw: next(f for f in raw["files"] if f["file"] == "l0_ptr.coe").update(
            sha256=sha256_file(path)
        ),
    )
    assert main(["verify", str(export)]) == 2
    assert "l0_ptr.coe: the vector does not end in ';' (truncated file)" in _error(capsys)


def test_verify_exit_1_when_intact_files_disagree(export) -> None:
    """A .coe holding other (valid) words than its .mem, resealed: the formats disagree."""
    path = export / "l0_ptr.coe"
    lines = path.read_text().split("\n")
    lines[3] = "1" + lines[3][1:] if lines[3][0] != "1" else "2" + lines[3][1:]
    path.write_text("\n".join(lines))
    _edit_manifest(
        export,
        lambda raw: next(f for f in raw["files"] if f["file"] == "l0_ptr.coe").update(
            sha256=sha256_file(path)
        ),
    )
    result = subprocess.run([SDSNN, "verify", str(export)], capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["agrees"] is False
    assert report["disagreements"] == [f"{path}: words differ from l0_ptr.mem"]
