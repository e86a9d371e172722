"""The HLS core (hls/) in its g++ C simulation against the golden model and by hand.

The hand-worked known answers (tests/known_answers.py, tests/known_answers_conv.py) run
on the export's exact widths (``synth``); the RTL regression's random cases, with the
same seeds, on their build groups' widest configuration (``sim``, one compile per
group); the digits reference export on its whole test split through ``sdsnn hls-csim``;
a core that breaks one rule, a missing or failing compiler and an export the build was
not configured for must each be reported. Builds are cached (SDSNN_CACHE_DIR, see
conftest), so a warm run compiles nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import sdsnn_hw.hls_build as hls_build
import sdsnn_hw.hls_config as hls_config
import sdsnn_hw.hls_latency as hls_latency
from hls import HLS_DIR
from sdsnn_hw.cli import main
from sdsnn_hw.export import IntegerLayer, write_export
from sdsnn_hw.fuzz import write_case
from sdsnn_hw.hls_build import build
from sdsnn_hw.hls_config import network_config
from sdsnn_hw.hls_csim import ConfigMismatchError, CSim, CSimResult
from sdsnn_hw.hls_regression import run_seeds
from sdsnn_hw.manifest import load_manifest
from sdsnn_hw.netspec import CONV
from sdsnn_hw.neuron import LifParams
from sdsnn_hw.regression import draw_case
from sdsnn_hw.stimulus import Stimulus, save_stimulus
from tests.known_answers import (
    ACCUMULATOR_EXACT_WIDTH,
    SAMPLES_BACK_TO_BACK,
    THREE_LAYERS_CSR_P2,
    THREE_LAYERS_SAME_STEP,
    THRESHOLD_FLOOR_SATURATE,
    KnownNetwork,
)
from tests.networks import write_known_network
from tests.test_conv import CASE as CONV_CASE
from tests.test_conv import conv_layer

REFERENCE = Path(__file__).resolve().parents[1] / "export" / "digits" / "export"
REGRESSION_CASES = 200  # the RTL regression's seeds (tests/test_regression.py)
QUIET = {"log": lambda _: None}


def _csim(export: Path, spikes: np.ndarray, target: str = "synth") -> CSimResult:
    manifest = load_manifest(export)
    config = network_config(manifest, target)
    sim = CSim(build(config, str(export), **QUIET))
    sim.load(export, manifest, config)
    return sim.run(spikes)


def _patched_core(tmp_path: Path, monkeypatch, old: str, new: str) -> None:
    """Build from a copy of hls/ in which ``old`` (in sdsnn_layer.h) reads ``new``."""
    copy = tmp_path / "core"
    shutil.copytree(HLS_DIR, copy)
    layer = copy / "sdsnn_layer.h"
    assert old in layer.read_text()
    layer.write_text(layer.read_text().replace(old, new))
    for module in (hls_build, hls_config, hls_latency):
        monkeypatch.setattr(module, "HLS_DIR", copy)


@pytest.mark.parametrize(
    ("case", "lanes", "layout"),
    [
        (ACCUMULATOR_EXACT_WIDTH.network(), 1, "csr_fanout"),
        (THREE_LAYERS_SAME_STEP, THREE_LAYERS_CSR_P2.lanes, "csr_fanout"),
        (SAMPLES_BACK_TO_BACK, 4, "dense_rows"),
    ],
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_known_answers_at_the_exact_widths(tmp_path, case: KnownNetwork, lanes, layout) -> None:
    """Literal spikes and membranes of every layer; an accumulator of ACC_BITS = 5 (the
    narrowest that holds the sums) and first_step in every layer."""
    write_known_network(tmp_path, case, lanes, layout)
    result = _csim(tmp_path / "export", case.inputs)
    for layer, known in enumerate(case.layers):
        np.testing.assert_array_equal(result.spikes[layer], known.spikes)
        np.testing.assert_array_equal(result.membranes[layer], known.membranes)
    predictions = np.argmax(result.spikes[-1].sum(axis=1), axis=1)
    assert predictions.tolist() == list(case.predictions)


def test_three_layers_costs_by_hand(tmp_path) -> None:
    """THREE_LAYERS_CSR_P2's hand-worked counters, and the HLS latency by hand: per layer
    step one 32-bit queue word (4 or 3 inputs) + W + D + 12 (pipeline depths 2 + 6 + 4),
    4 steps: layer 0: 4 * (1 + 2 + 12) + 12 = 72; layer 1: 4 * (1 + 2 + 12) + 4 = 64;
    layer 2: 4 * (1 + 1 + 12) + 3 = 59; 195 cycles."""
    costs = THREE_LAYERS_CSR_P2
    write_known_network(tmp_path, THREE_LAYERS_SAME_STEP, costs.lanes, "csr_fanout")
    result = _csim(tmp_path / "export", THREE_LAYERS_SAME_STEP.inputs)
    expected = {
        "cycles": 195, "synops": costs.synops, "ptr_reads": costs.ptr_reads,
        "wrom_reads": costs.wrom_reads, "acc_reads": costs.acc_accesses,
        "acc_writes": costs.acc_accesses, "mem_reads": costs.mem_accesses,
        "mem_writes": costs.mem_accesses,
    }  # fmt: skip
    assert {name: result.counter(name).tolist() for name in expected} == {
        name: [value] for name, value in expected.items()
    }
    assert sum(hls_latency.pipeline_depths().values()) == 12
    assert hls_latency.queue_bits() == 32


@pytest.mark.parametrize("layout", ["dense_kernels", "kernel_list", "tap_list"])
def test_pooled_biased_conv_by_hand_in_every_conv_layout(tmp_path, layout) -> None:
    """The contract's conv example (AP2, biases -1 and 2, ACC_BITS 6). In dense_kernels,
    its hand-worked costs; HLS latency: one queue word (16 positions) + 32 words x taps
    + D 4 + 12 = 49 at t0, 1 + 12 + 4 + 12 = 29 at t1, 78 cycles."""
    case = CONV_CASE
    layer = conv_layer(
        case.weights, case.lif, (1, 4, 4), case.pool, case.bias, case.weight_bits, case.bias_bits
    )
    write_export(tmp_path / "export", [layer], 8, len(case.inputs), case.lanes, layout)
    result = _csim(tmp_path / "export", case.inputs.reshape(1, len(case.inputs), -1))
    np.testing.assert_array_equal(result.spikes[0][0], case.spikes)
    np.testing.assert_array_equal(result.membranes[0][0], case.membranes)
    assert result.counter("synops").tolist() == [case.synops]
    if layout == "dense_kernels":
        assert result.counter("cycles").tolist() == [78]
        assert result.counter("ptr_reads").tolist() == [2 * case.events]
        assert result.counter("wrom_reads").tolist() == [case.events]
        bank_words = case.lanes * case.depth * len(case.inputs)
        assert result.counter("acc_reads").tolist() == [case.synops + bank_words]


def test_random_regression_cases_are_exact(tmp_path) -> None:
    """Every case of the RTL regression (same seeds, every build group): spikes,
    membranes, the cycle model's counters and the HLS latency model."""
    failures = run_seeds(range(REGRESSION_CASES), tmp_path)
    assert failures == [], failures[:3]


