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
step_iterations = 120  # three structure steps an epoch: pruning from the fourth (t = 3)
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
    assert {"regrown_synapses", "spike_rate", "seconds", "paper_pruning_rate"} <= set(line)
    assert {"regrown_unmasked", "regrown_exported", "revived_neurons", "structure_steps"} <= set(
        line
    )
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


def _tiny_trainer(epochs: int, step_iterations: int, stop_fraction: float = 1.0):
    import numpy as np

    from sdsnn_hw.data import Dataset
    from sdsnn_hw.model import NetworkConfig, SpikingNetwork
    from sdsnn_hw.structure import StructureConfig
    from sdsnn_hw.train import TrainConfig
    from sdsnn_hw.trainer import Trainer

    rng = np.random.default_rng(0)
    x = rng.random((12, 16), dtype=np.float32)
    data = Dataset("tiny", x, np.arange(12) % 2, x[:4], np.arange(4) % 2, 2, (1, 4, 4))
    torch.manual_seed(0)
    model = SpikingNetwork(NetworkConfig(sizes=(16, 6, 2), time_steps=4))
    config = TrainConfig(epochs=epochs, batch_size=4)
    structure = StructureConfig(step_iterations=step_iterations, stop_fraction=stop_fraction)
    return Trainer(data, model, config, structure, progress=False)


def test_the_first_structure_step_comes_after_the_first_epoch() -> None:
    """Step 0 sets the spine ranges from the weights after one epoch of training."""
    trainer = _tiny_trainer(epochs=1, step_iterations=0)
    initial = trainer.model.layers[0].weight.detach().clone()
    assert trainer.structure.step_count == 0 and trainer.structure.states is None
    trainer.run()
    trained = trainer.model.layers[0].weight.detach()
    assert trainer.structure.step_count == 1 and not torch.equal(initial, trained)
    assert torch.all(trainer.structure.states[0].r_plus == trained.max())
    assert trainer.metrics[-1]["structure_steps"] == 1


def test_structure_steps_every_n_iterations() -> None:
    trainer = _tiny_trainer(epochs=2, step_iterations=2)  # 3 batches an epoch, 6 in all
    trainer.run()
    assert [m["structure_steps"] for m in trainer.metrics] == [1, 3]


@pytest.mark.parametrize(
    ("epochs", "step_iterations", "steps"),
    [(2, 2, [1, 1]), (4, 0, [1, 2, 2, 2]), (3, 1, [3, 4, 4])],
)
def test_structure_steps_stop_after_their_fraction_of_the_schedule(
    epochs: int, step_iterations: int, steps: list[int]
) -> None:
    """stop_fraction 0.5: iterations 1 .. half of all (3 batches an epoch) may step."""
    trainer = _tiny_trainer(epochs, step_iterations, stop_fraction=0.5)
    trainer.run()
    assert [m["structure_steps"] for m in trainer.metrics] == steps


def test_masked_weights_stay_zero_once_the_structure_steps_are_over() -> None:
    """Before the stop a masked weight drifts (regeneration scores that); after it no
    step masks it again, so every optimiser step does."""
    # 3 batches an epoch, 12 in all: steps at iterations 3 and 6, none after 6
    trainer = _tiny_trainer(epochs=4, step_iterations=3, stop_fraction=0.5)
    weight = trainer.model.layers[0].weight

    def epoch(check) -> None:
        trainer.begin_epoch()
        for _ in range(3):
            trainer.train_batch()
            check()
        trainer._end_epoch()

    epoch(lambda: None)  # step 0 at iteration 3: spine ranges and masks
    trainer.structure.masks[0][0, :3] = 0  # as a pruning step would
    trainer.structure.apply_masks()
    trainer.begin_epoch()
    trainer.train_batch()  # iteration 4: no step
    assert weight[0, :3].abs().sum() > 0  # drifted
    trainer.train_batch()
    trainer.train_batch()  # iteration 6: the last step
    trainer._end_epoch()

    def masked_are_zero() -> None:
        masked = weight.detach()[trainer.structure.masks[0] == 0]
        assert masked.numel() >= 3 and torch.all(masked == 0)

    epoch(masked_are_zero)
    epoch(masked_are_zero)
    assert trainer.structure.step_count == 2


