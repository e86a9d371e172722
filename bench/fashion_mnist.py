"""Fashion-MNIST accuracy of 4-bit SD-SNN networks, from training to the integer golden model.

Targets (issue "[sdsnn]"): the paper's conv network (15C3-AP2-40C3-AP2-FC300-FC10) with
4-bit weights at >= 91 % golden test accuracy with >= 50 % of its synapses pruned (the
paper's rate, masked / all weights of the pruned layers), within 0.5 points of the same
network trained without pruning (``conv-dense``); an MLP (784-512-512-10) with 4-bit
weights at >= 88 %.

Each run is ``sdsnn run --no-rtl`` (train, export, golden model on all 10,000 test
images) with the settings below; it writes ``summary.json`` and ``metrics.jsonl`` into
``--out/<model>``, then ``result.json`` (the numbers for BENCHMARKS.md) and, with
matplotlib, ``curves.png``: test accuracy, the paper's pruning rate per layer, pruned
neurons and regrown synapses at every epoch (the structure steps done so far are in
``metrics.jsonl``).

Usage: python bench/fashion_mnist.py {conv,conv-dense,mlp} [--epochs N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from sdsnn_hw import config as cfg
from sdsnn_hw.pipeline import RunConfig, run

PAPER_NET = "15C3-AP2-40C3-AP2-FC300-FC10"
# the conv runs: the fast-fmnist structure scaling on the paper's network
CONV = {
    "network.net": PAPER_NET,
    "network.biases": True,
    "quantization.weight_bits": 4,
    "neuron.time_steps": 8,
}
SETTINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "conv": ("fast-fmnist", CONV),
    # no structure development: T_s beyond any run, so no step ever clips or prunes
    "conv-dense": ("fast-fmnist", {**CONV, "structure.plasticity_steps": 10**6}),
    # fast-fmnist's structure timing: about three structure steps an epoch
    "mlp": (
        "fashion-mlp",
        {
            "quantization.weight_bits": 4,
            "schedule.scheduler": "cosine",
            "structure.step_iterations": 150,
        },
    ),
}
TARGETS = {"conv": (0.91, 0.50), "conv-dense": (None, None), "mlp": (0.88, None)}


def setup(model: str, epochs: int | None) -> RunConfig:
    preset, overrides = SETTINGS[model]
    if epochs is not None:
        overrides = {**overrides, "schedule.epochs": epochs}
    train = cfg.apply(cfg.preset(preset), overrides, f"bench {model}")
    cfg.check(train, f"bench {model}")
    return RunConfig(**{f.name: getattr(train, f.name) for f in fields(train)}, rtl=False)


def curves(metrics: list[dict[str, Any]], path: Path) -> bool:
    """Accuracy, pruning rate per layer, pruned neurons and regrown synapses per epoch."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = [m["epoch"] for m in metrics]
    figure, axes = plt.subplots(1, 4, figsize=(16, 3.5))
    axes[0].plot(epochs, [m["test_accuracy"] for m in metrics], marker=".")
    axes[0].set_title("test accuracy (QAT)")
    for name, key, axis in (
        ("masked fraction", "pruning_rate", axes[1]),
        ("pruned neurons", "pruned_neurons", axes[2]),
        ("regrown synapses", "regrown_synapses", axes[3]),
    ):
        for layer in range(len(metrics[-1][key])):
            axis.plot(epochs, [m[key][layer] for m in metrics], marker=".", label=f"layer {layer}")
        axis.set_title(name)
        axis.legend(fontsize=7)
    for axis in axes:
        axis.set_xlabel("epoch")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", choices=sorted(SETTINGS))
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--out", type=Path, default=Path("bench/results/fashion_mnist"))
    args = parser.parse_args()
    config = setup(args.model, args.epochs)
    out = args.out / args.model
    start = time.perf_counter()
    summary = run(config, out, progress=False, force=True)
    seconds = round(time.perf_counter() - start, 1)
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    accuracy, pruned = TARGETS[args.model]
    result = {
        "model": args.model,
        "net": summary["net"],
        "weight_bits": summary["weight_bits"],
        "time_steps": summary["time_steps"],
        "epochs": config.training.epochs,
        "accuracy_golden": summary["accuracy_golden"],
        "accuracy_qat": summary["accuracy_qat"],
        "paper_pruning_rate": summary["paper_pruning_rate"],
        "hardware_pruning_rate": summary["pruning_rate"],
        "structure": summary["structure"],
        "target_accuracy": accuracy,
        "target_paper_pruning_rate": pruned,
        "wall_seconds": seconds,
        "machine": f"{platform.node()} ({platform.processor() or 'cpu'})",
        "curves": curves(metrics, out / "curves.png"),
    }
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "structure"}, indent=2))


if __name__ == "__main__":
    main()
