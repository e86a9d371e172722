"""Two CPU processes (gloo) train the model one process trains; ranks stay identical."""

import json
import os
import subprocess

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from sdsnn_hw.distributed import RankMismatchError, Ranks, check_identical
from tests.conftest import SDSNN

CONFIG = """
[network]
hidden = [32]
[structure]
plasticity_steps = 1
step_iterations = 10  # 23 batches an epoch: pruning from the fourth structure step
[schedule]
epochs = 3
batch_size = 64
"""


def _train(config, out, nproc: int) -> None:
    args = [SDSNN, "train", "--config", str(config), "--out", str(out), "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([*args, "--nproc", str(nproc)], env=env, capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_two_processes_train_the_single_process_model(tmp_path) -> None:
    """The same batches split over two ranks: the same model up to the order of float
    sums (after a few epochs a flipped spike lets spiking networks drift apart)."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    _train(config, tmp_path / "one", 1)
    _train(config, tmp_path / "two", 2)
    one = torch.load(tmp_path / "one" / "last.pt", weights_only=True)
    two = torch.load(tmp_path / "two" / "last.pt", weights_only=True)
    for a, b in zip(one["metrics"], two["metrics"], strict=True):
        assert a["train_accuracy"] == b["train_accuracy"]
        assert a["test_accuracy"] == b["test_accuracy"]
        assert abs(a["loss"] - b["loss"]) < 1e-5 * a["loss"]
        assert a["pruned_neurons"] == b["pruned_neurons"]
    assert one["metrics"][-1]["pruned_neurons"][0] > 0, "the structure step should prune"
    for key, tensor in one["model"].items():
        torch.testing.assert_close(two["model"][key], tensor, rtol=1e-3, atol=1e-4)
    for a, b in zip(one["structure"]["layers"], two["structure"]["layers"], strict=True):
        assert torch.equal(a["mask"], b["mask"]) and torch.equal(a["pruned"], b["pruned"])
    lines = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]


def _check_worker(rank: int, store: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    ranks = Ranks(rank, 2)
    same = [torch.arange(6.0)]
    check_identical(ranks, same, "masks")
    differ = [torch.arange(6.0) + rank]
    try:
        check_identical(ranks, differ, "masks")
    except RankMismatchError as exc:
        assert "masks differ between ranks" in str(exc)
    else:
        raise AssertionError("a difference between ranks went unnoticed")
    finally:
        dist.destroy_process_group()


def test_a_difference_between_ranks_is_caught(tmp_path) -> None:
    mp.spawn(_check_worker, args=(str(tmp_path / "store"),), nprocs=2)