def test_the_epoch_test_accuracy_is_the_exported_networks() -> None:
    """Evaluated with the masks applied; the masked weights' drift survives it."""
    trainer = _tiny_trainer(epochs=2, step_iterations=3)
    weight = trainer.model.layers[0].weight
    trainer.begin_epoch()
    for _ in range(3):
        trainer.train_batch()  # step 0 at iteration 3: the masks
    trainer._end_epoch()
    mask = trainer.structure.masks[0]
    mask[:, :8] = 0  # as a pruning step would, without zeroing them yet
    trainer.begin_epoch()
    for _ in range(2):
        trainer.train_batch()  # iterations 4 and 5: no step
    seen = {}
    evaluate = trainer._evaluate

    def spy():
        seen["weight"] = weight.detach().clone()
        return evaluate()

    trainer._evaluate = spy
    drifted = weight.detach().clone()
    trainer._end_epoch()
    assert drifted[mask == 0].abs().sum() > 0
    assert torch.all(seen["weight"][mask == 0] == 0)
    torch.testing.assert_close(weight.detach(), drifted, rtol=0, atol=0)


def test_a_pruned_neuron_still_passes_a_gradient_to_its_masked_synapses() -> None:
    """Its membrane sits at exactly 0 (no input, no bias); the surrogate window
    |v - v_th| <= v_th is open there, so regeneration sees a real drift."""
    from sdsnn_hw.model import NetworkConfig, SpikingNetwork

    torch.manual_seed(0)
    model = SpikingNetwork(NetworkConfig(sizes=(8, 4, 2), time_steps=4))
    with torch.no_grad():
        model.layers[0].weight[1] = 0.0  # neuron 1 pruned
    spikes = torch.ones(3, 4, 8)
    counts = model(spikes)
    counts.sum().backward()
    assert bool(torch.all(model.layers[0].weight.grad[1] != 0))


def test_a_training_checkpoint_exports_with_its_masks_applied(uninterrupted, tmp_path) -> None:
    """Between structure steps masked weights drift with training: loading ``last.pt``
    for export multiplies them by the saved masks (and zeroes dead neurons' biases)."""
    from sdsnn_hw.pipeline import load_checkpoint

    _, straight = uninterrupted
    saved = load(straight / "last.pt")
    mask = saved["structure"]["layers"][0]["mask"]
    assert (mask == 0).any()
    drifted = dict(saved)
    drifted["model"] = dict(saved["model"])
    weight_key = next(k for k in saved["model"] if k.endswith("weight"))
    drifted["model"][weight_key] = saved["model"][weight_key] + 0.25
    torch.save(drifted, tmp_path / "drifted.pt")
    model, _ = load_checkpoint(tmp_path / "drifted.pt")
    weight = model.layers[0].weight.detach()
    assert not weight[mask == 0].any()
    assert torch.equal(weight[mask != 0], drifted["model"][weight_key][mask != 0])


def test_run_from_a_training_checkpoint_skips_training(uninterrupted, tmp_path) -> None:
    _, straight = uninterrupted
    out = tmp_path / "run"
    args = ["run", "--checkpoint", str(straight / "last.pt"), "--no-rtl", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    last = load(straight / "last.pt")["metrics"][-1]
    assert summary["accuracy_golden"] == summary["accuracy_qat"] == round(last["test_accuracy"], 4)
    assert summary["qat_golden_mismatches"] == 0
    assert summary["paper_pruning_rate"] == last["paper_pruning_rate"]
    assert summary["structure"]["pruned_neurons"] == last["pruned_neurons"]
    assert summary["network"] == [64, 256, 10]  # the checkpoint's network, not the default's
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3


def test_run_from_a_checkpoint_refuses_options_that_change_the_configuration(
    uninterrupted, tmp_path, capsys
) -> None:
    _, straight = uninterrupted
    args = ["run", "--checkpoint", str(straight / "last.pt"), "--out", str(tmp_path / "run")]
    assert main([*args, "--epochs", "5", "--weight-bits", "4"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "cannot be given with it" in err and "quantization.weight_bits" in err
    assert not (tmp_path / "run").exists()
    (tmp_path / "notes.pt").write_bytes(b"not a checkpoint")
    assert main(["run", "--checkpoint", str(tmp_path / "notes.pt"), "--out", str(tmp_path / "r")])
    assert "notes.pt: not a PyTorch weights file" in capsys.readouterr().err
