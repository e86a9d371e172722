"""``sdsnn hls-csim``: an export through the HLS core's C simulation against the golden model.

Builds (or reuses) the C simulation of the export's ``synth`` configuration, runs the
data set's test split (or a stimulus file) through it and through the golden model in
the same chunks, and writes an output folder (:mod:`sdsnn_hw.outdir`) holding:

- ``summary.json``: samples, ``hls_mismatches`` (samples whose spikes or membranes
  differ from the golden model anywhere), the first difference, accuracy, every
  counter per inference against the golden model's cycle model, the modelled HLS
  latency (:mod:`sdsnn_hw.hls_latency`) beside the RTL's cycle model and bound, and
  the C simulation's samples/s beside the golden model's;
- ``sdsnn_config.h``: the configuration header, for Vitis HLS (``hls/run_hls.tcl``);
- ``tb_params.txt``, ``tb_input.txt``, ``tb_expected.txt``: the testbench's inputs
  and expected lines for the first :data:`TB_SAMPLES` samples (``hls/tb_sdsnn.cpp``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdsnn_hw.fileio import atomic_write_text
from sdsnn_hw.golden import TRACE_BUDGET, GoldenNetwork, run_network
from sdsnn_hw.hls_build import build
from sdsnn_hw.hls_config import CONFIG_NAME, network_config, render_config
from sdsnn_hw.hls_csim import COUNTER_NAMES, GOLDEN_COUNTERS, CSim, compare
from sdsnn_hw.hls_latency import network_cycles
from sdsnn_hw.manifest import MANIFEST_NAME, Manifest, ManifestError, load_manifest
from sdsnn_hw.outdir import check_output_folder, output_folder
from sdsnn_hw.stimulus import load_stimulus
from sdsnn_hw.verify import export_test_split, run_config_value

KIND = "hls"
"""The output folder kind (:mod:`sdsnn_hw.outdir`)."""
TARGET = "synth"
TB_SAMPLES = 16
"""Samples the testbench files hold: enough to check a Vitis run, few enough for
C/RTL co-simulation."""


@dataclass(frozen=True)
class HlsRunConfig:
    """What ``sdsnn hls-csim`` runs.

    Attributes:
        export_dir: the export folder.
        out: the output folder.
        dataset: the data set whose test split runs (default: the manifest's config).
        data_dir: folder holding the data set files.
        stimulus: a stimulus file instead of a data set.
        samples: the first N samples only (0: all).
        force: move an output folder sdsnn did not write aside.
    """

    export_dir: Path
    out: Path
    dataset: str | None = None
    data_dir: Path | None = None
    stimulus: Path | None = None
    samples: int = 0
    force: bool = False


def _inputs(config: HlsRunConfig, manifest: Manifest) -> tuple[np.ndarray, np.ndarray, str]:
    """Input spikes, labels and what they are (a stimulus file or a test split)."""
    if config.stimulus is not None:
        stimulus = load_stimulus(
            config.stimulus, manifest.inputs, manifest.time_steps, manifest.classes
        )
        return stimulus.spikes, stimulus.labels, str(config.stimulus)
    dataset = config.dataset or run_config_value(manifest, "dataset")
    if not dataset:
        raise ManifestError(
            f"{config.export_dir / MANIFEST_NAME}: names no data set ('config.run.dataset'); "
            "pass --dataset or --stimulus"
        )
    spikes, labels = export_test_split(manifest, dataset, config.data_dir)
    return spikes, labels, f"{dataset} test split"


def hls_csim(
    config: HlsRunConfig, log: Callable[[str], None] = print, progress: bool = True
) -> dict:
    """Run ``config`` and write its output folder; returns the summary.

    Raises:
        ManifestError, StimulusError, DataError: the inputs are corrupted or do not fit.
        OutputFolderError: the output folder holds files sdsnn did not write.
        HlsBuildError: no compiler, or a compile error.
    """
    from tqdm.auto import tqdm

    manifest = load_manifest(config.export_dir)
    net = GoldenNetwork.from_export(config.export_dir)  # verifies every memory
    spikes, labels, source = _inputs(config, manifest)
    if config.samples:
        spikes, labels = spikes[: config.samples], labels[: config.samples]
    check_output_folder(config.out, KIND, config.force)
    hls_config = network_config(manifest, TARGET)
    built = build(hls_config, str(config.export_dir / MANIFEST_NAME), log=log)
    sim = CSim(built)
    sim.load(config.export_dir, manifest, hls_config)

    samples = len(spikes)
    neurons = sum(layer.n_out for layer in net.layers)
    size = max(1, TRACE_BUDGET // (neurons * manifest.time_steps))
    mismatched: list[int] = []
    first = None
    differing: set[str] = set()
    parts: dict[str, list[np.ndarray]] = {
        "predictions": [], "hls_cycles": [], "rtl_cycles": [], "bound": [],
        **{f"hls_{name}": [] for name in COUNTER_NAMES},
    }  # fmt: skip
    golden_seconds = hls_seconds = 0.0
    tb_lines: list[str] = []
    with tqdm(total=samples, desc="hls-csim", unit="sample", disable=not progress) as bar:
        for start in range(0, samples, size):
            chunk = spikes[start : start + size]
            began = time.perf_counter()
            golden = run_network(net, chunk)
            golden_seconds += time.perf_counter() - began
            hls = sim.run(chunk)
            hls_seconds += hls.seconds
            comparison = compare(hls, golden, offset=start)
            mismatched += comparison.mismatched_samples
            first = first or comparison.first_mismatch
            differing |= set(comparison.counters_differing)
            modelled = network_cycles(net, [chunk, *golden.spikes[:-1]])
            if not np.array_equal(modelled, hls.counter("cycles")):
                differing.add("cycles (HLS latency model)")
            parts["predictions"].append(np.argmax(hls.spikes[-1].sum(axis=1), axis=1))
            parts["hls_cycles"].append(modelled)
            parts["rtl_cycles"].append(golden.costs.cycles)
            parts["bound"].append(golden.costs.bound)
            for name in COUNTER_NAMES:
                parts[f"hls_{name}"].append(hls.counter(name))
            tb_lines += _expected_lines(golden, modelled, start, TB_SAMPLES - len(tb_lines))
            bar.update(len(chunk))
    joined = {key: np.concatenate(value) if value else np.zeros(0) for key, value in parts.items()}
    summary = _summary(
        config, source, samples, labels, joined, mismatched, first, differing,
        golden_seconds, hls_seconds, built.folder, built.cached,
    )  # fmt: skip
    with output_folder(config.out, KIND, config.force, log) as tmp:
        atomic_write_text(tmp / "summary.json", json.dumps(summary, indent=2) + "\n")
        header = render_config(hls_config, str(config.export_dir / MANIFEST_NAME))
        atomic_write_text(tmp / CONFIG_NAME, header)
        _write_testbench_files(tmp, manifest, spikes[:TB_SAMPLES], tb_lines)
    return summary


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _summary(
    config: HlsRunConfig,
    source: str,
    samples: int,
    labels: np.ndarray,
    joined: dict[str, np.ndarray],
    mismatched: list[int],
    first: dict | None,
    differing: set[str],
    golden_seconds: float,
    hls_seconds: float,
    build_dir: Path,
    cached: bool,
) -> dict:
    per_inference = {name: _mean(joined[f"hls_{name}"]) for name in GOLDEN_COUNTERS}
    return {
        "export": str(config.export_dir),
        "inputs": source,
        "samples": samples,
        "hls_mismatches": len(mismatched),
        "mismatched_samples": mismatched[:20],
        "first_mismatch": first,
        "counters_match_golden": not differing,
        "counters_differing": sorted(differing),
        "accuracy": (
            round(float(np.mean(joined["predictions"] == labels)), 4) if samples else None
        ),
        "hls_cycles_per_inference": _mean(joined["hls_cycles"]),
        "rtl_cycles_per_inference": _mean(joined["rtl_cycles"]),
        "bound_cycles_per_inference": _mean(joined["bound"]),
        "per_inference": per_inference,
        "csim_samples_per_s": round(samples / hls_seconds, 1) if hls_seconds else None,
        "golden_samples_per_s": round(samples / golden_seconds, 1) if golden_seconds else None,
        "build": {"folder": str(build_dir), "reused": cached, "target": TARGET},
    }


def _expected_lines(golden, modelled: np.ndarray, start: int, room: int) -> list[str]:
    """The testbench's expected lines (``hls/tb_sdsnn.cpp``) of a chunk's first samples:
    the golden model's prediction and counts, the modelled HLS cycles and the cycle
    model's other counters."""
    lines = []
    counts = golden.counts
    for k in range(min(room, len(counts))):
        values = [int(modelled[k])] + [int(getattr(golden.costs, n)[k]) for n in GOLDEN_COUNTERS]
        fields = [start + k, int(golden.predictions[k]), *counts[k].tolist(), *values]
        lines.append(" ".join(str(v) for v in fields))
    return lines


def _write_testbench_files(
    folder: Path, manifest: Manifest, spikes: np.ndarray, expected: list[str]
) -> None:
    params = [
        f"{layer.v_th} {layer.leak_shift} {layer.lif.v_min} {layer.lif.v_max}"
        for layer in manifest.layers
    ]
    atomic_write_text(folder / "tb_params.txt", "\n".join(params) + "\n")
    samples, steps, inputs = spikes.shape
    rows = ["".join("1" if v else "0" for v in step) for sample in spikes for step in sample]
    header = f"{samples} {steps} {inputs}"
    atomic_write_text(folder / "tb_input.txt", "\n".join([header, *rows]) + "\n")
    atomic_write_text(folder / "tb_expected.txt", "".join(f"{line}\n" for line in expected))
