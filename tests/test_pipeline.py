"""The README's main job, `sdsnn run` with its defaults, end to end on digits."""

import json
import subprocess

import numpy as np
import pytest

from tests.conftest import SDSNN

REQUIRED_KEYS = {
    "dataset", "n_test", "accuracy_qat", "accuracy_golden", "accuracy_rtl", "pruning_rate",
    "weight_bits", "rtl_mismatches", "rtl_cycles_per_inference", "synaptic_ops_per_inference",
    "seconds",
}  # fmt: skip


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [SDSNN, "run", "--out", str(out), "--quiet"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stdout, json.loads((out / "summary.json").read_text())


def test_default_run_meets_the_targets(demo_run) -> None:
    _, stdout, summary = demo_run
    assert summary.keys() >= REQUIRED_KEYS
    assert summary["dataset"] == "digits"
    assert summary["n_test"] >= 300
    assert summary["rtl_samples"] == summary["n_test"]
    assert summary["accuracy_golden"] >= 0.93
    assert summary["pruning_rate"] >= 0.5
    assert summary["accuracy_rtl"] == summary["accuracy_golden"] == summary["accuracy_qat"]
    assert summary["rtl_mismatches"] == 0
    assert summary["rtl_predictions_match_golden"] is True
    assert summary["qat_golden_mismatches"] == 0
    assert summary["rtl_counters_match_golden"] is True
    assert summary["rtl_cycles_per_inference"] == summary["model_cycles_per_inference"]
    # P lanes: cycles stay within 15 % of the lane bound, far below one per synapse
    assert summary["lanes"] == 8
    assert summary["rtl_cycles_vs_bound"] == summary["cycles_vs_bound"] <= 1.15
    assert summary["rtl_cycles_per_inference"] < summary["synaptic_ops_per_inference"] / 4
    assert set(summary["seconds"]) == {"train", "export", "golden", "rtl"}
    assert "accuracy_rtl" in stdout


def test_export_from_the_checkpoint_is_byte_identical(demo_run, tmp_path) -> None:
    out, _, _ = demo_run
    result = subprocess.run(
        [SDSNN, "export", str(out / "checkpoint.pt"), str(tmp_path / "again")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    first = sorted(p.name for p in (out / "export").iterdir())
    assert first == sorted(p.name for p in (tmp_path / "again").iterdir())
    for name in first:
        assert (out / "export" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    """A short conv run on digits, through the RTL for its first 40 test samples."""
    out = tmp_path_factory.mktemp("conv")
    args = ["run", "--net", "4C3-AP2-FC10", "--epochs", "2", "--time-steps", "6"]
    args += ["--rtl-samples", "40"]
    result = subprocess.run(
        [SDSNN, *args, "--out", str(out), "--quiet"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stdout, json.loads((out / "summary.json").read_text())


def test_a_conv_run_trains_exports_and_checks_golden_and_rtl(conv_run) -> None:
    out, _, summary = conv_run
    assert summary["net"] == "4C3-AP2-FC10" and summary["network"] == [64, 256, 10]
    assert summary["qat_golden_mismatches"] == 0
    assert summary["accuracy_qat"] == summary["accuracy_golden"] > 0.3  # chance: 0.1
    assert (summary["rtl_samples"], summary["rtl_mismatches"]) == (40, 0)
    assert summary["rtl_counters_match_golden"] and summary["rtl_predictions_match_golden"]
    assert summary["layouts"][0] in ("dense_kernels", "kernel_list")
    assert summary["bias_bits"] == 12
    assert sum(summary["memory_bits_per_layer"]) == summary["memory_bits"]
    assert (out / "export" / "l0_bias.mem").is_file()


def test_golden_and_export_commands_on_a_conv_run(conv_run, tmp_path) -> None:
    out, _, summary = conv_run
    result = subprocess.run(
        [SDSNN, "golden", str(out / "export"), str(out / "stimulus" / "test.npz")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    golden = json.loads(result.stdout)
    assert golden["accuracy"] == pytest.approx(summary["accuracy_golden"], abs=1e-4)
    assert golden["cycles_per_inference"] == summary["model_cycles_per_inference"]
    again = tmp_path / "again"
    result = subprocess.run(
        [SDSNN, "export", str(out / "checkpoint.pt"), str(again)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (out / "export").iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (out / "export" / name).read_bytes() == (again / name).read_bytes()


def test_a_sigma_delta_run_trains_on_its_stimulus_and_verify_encodes_it_again(tmp_path) -> None:
    from sdsnn_hw.data import encode_sigma_delta, load_dataset
    from sdsnn_hw.stimulus import load_stimulus
    from sdsnn_hw.verify import verify

    config, out = tmp_path / "sigma-delta.toml", tmp_path / "run"
    config.write_text('[data]\nencoding = "sigma-delta"\n')
    args = ["run", "--config", str(config), "--epochs", "2", "--no-rtl", "--out", str(out)]
    result = subprocess.run([SDSNN, *args, "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    stimulus = load_stimulus(out / "stimulus" / "test.npz")
    expected = encode_sigma_delta(load_dataset("digits").x_test, stimulus.spikes.shape[1])
    np.testing.assert_array_equal(stimulus.spikes, expected)
    assert summary["qat_golden_mismatches"] == 0 and summary["encoding"] == "sigma-delta"
    # the manifest records the encoding: verify's golden run sees the same spikes
    assert verify(out / "export").accuracy == summary["accuracy_golden"]
