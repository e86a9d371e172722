"""Training throughput: sdsnn-hw (QAT and structure on) against snnTorch, same run.

The network of the issue: a 784-512-512-10 LIF MLP, T = 8, batch 128, rate-coded
Fashion-MNIST (``/usr/share/datasets/fashion-mnist``; random pixels, said so, where it
is missing). Three trainers take turns, a few batches each, for several rounds, so
that load from other jobs falls on all of them alike; each reports its median
samples/s over the rounds:

- ``sdsnn``: the ``fashion-mlp`` preset through :class:`sdsnn_hw.trainer.Trainer`
  (Brevitas 6-bit QAT, integer neurons, structural development), with the cost of
  one structure step per epoch added;
- ``snntorch``: snnTorch 1.0's tutorial network (``nn.Linear`` + ``snn.Leaky`` step by
  step, ``spikegen.rate`` encoding, the same loss and optimiser);
- ``float``: the same network as ``sdsnn`` in plain float (``nn.Linear`` float32, the
  same neuron scan, no quantization, no structure);
- ``snntorch+rate_spikes`` (full runs): snnTorch fed by sdsnn's encoder, to show how
  much of the ratio is the encoder.

All use fused Adam (the trainer's), so that only the networks and encoders differ.

Also: one structure step against one epoch, and the peak memory of each trainer (its own
process). Usage: ``python bench/train_throughput.py [--quick] [--threads 2]``; the
last line is ``ratio_vs_snntorch=<x>``. Needs ``pip install -e .[bench]`` (snnTorch).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from sdsnn_hw.allocator import keep_freed_memory
from sdsnn_hw.config import TrainSetup, network_config, preset
from sdsnn_hw.data import FASHION_MNIST_DIR, DataError, Dataset, load_dataset
from sdsnn_hw.kernels import lif_scan
from sdsnn_hw.model import SpikingNetwork
from sdsnn_hw.neuron import LifParams
from sdsnn_hw.rate_code import rate_spikes
from sdsnn_hw.trainer import Trainer

STEPS, BATCH, HIDDEN = 8, 128, (512, 512)
SIDES = ("sdsnn", "snntorch", "float")
EXTRA = "snntorch+rate_spikes"  # snnTorch fed by sdsnn's encoder (full runs only)


def load_data() -> tuple[Dataset, str]:
    try:
        return load_dataset("fashion-mnist"), f"Fashion-MNIST from {FASHION_MNIST_DIR}"
    except DataError as exc:
        rng = np.random.default_rng(0)
        x = rng.random((60_000, 784), dtype=np.float32)
        y = rng.integers(0, 10, 60_000)
        data = Dataset("random", x, y, x[:2000], y[:2000], 10, (1, 28, 28))
        return data, f"random pixels: Fashion-MNIST is missing ({exc})"


def sdsnn_setup() -> TrainSetup:
    setup = preset("fashion-mlp")
    return replace(setup, training=replace(setup.training, epochs=1))


class SdsnnSide:
    """The trainer of ``sdsnn train --preset fashion-mlp``, batch by batch."""

    def __init__(self, data: Dataset) -> None:
        setup = sdsnn_setup()
        torch.manual_seed(0)
        model = SpikingNetwork(network_config(setup))
        self.trainer = Trainer(data, model, setup.training, setup.structure, progress=False)
        self.trainer.begin_epoch()

    def batch(self) -> None:
        if self.trainer.position.batch == self.trainer.batches_per_epoch:
            self.trainer.position.batch = 0
        self.trainer.train_batch()


class SnnTorchNet(nn.Module):
    """snnTorch's tutorial MLP: Linear and Leaky neurons, one step at a time."""

    def __init__(self) -> None:
        import snntorch as snn

        super().__init__()
        sizes = (784, *HIDDEN, 10)
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.lifs = nn.ModuleList(snn.Leaky(beta=0.75) for _ in self.fcs)

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        membranes = [lif.init_leaky() for lif in self.lifs]
        counts = 0
        for x in spikes:
            for i, (fc, lif) in enumerate(zip(self.fcs, self.lifs, strict=True)):
                x, membranes[i] = lif(fc(x), membranes[i])
            counts = counts + x
        return counts


class FloatNet(nn.Module):
    """The sdsnn network in plain float: float32 Linear layers, the same neuron scan."""

    def __init__(self) -> None:
        super().__init__()
        sizes = (784, *HIDDEN, 10)
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.lif = LifParams(v_th=1, leak_shift=2, v_bits=24)

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        x = spikes
        for fc in self.fcs:
            x, _ = lif_scan(fc(x.float()), self.lif)
        return x.sum(dim=0)


class TorchSide:
    """A plain PyTorch training loop around ``net`` with its own encoder."""

    def __init__(self, data: Dataset, net: nn.Module, encode: Callable) -> None:
        torch.manual_seed(0)
        self.net, self.encode = net, encode
        # the optimiser of the sdsnn trainer (fused Adam), so that only the networks differ
        self.optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
        self.x = torch.from_numpy(data.x_train)
        self.y = torch.from_numpy(data.y_train)
        self.generator = torch.Generator().manual_seed(0)
        self.start = 0

    def batch(self) -> None:
        if self.start + BATCH > len(self.x):
            self.start = 0
        index = slice(self.start, self.start + BATCH)
        self.start += BATCH
        counts = self.net(self.encode(self.x[index], self.generator))
        loss = functional.cross_entropy(counts, self.y[index])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


