"""`sdsnn report`: a complete run folder and folders missing pieces, each page opened in
headless Chromium with every figure checked; the screenshot is kept as an artifact."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from sdsnn_hw.cli import main
from sdsnn_hw.energy import count_export, energy_summary
from sdsnn_hw.export import export_model
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.model import NetworkConfig, SpikingNetwork
from sdsnn_hw.outdir import MARKER, foreign_files, output_folder
from sdsnn_hw.pipeline import RunConfig, _save_checkpoint
from sdsnn_hw.report import rtl_spikes, write_metrics, write_report
from sdsnn_hw.stimulus import Stimulus, save_stimulus
from sdsnn_hw.trainer import METRICS
from tests.conftest import REPO

ARTIFACTS = REPO / "build" / "test-artifacts"
FIGURES = 8  # training 2, weights, memory, raster, cycles, energy 2


def _record(spikes: list[np.ndarray]) -> str:
    """An RTL record of one sample as the sim top's recorder writes it: per step ``s``,
    then per layer the spike vector in hex (neuron 0 in bit 0) and a membrane field."""
    lines = []
    for t in range(spikes[0].shape[0]):
        fields = []
        for layer in spikes:
            value = sum(int(bit) << k for k, bit in enumerate(layer[t]))
            fields += [f"{value:0{(layer.shape[1] + 3) // 4}x}", "0000"]
        lines.append("s " + " ".join(fields))
    return "\n".join(lines) + "\ne 0\n"


def build_run_folder(folder: Path) -> None:
    """A complete run folder from a small untrained network: checkpoint, export,
    stimulus, summary with energy, metrics, RTL record, synthesis summary."""
    torch.manual_seed(0)
    model = SpikingNetwork(NetworkConfig(sizes=(16, 12, 4), time_steps=6, v_th=0.1))
    with torch.no_grad():  # a sparse network, so layouts and baselines differ
        for layer in model.layers:
            layer.weight.mul_(torch.rand_like(layer.weight) < 0.6)
    _save_checkpoint(folder / "checkpoint.pt", model, RunConfig(), 4)
    manifest = export_model(
        folder / "export", model, 4, lanes=4, formats=("mem",), source=folder / "checkpoint.pt"
    )
    rng = np.random.default_rng(7)
    spikes = (rng.random((12, 6, 16)) < 0.4).astype(np.uint8)
    save_stimulus(folder / "stimulus" / "test.npz", Stimulus(spikes, rng.integers(0, 4, 12)))
    energy = energy_summary(count_export(folder / "export", spikes))
    summary = {"dataset": "unit", "accuracy_golden": 0.5, "lanes": manifest.lanes,
               "energy_uj_per_inference": energy}  # fmt: skip
    (folder / "summary.json").write_text(json.dumps(summary))
    write_metrics(
        folder,
        [
            {"epoch": e, "loss": 1.0 / e, "train_accuracy": 0.3 * e, "test_accuracy": 0.25 * e,
             "pruning_rate": [0.1 * e, 0.0], "pruned_neurons": [e, 0],
             "regrown_synapses": [2 * e, 0]}
            for e in (1, 2, 3)
        ],
    )  # fmt: skip
    golden = run_network(GoldenNetwork.from_export(folder / "export"), spikes[:1])
    (folder / "rtl").mkdir()
    (folder / "rtl" / "record.txt").write_text(_record([s[0] for s in golden.spikes]))
    (folder / "synth").mkdir()
    synth = {"target": "ecp5", "lanes": 4, "lut": 1234, "ff": 567, "bram": 2, "dsp": 0,
             "fmax_mhz": 110.0, "timing_met": True}  # fmt: skip
    (folder / "synth" / "summary.json").write_text(json.dumps(synth))


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    build_run_folder(folder)
    return folder


@pytest.fixture(scope="module")
def reported(run_folder, tmp_path_factory) -> Path:
    """A copy of the complete folder with its report written."""
    folder = tmp_path_factory.mktemp("reported") / "run"
    shutil.copytree(run_folder, folder)
    write_report(folder, title="run")
    return folder


def _open(chromium: str, page: Path, screenshot: Path | None = None) -> str:
    """The page's DOM after load (and a full-page screenshot) from headless Chromium."""
    profile = page.parent / ".chromium-profile"
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={profile}"]  # fmt: skip
    if screenshot is not None:
        shot = subprocess.run(
            [*flags, "--window-size=1200,4000", f"--screenshot={screenshot}", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert shot.returncode == 0, shot.stderr[-2000:]
    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    shutil.rmtree(profile, ignore_errors=True)
    assert dom.returncode == 0, dom.stderr[-2000:]
    return dom.stdout


def _check_rendered(dom: str, figures: int) -> None:
    """Every image decoded with a width, none broken, no reference outside the page."""
    assert f'data-images-rendered="{figures}/{figures}"' in dom
    widths = re.findall(r'data-rendered="([^"]*)"', dom)
    assert len(widths) == figures and all(w.isdigit() and int(w) > 100 for w in widths)
    references = re.findall(r'(?:src|href)="([^"]*)"', dom)
    assert all(ref.startswith("data:image/png;base64,") for ref in references)


def test_complete_folder_renders_every_figure_in_chromium(reported, chromium) -> None:
    html = (reported / "report.html").read_text()
    assert html.count("data:image/png;base64,") == FIGURES
    markdown = (reported / "report.md").read_text()
    assert "not a power measurement" in html and "not a power measurement" in markdown
    # only the HLS C simulation is absent from this folder
    assert "**Missing:** hls-csim/summary.json (HLS C simulation)\n" in markdown
    assert "Test sample 0: 15 spikes in the golden model, 0 differ in the RTL." in markdown
    assert "| fmax_mhz | 110 |" in markdown
    assert re.search(r"\| fpga-ecp5 \| sdsnn \|", markdown)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    _check_rendered(_open(chromium, reported / "report.html", screenshot), FIGURES)
    from PIL import Image

    with Image.open(screenshot) as image:
        assert image.size == (1200, 4000)
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colors is None or len(colors) > 50  # figures and text, not a blank page


def test_the_report_is_deterministic(run_folder, reported, tmp_path) -> None:
    again = tmp_path / "run"
    shutil.copytree(run_folder, again)
    write_report(again, title="run")
    for name in ("report.html", "report.md"):
        assert (again / name).read_bytes() == (reported / name).read_bytes()


@pytest.mark.parametrize(
    ("keep", "missing", "figures"),
    [
        ((), ["summary.json", "metrics.jsonl", "export/", "synth/summary.json"], 0),
        (("summary.json",), ["metrics.jsonl", "checkpoint.pt and export/", "spike raster"], 0),
        (("export", "stimulus"), ["summary.json", "metrics.jsonl", "rtl/record.txt"], 5),
        (("metrics.jsonl", "checkpoint.pt"), ["export/manifest.json", "stimulus"], 2),
    ],
)
def test_a_folder_with_missing_pieces_reports_what_is_there(
    run_folder, tmp_path, keep, missing, figures
) -> None:
    folder = tmp_path / "partial"
    folder.mkdir()
    for name in keep:
        source = run_folder / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, folder / name)
    if keep == ("summary.json",):  # an older summary: no energy field
        summary = json.loads((folder / "summary.json").read_text())
        del summary["energy_uj_per_inference"]
        (folder / "summary.json").write_text(json.dumps(summary))
    written = write_report(folder)
    markdown = written.markdown.read_text()
    line = next(row for row in markdown.splitlines() if row.startswith("**Missing:**"))
    for piece in missing:
        assert piece in line
    assert written.html.read_text().count("data:image/png;base64,") == figures
    if keep == ("export", "stimulus"):  # no counts in a summary: counted from golden
        assert "golden model on the first 12 test samples" in markdown


def test_partial_folder_renders_in_chromium(run_folder, tmp_path, chromium) -> None:
    folder = tmp_path / "partial"
    folder.mkdir()
    shutil.copytree(run_folder / "export", folder / "export")
    (folder / "export" / "manifest.json").write_text("{ not json")
    shutil.copy(run_folder / METRICS, folder / METRICS)
    written = write_report(folder)
    markdown = written.markdown.read_text()
    assert "memory: unreadable" in markdown  # a corrupted manifest is named, not fatal
    _check_rendered(_open(chromium, written.html), 2)


def test_rtl_record_spikes_and_a_difference(run_folder, tmp_path) -> None:
    spikes = [np.array([[1, 0, 1], [0, 0, 0]]), np.array([[0, 1], [1, 1]])]
    record = tmp_path / "record.txt"
    record.write_text(_record(spikes))
    parsed = rtl_spikes(record, [3, 2], 2)
    assert [p.tolist() for p in parsed] == [s.tolist() for s in spikes]
    assert rtl_spikes(record, [3, 2], 3) is None  # fewer steps than a sample: unreadable
    folder = tmp_path / "run"
    for name in ("export", "stimulus", "rtl"):
        shutil.copytree(run_folder / name, folder / name)
    lines = (folder / "rtl" / "record.txt").read_text().splitlines()
    head, first, *rest = lines[0].split()
    lines[0] = " ".join([head, f"{int(first, 16) ^ 1:0{len(first)}x}", *rest])  # neuron 0
    (folder / "rtl" / "record.txt").write_text("\n".join(lines) + "\n")
    assert "0: 15 spikes in the golden model, 1 differ" in write_report(folder).markdown.read_text()


def test_report_command_registers_its_files_in_a_run_folder(run_folder, tmp_path) -> None:
    target = tmp_path / "run"
    with output_folder(target, "run", log=lambda _: None) as work:
        (work / "summary.json").write_text('{"dataset": "unit"}')
        shutil.copytree(run_folder / "rtl", work / "rtl")
    assert main(["report", str(target)]) == 0
    assert foreign_files(target, "run") == []  # a later `sdsnn run --out` may replace it
    listed = json.loads((target / MARKER).read_text())["files"]
    assert {"report.html", "report.md"} <= set(listed)
    (target / "notes.txt").write_text("a user's file")
    assert main(["report", str(target)]) == 0
    assert json.loads((target / MARKER).read_text())["files"] == listed  # vouches for nothing
    assert foreign_files(target, "run") == ["notes.txt"]


def test_report_command_never_overwrites_a_report_it_did_not_write(run_folder, tmp_path, capsys):
    target = tmp_path / "run"
    shutil.copytree(run_folder, target)
    (target / "report.md").write_text("a user's notes")
    assert main(["report", str(target)]) == 2
    assert "report.md: exists and is not a file sdsnn wrote there" in capsys.readouterr().err
    assert (target / "report.md").read_text() == "a user's notes"
    assert not (target / "report.html").exists()
