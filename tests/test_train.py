"""`sdsnn train`: checkpoints, exact resume after a kill mid-epoch, non-finite loss."""

import json
import os
import signal
import subprocess
import time

import pytest
import torch

from sdsnn_hw.cli import EXIT_USAGE, main
from tests.conftest import SDSNN

# 360 batches of 4 per epoch: long enough to be killed in the middle of epoch 2
CONFIG = """
seed = 3
[network]
hidden = [256]
[neuron]
time_steps = 12
[structure]
plasticity_steps = 1
[schedule]
epochs = 3
batch_size = 4
checkpoint_every = 10
"""
TIMINGS = {"seconds", "structure_seconds", "eval_seconds"}
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def train_args(config, out):
    return [SDSNN, "train", "--config", str(config), "--out", str(out), "--quiet"]


def load(path):
    return torch.load(path, weights_only=True)


def metrics_without_timings(folder):
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in TIMINGS} for line in lines]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    (folder / "config.toml").write_text(CONFIG)
    out = folder / "straight"
    result = subprocess.run(train_args(folder / "config.toml", out), env=ENV, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    return folder, out


def kill_in_epoch_two(args, out) -> None:
    """Start training, SIGKILL it once ``last.pt`` was written inside epoch 2."""
    process = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while process.poll() is None:
            try:
                position = load(out / "last.pt")["position"]
            except Exception:  # not written yet
                position = {"epoch": 0, "batch": 0}
            if position["epoch"] == 1 and position["batch"] >= 30:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "training ended before it could be killed"


def test_resume_after_a_kill_mid_epoch_equals_an_uninterrupted_run(uninterrupted) -> None:
    folder, straight = uninterrupted
    out = folder / "killed"
    kill_in_epoch_two(train_args(folder / "config.toml", out), out)
    killed_at = load(out / "last.pt")["position"]
    assert killed_at["epoch"] == 1 and killed_at["batch"] > 0
    assert len(metrics_without_timings(out)) == 1
    resumed = subprocess.run(
        [SDSNN, "train", "--out", str(out), "--resume", "--quiet"], env=ENV, capture_output=True
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert "resumed from" in resumed.stdout.decode()
    assert metrics_without_timings(out) == metrics_without_timings(straight)
    for name in ("last.pt", "best.pt"):
        a, b = load(out / name), load(straight / name)
        for key, tensor in a["model"].items():
            assert torch.equal(tensor, b["model"][key]), f"{name}: {key}"
        for layer_a, layer_b in zip(
            a["structure"]["layers"], b["structure"]["layers"], strict=True
        ):
            for key, value in layer_a.items():
                same = (
                    torch.equal(value, layer_b[key])
                    if torch.is_tensor(value)
                    else value == layer_b[key]
                )
                assert same, f"{name}: structure {key}"
        assert a["metrics"][-1]["pruned_neurons"] == b["metrics"][-1]["pruned_neurons"]
    assert load(straight / "last.pt")["metrics"][-1]["pruned_neurons"][0] > 0


def test_checkpoints_hold_everything_and_load_weights_only(uninterrupted, tmp_path) -> None:
    _, straight = uninterrupted
    saved = load(straight / "last.pt")  # weights_only=True
    assert {"model", "optimizer", "scheduler", "structure", "rng", "position", "metrics"} <= set(
        saved
    )
    assert {"generator", "torch", "python", "numpy"} <= set(saved["rng"])
    assert saved["position"]["epoch"] == 3 and saved["position"]["order"] is None
    assert len(saved["metrics"]) == 3 and "hidden = [256]" in saved["config"]
    line = json.loads((straight / "metrics.jsonl").read_text().splitlines()[-1])
    assert {"loss", "train_accuracy", "test_accuracy", "pruning_rate", "pruned_neurons"} <= set(
        line
    )
    assert {"regrown_synapses", "spike_rate", "seconds"} <= set(line)
    assert not [p.name for p in straight.iterdir() if p.name.endswith(".tmp")]
    assert main(["export", str(straight / "best.pt"), str(tmp_path / "export")]) == 0


def test_an_existing_run_needs_resume_and_the_same_configuration(uninterrupted, capsys) -> None:
    folder, straight = uninterrupted
    args = ["train", "--config", str(folder / "config.toml"), "--out", str(straight)]
    assert main(args) == EXIT_USAGE
    assert "holds a training run (config.toml); pass --resume" in capsys.readouterr().err
    assert main([*args, "--resume", "--epochs", "5"]) == EXIT_USAGE
    assert "the configuration differs from" in capsys.readouterr().err


def test_a_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(
    tmp_path, monkeypatch, capsys
) -> None:
    import sdsnn_hw.trainer as trainer

    calls = []
    real = trainer.functional.cross_entropy

    def poisoned(*args, **kwargs):
        calls.append(1)
        loss = real(*args, **kwargs)
        return loss * float("nan") if len(calls) == 5 else loss

    monkeypatch.setattr(trainer.functional, "cross_entropy", poisoned)
    out = tmp_path / "nan"
    args = ["train", "--preset", "fast-digits", "--set", "network.hidden=[8]"]
    args += ["--set", "schedule.checkpoint_every=2", "--out", str(out), "--quiet"]
    assert main(args) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "non-finite loss (nan) in epoch 1, batch 5: training stopped" in err
    assert f"{out / 'last.pt'} keeps the last good state" in err
    saved = load(out / "last.pt")
    assert saved["position"]["batch"] == 4
    assert all(torch.isfinite(t).all() for t in saved["model"].values())