def snntorch_encode(x: torch.Tensor, _generator: torch.Generator) -> torch.Tensor:
    from snntorch import spikegen

    return spikegen.rate(x, num_steps=STEPS)  # (time, batch, inputs), torch.bernoulli


def make_side(name: str, data: Dataset):
    if name == "sdsnn":
        return SdsnnSide(data)
    if name == "snntorch":
        return TorchSide(data, SnnTorchNet(), snntorch_encode)
    if name == EXTRA:
        return TorchSide(data, SnnTorchNet(), lambda x, g: rate_spikes(x, STEPS, g).float())
    return TorchSide(data, FloatNet(), lambda x, g: rate_spikes(x, STEPS, g))


def samples_per_second(side, batches: int) -> float:
    started = time.perf_counter()
    for _ in range(batches):
        side.batch()
    return batches * BATCH / (time.perf_counter() - started)


def structure_step_seconds(side: SdsnnSide, steps: int) -> list[float]:
    """Seconds of structure steps 1..steps (pruning and regeneration start at 2 T_s + 1)."""
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        side.trainer.structure_step()
        times.append(time.perf_counter() - started)
    return times


def _status_mib(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_memory(name: str, threads: int, batches: int, queue) -> None:
    torch.set_num_threads(threads)
    keep_freed_memory()
    data, _ = load_data()
    loaded = _status_mib("VmRSS")
    side = make_side(name, data)
    built = _status_mib("VmHWM")  # the trainer built (sdsnn: with the encoded test split)
    Path("/proc/self/clear_refs").write_text("5")  # the peak from here on: training alone
    before = _status_mib("VmRSS")
    for _ in range(batches):
        side.batch()
    queue.put((loaded, built, before, _status_mib("VmHWM")))


def peak_memory_mib(name: str, threads: int, batches: int) -> tuple[float, ...]:
    """Resident MiB of a fresh process: with the data loaded, peak while building the
    trainer, before training, and peak while training."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_peak_memory, args=(name, threads, batches, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds: under 2 minutes")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--rounds", type=int, help="rounds of turns (default 4 quick, 10)")
    parser.add_argument("--batches", type=int, help="batches per turn (default 8 quick, 20)")
    args = parser.parse_args()
    rounds = args.rounds or (4 if args.quick else 10)
    batches = args.batches or (8 if args.quick else 20)
    torch.set_num_threads(args.threads)
    keep_freed_memory()  # both sides alike; the trainer does this itself
    load_before = os.getloadavg()
    data, source = load_data()
    print(f"date {date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} threads")  # fmt: skip
    print(f"data: {source}; network 784-{'-'.join(map(str, HIDDEN))}-10, T={STEPS}, batch {BATCH}")
    names = SIDES if args.quick else (*SIDES, EXTRA)
    sides = {name: make_side(name, data) for name in names}
    for side in sides.values():
        samples_per_second(side, 2)  # warm up
    rates: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name, side in sides.items():
            rates[name].append(samples_per_second(side, batches))
    median = {name: statistics.median(values) for name, values in rates.items()}
    epoch_batches = sides["sdsnn"].trainer.batches_per_epoch
    epoch_seconds = epoch_batches * BATCH / median["sdsnn"]
    structure = structure_step_seconds(sides["sdsnn"], 8)
    # an epoch of sdsnn training pays one structure step: count the slowest one
    with_structure = epoch_batches * BATCH / (epoch_seconds + max(structure))
    load_after = os.getloadavg()
    for name in names:
        spread = f"{min(rates[name]):,.0f}..{max(rates[name]):,.0f}"
        print(f"{name:<9} {median[name]:>8,.0f} samples/s (median of {rounds}, range {spread})")
    print(f"sdsnn with one structure step per epoch: {with_structure:,.0f} samples/s")
    print(
        f"structure step: {1000 * statistics.mean(structure):.1f} ms mean, "
        f"{1000 * max(structure):.1f} ms max over steps 1..8; one epoch "
        f"({epoch_batches} batches) {epoch_seconds:.2f} s: "
        f"{100 * max(structure) / epoch_seconds:.2f} % of an epoch"
    )
    print(f"QAT + structure against plain float: {median['float'] / with_structure:.2f}x the time")
    for name in SIDES:
        loaded, built, before, peak = peak_memory_mib(name, args.threads, batches)
        print(
            f"memory {name:<9} peak {max(built, peak):,.0f} MiB resident; training batches "
            f"{peak - before:+,.0f} MiB over the {before:,.0f} MiB before them (data "
            f"{loaded:,.0f} MiB, building the trainer peaked at {built:,.0f} MiB)"
        )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    # each round's two sides ran back to back under the same load: the median of the
    # per-round ratios is steadier than the ratio of the medians
    amortized = with_structure / median["sdsnn"]
    ratios = [a * amortized / b for a, b in zip(rates["sdsnn"], rates["snntorch"], strict=True)]
    floats = [f / a for a, f in zip(rates["sdsnn"], rates["float"], strict=True)]
    print(f"per-round ratios sdsnn/snntorch: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"QAT + structure against plain float, per round: {statistics.median(floats):.2f}x")
    print(f"ratio_vs_snntorch={statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
