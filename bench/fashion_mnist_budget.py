"""Train several ``bench/fashion_mnist.py`` models side by side within a wall-clock budget.

Meant for a lent GPU with a few minutes on it. Processes side by side time-share the GPU:
on an H100, six of them (three conv nets, two MLPs, one conv net at batch 32) each ran
about 3x slower than alone (an estimate from the probe, where one model finished its
epoch alone; BENCHMARKS.md). For a target that needs many epochs, give one model the
whole budget.

Every model first trains one epoch, all side by side as in the real run (the probe);
each model's epoch time then gives it the most epochs that fit what is left of the
budget (at most ``--max-epochs``; models named with ``--fixed`` keep their
configuration's epochs). All train again from the start with those epochs, and the
train stage of each is packed: its metrics, configuration and ``weights.pt`` (the last
checkpoint without optimiser state, masks kept: what ``bench/fashion_mnist.py MODEL
--stage evaluate`` reads), one ``--pack/<model>.tar`` each. A model still training at
the deadline is stopped; its pack holds the last checkpoint it wrote.

Usage: python bench/fashion_mnist_budget.py MODEL... --budget S --out DIR --pack DIR
           [--device cuda] [--data-dir DIR] [--max-epochs N] [--fixed MODEL] [--set KEY=VALUE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
PROBE_MARGIN_S = 20.0  # start-up, the final checkpoint and the pack


def launch(models: list[str], epochs: dict[str, int | None], args: argparse.Namespace, out: Path):
    processes = {}
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONUNBUFFERED": "1"}
    for model in models:
        command = [sys.executable, str(HERE / "fashion_mnist.py"), model, "--stage", "train"]
        command += ["--device", args.device, "--out", str(out)]
        if epochs[model] is not None:
            command += ["--epochs", str(epochs[model])]
        if args.data_dir is not None:
            command += ["--data-dir", str(args.data_dir)]
        for text in args.set:
            command += ["--set", text]
        log = (out / f"{model}.log").open("w")
        processes[model] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    return processes


def wait(processes: dict[str, subprocess.Popen], deadline: float) -> dict[str, int | None]:
    """Exit codes; None for a model stopped at the deadline."""
    codes: dict[str, int | None] = {}
    for model, process in processes.items():
        try:
            codes[model] = process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            codes[model] = None
    return codes


def epoch_seconds(folder: Path) -> float:
    metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    m = metrics[-1]
    return m["seconds"] + m["structure_seconds"] + m["eval_seconds"]


def slim(last: Path, target: Path) -> None:
    """``last.pt`` without optimiser, scheduler and RNG state; masks as bools."""
    saved = torch.load(last, weights_only=True, map_location="cpu")
    layers = saved["structure"]["layers"]
    packed = {key: saved[key] for key in ("model", "network", "classes", "config", "metrics")}
    packed["structure"] = {
        "step_count": saved["structure"]["step_count"],
        "layers": None if layers is None else [{"mask": s["mask"].bool()} for s in layers],
    }
    torch.save(packed, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--budget", type=float, required=True, help="seconds, probe included")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pack", type=Path, required=True, help="folder of the tar files")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--fixed", action="append", default=[], help="keep its epochs")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per model")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override, every model"
    )
    args = parser.parse_args()
    start = time.monotonic()
    deadline = start + args.budget

    probe = launch(args.models, dict.fromkeys(args.models, 1), args, args.out / "probe")
    codes = wait(probe, deadline)
    failed = [m for m, code in codes.items() if code != 0]
    if failed:
        for model in failed:
            print((args.out / "probe" / f"{model}.log").read_text()[-3000:])
        sys.exit(f"probe failed: {failed}")
    probe_seconds = time.monotonic() - start
    left = deadline - time.monotonic() - PROBE_MARGIN_S
    epochs: dict[str, int | None] = {}
    for model in args.models:
        seconds = epoch_seconds(args.out / "probe" / model / "train")
        start_up = probe_seconds - seconds  # loading data, building the model
        fits = min(args.max_epochs, max(1, math.floor(0.95 * (left - start_up) / seconds)))
        epochs[model] = None if model in args.fixed else fits
        print(f"probe {model}: {seconds:.1f} s an epoch, {epochs[model] or 'preset'} epochs")
    print(f"probe took {probe_seconds:.0f} s", flush=True)

    codes = wait(launch(args.models, epochs, args, args.out), deadline - 5)
    print(f"training took {time.monotonic() - start:.0f} s: exit codes {codes}", flush=True)
    args.pack.mkdir(parents=True, exist_ok=True)
    for model in args.models:
        folder = args.out / model / "train"
        if (folder / "last.pt").is_file():
            slim(folder / "last.pt", folder / "weights.pt")
        pack = args.pack / f"{model}.tar"
        with tarfile.open(pack, "w") as tar:
            for name in ("weights.pt", "metrics.jsonl", "config.toml"):
                if (folder / name).is_file():
                    tar.add(folder / name, f"{model}/train/{name}")
            tar.add(args.out / f"{model}.log", f"{model}/train.log")
        print(f"packed {pack} ({pack.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
