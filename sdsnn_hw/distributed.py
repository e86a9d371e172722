"""Several training processes (``torchrun``): process group, shards, one structure step.

Every process encodes the same global batch from the same generator and trains on its
slice, with the loss scaled so that DistributedDataParallel's mean of the gradients is
the gradient of the whole batch: one process or several train the same model, up to
the order of float sums. The structure step runs on rank 0 only; its weights and state
are broadcast and every rank then checks that it holds exactly the same.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist


class RankMismatchError(RuntimeError):
    """Processes disagree on state that must be identical (a bug)."""


@dataclass(frozen=True)
class Ranks:
    """This process's place among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def shard(self, n: int) -> slice:
        """This rank's contiguous slice of ``n`` items (sizes differ by at most one)."""
        return slice(self.rank * n // self.world, (self.rank + 1) * n // self.world)


def init_from_env(device: str) -> Ranks:
    """Join the process group ``torchrun`` describes in the environment, if any.

    gloo on the CPU, NCCL on GPUs (each local rank on its own GPU).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks()
    if not dist.is_initialized():
        if device == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
    return Ranks(dist.get_rank(), dist.get_world_size())


def wait_for_all(ranks: Ranks) -> None:
    if ranks.active:
        dist.barrier()


def finish_worker(ranks: Ranks) -> None:
    """End a rank whose work is done (every file written), once all ranks are here.

    Exits the process without running destructors: tearing down DDP's gloo process
    group can deadlock, its destructor holding the GIL while it joins a gloo thread
    that waits for the GIL to release a tensor.
    """
    if not ranks.active:
        return
    dist.barrier()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def shutdown(ranks: Ranks) -> None:
    if ranks.active and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(ranks: Ranks, values: list[float]) -> list[float]:
    """Element-wise sum of ``values`` over the ranks (float64)."""
    if not ranks.active:
        return values
    tensor = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(tensor)
    return tensor.tolist()


def broadcast_from_main(ranks: Ranks, tensors: list[torch.Tensor], extra: object) -> object:
    """Copy rank 0's ``tensors`` (in place) and ``extra`` (any picklable) to every rank."""
    if not ranks.active:
        return extra
    nccl = dist.get_backend() == "nccl"
    for tensor in tensors:
        if nccl and tensor.device.type == "cpu":  # NCCL moves GPU memory only
            staged = tensor.cuda()
            dist.broadcast(staged, src=0)
            tensor.copy_(staged.cpu())
        else:
            dist.broadcast(tensor, src=0)
    box = [extra]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def check_identical(ranks: Ranks, tensors: list[torch.Tensor], what: str) -> None:
    """Raise unless every rank holds bit-identical ``tensors``."""
    if not ranks.active:
        return
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digests: list[str | None] = [None] * ranks.world
    dist.all_gather_object(digests, digest.hexdigest())
    if len(set(digests)) != 1:
        raise RankMismatchError(f"{what} differ between ranks after the structure step")


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``python -m sdsnn_hw.train ARGV`` in ``nproc`` processes under torchrun."""
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc-per-node={nproc}", "-m", "sdsnn_hw.train", *argv,
    ]  # fmt: skip
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    return subprocess.run(command, env=env, check=False).returncode