def test_digits_reference_export_on_the_test_split(tmp_path, capsys) -> None:
    """`sdsnn hls-csim` on the reference export: the whole digits test split bit-exact,
    the golden model's accuracy; then the testbench program, built with g++, reproduces
    the golden lines the command wrote for it, and reports a changed line and a missing
    memory."""
    out = tmp_path / "hls"
    assert main(["hls-csim", str(REFERENCE), "--out", str(out), "--dataset", "digits",
                 "--quiet"]) == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["samples"] == 360 and summary["hls_mismatches"] == 0
    assert summary["counters_match_golden"] and summary["accuracy"] == 0.9639
    assert summary["hls_cycles_per_inference"] > summary["rtl_cycles_per_inference"] > 0
    assert summary["csim_samples_per_s"] > 0 and summary["golden_samples_per_s"] > 0
    printed = capsys.readouterr().out
    assert json.loads(printed[printed.index("{") : printed.index("\nsummary written")]) == {
        key: value for key, value in summary.items() if key != "per_inference"
    }
    manifest = load_manifest(REFERENCE)
    tb = build(network_config(manifest), str(REFERENCE), testbench=True, **QUIET).testbench
    result = subprocess.run([str(tb), str(REFERENCE), str(out), str(tmp_path / "tb.txt")],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "16 samples, 0 differ" in result.stdout
    assert (tmp_path / "tb.txt").read_text() == (out / "tb_expected.txt").read_text()
    changed = tmp_path / "changed"
    shutil.copytree(out, changed)
    lines = (changed / "tb_expected.txt").read_text().splitlines()
    lines[3] = lines[3].replace(" ", " 1", 1)
    (changed / "tb_expected.txt").write_text("\n".join(lines) + "\n")
    result = subprocess.run([str(tb), str(REFERENCE), str(changed), str(tmp_path / "tb.txt")],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 1 and "1 differ" in result.stdout
    broken = tmp_path / "export"
    shutil.copytree(REFERENCE, broken)
    (broken / "l1_ptr.mem").unlink()
    result = subprocess.run([str(tb), str(broken), str(out), str(tmp_path / "tb.txt")],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 2 and "l1_ptr.mem: cannot be read" in result.stderr


def _conv_network(rng: np.random.Generator) -> list[IntegerLayer]:
    """AP2 into a 3x3 conv with biases, then AP2 into an fc layer with biases."""
    conv = rng.integers(-7, 8, size=(4, 2, 3, 3)) * (rng.random((4, 2, 3, 3)) < 0.6)
    fc = rng.integers(-7, 8, size=(5, 4 * 2 * 2)) * (rng.random((5, 16)) < 0.7)
    lif = LifParams(v_th=9, leak_shift=1, v_bits=10)
    first = conv_layer(conv, lif, (2, 8, 8), 2, rng.integers(-20, 21, size=4), 4, 6)
    second = IntegerLayer(
        fc, lif, 4, 1.0, np.arange(5), "fc", rng.integers(-20, 21, size=5), 6, 2, (4, 4, 4)
    )
    assert first.kind == CONV
    return [first, second]


def test_conv_pool_bias_network_through_the_command(tmp_path, rng) -> None:
    write_export(tmp_path / "export", _conv_network(rng), 5, 6, 4, "tap_list,csr_fanout")
    inputs = (rng.random((40, 6, 2 * 8 * 8)) < 0.4).astype(np.uint8)
    save_stimulus(tmp_path / "in.npz", Stimulus(inputs, rng.integers(0, 5, size=40)))
    out = tmp_path / "hls"
    argv = ["hls-csim", str(tmp_path / "export"), "--out", str(out), "--quiet"]
    assert main([*argv, "--stimulus", str(tmp_path / "in.npz")]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["samples"], summary["hls_mismatches"]) == (40, 0)
    assert summary["counters_match_golden"]
    assert "struct l0_config : sdsnn::conv_config" in (out / "sdsnn_config.h").read_text()


def test_a_core_that_fires_on_greater_is_caught(tmp_path, monkeypatch, capsys) -> None:
    """threshold_floor_saturate: n0 reaches v == V_TH at t0; a core firing on v > V_TH
    differs there, and the command says where (exit 1)."""
    _patched_core(tmp_path, monkeypatch, "v >= params.v_th", "v > params.v_th")
    case = THRESHOLD_FLOOR_SATURATE.network()
    _, stimulus = write_known_network(tmp_path, case)
    argv = ["hls-csim", str(tmp_path / "export"), "--out", str(tmp_path / "hls"), "--quiet"]
    assert main([*argv, "--stimulus", str(stimulus)]) == 1
    summary = json.loads((tmp_path / "hls" / "summary.json").read_text())
    assert summary["hls_mismatches"] == 1
    first = summary["first_mismatch"]
    assert (first["sample"], first["step"], first["layer"], first["neurons"][0]) == (0, 0, 0, 0)
    assert (first["golden_spikes"][0], first["hls_spikes"][0]) == (1, 0)
    assert (first["golden_membranes"][0], first["hls_membranes"][0]) == (0, 10)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


def test_a_compile_error_and_a_missing_compiler_exit_2(tmp_path, monkeypatch, capsys) -> None:
    write_known_network(tmp_path, THRESHOLD_FLOOR_SATURATE.network())
    argv = ["hls-csim", str(tmp_path / "export"), "--stimulus", str(tmp_path / "stimulus.npz")]
    monkeypatch.setenv("SDSNN_CXX", "no-such-g++")
    assert main([*argv, "--out", str(tmp_path / "a")]) == 2
    assert "C++ compiler 'no-such-g++' not found" in _error(capsys)
    monkeypatch.delenv("SDSNN_CXX")
    _patched_core(tmp_path, monkeypatch, "bool active = false;", "bool active = false")
    assert main([*argv, "--out", str(tmp_path / "c")]) == 2
    error = _error(capsys)
    assert "g++ failed to compile sdsnn_csim.cpp" in error and "expected" in error
    log = Path(error.rsplit("(see ", 1)[1].rstrip(")"))
    assert log.is_file() and "error" in log.read_text()
    assert not (tmp_path / "c").exists()


def test_an_export_the_build_was_not_configured_for(tmp_path, capsys) -> None:
    """A library built for one export refuses another (the configuration names the
    field), and the C++ loader refuses memories its configuration cannot hold."""
    a, _ = write_case(draw_case(3), tmp_path / "a")
    b, _ = write_case(draw_case(4), tmp_path / "b")  # another build group
    config_a = network_config(load_manifest(a), "synth")
    sim = CSim(build(config_a, str(a), **QUIET))
    with pytest.raises(ConfigMismatchError, match=r"does not match the HLS configuration.*layers"):
        sim.load(b, load_manifest(b), network_config(load_manifest(b), "synth"))
    with pytest.raises(ConfigMismatchError, match=r": layer \d: .* the configuration"):
        sim.load(b, load_manifest(b), config_a)
    # a layout without a decoder in hls/sdsnn_layouts.h is refused before g++ runs
    unknown = hls_config.HlsConfig(
        config_a.target, config_a.inputs, config_a.classes,
        tuple(replace(layer, layout="row_list") for layer in config_a.layers),
    )  # fmt: skip
    with pytest.raises(hls_build.HlsBuildError, match="layout row_list has no decoder"):
        build(unknown, "test", **QUIET)
    # an export without a data set in its configuration needs --dataset or --stimulus
    assert main(["hls-csim", str(a), "--out", str(tmp_path / "out")]) == 2
    assert "names no data set" in _error(capsys)


def test_the_vitis_script_runs_every_step_on_the_shipped_sources() -> None:
    script = (HLS_DIR / "run_hls.tcl").read_text()
    for step in ("csim_design", "csynth_design", "cosim_design", "export_design"):
        assert f"\n{step}" in script, step
    assert (
        "set_top sdsnn_top" in script
        and "void sdsnn_top(" in (HLS_DIR / "sdsnn_top.cpp").read_text()
    )
    for source in ("sdsnn_top.cpp", "tb_sdsnn.cpp"):
        assert f"$hls_dir/{source}" in script and (HLS_DIR / source).is_file()
