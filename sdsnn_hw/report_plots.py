"""The report's figures: matplotlib (Agg) drawings returned as PNG bytes.

Each function takes plain numbers, so the report decides what exists and these only
draw. PNGs carry no timestamp or software tag, so the same inputs give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

_COLORS = {"compute": "#4c72b0", "memory": "#dd8452", "static": "#8c8c8c"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def training_curves(metrics: Sequence[dict[str, Any]]) -> bytes:
    """Loss and train/test accuracy per epoch."""
    plt = _pyplot()
    epochs = [m["epoch"] for m in metrics]
    fig, (loss, acc) = plt.subplots(1, 2, figsize=(9, 3.2))
    loss.plot(epochs, [m["loss"] for m in metrics], marker="o", color="#4c72b0")
    loss.set(xlabel="epoch", ylabel="training loss", title="Loss")
    for key, label in (("train_accuracy", "train"), ("test_accuracy", "test")):
        acc.plot(epochs, [m.get(key) for m in metrics], marker="o", label=label)
    acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy (QAT model)")
    acc.legend()
    return _png(fig)


def structure_curves(metrics: Sequence[dict[str, Any]]) -> bytes:
    """Per layer: pruned fraction, pruned neurons and regrown synapses per structure step."""
    plt = _pyplot()
    epochs = [m["epoch"] for m in metrics]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    keys = (
        ("pruning_rate", "masked synapses (fraction)"),
        ("pruned_neurons", "pruned neurons"),
        ("regrown_synapses", "regenerated synapses"),
    )
    for ax, (key, label) in zip(axes, keys, strict=True):
        rows = [m.get(key) or [] for m in metrics]
        layers = max((len(r) for r in rows), default=0)
        for layer in range(layers):
            values = [r[layer] if layer < len(r) else np.nan for r in rows]
            ax.plot(epochs, values, marker="o", label=f"fc layer {layer}")
        ax.set(xlabel="structure step (epoch)", title=label)
        if layers:
            ax.legend(fontsize="small")
    return _png(fig)


def weight_histograms(layers: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> bytes:
    """Per layer: trained float weights in weight steps against the exported integers.

    Args:
        layers: (name, float weights / weight scale, exported integer weights).
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(layers), figsize=(3.4 * len(layers), 3.0), squeeze=False)
    for ax, (name, floats, integers) in zip(axes[0], layers, strict=True):
        top = max(float(np.abs(floats).max(initial=0)), float(np.abs(integers).max(initial=0)), 1)
        bins = np.arange(-np.ceil(top) - 0.5, np.ceil(top) + 1.5, 1.0)
        ax.hist(floats.ravel(), bins=bins * 1.0, alpha=0.5, label="float (trained)")
        ax.hist(integers.ravel(), bins=bins, alpha=0.5, label="integer (exported)")
        ax.set(title=name, xlabel="weight step", yscale="log")
        ax.legend(fontsize="small")
    return _png(fig)


def memory_bits(rows: Sequence[tuple[str, dict[str, int], str]]) -> bytes:
    """Grouped bars: ROM bits of every candidate layout per layer; the kept one hatched.

    Args:
        rows: (layer name, bits per layout, kept layout).
    """
    plt = _pyplot()
    layouts = sorted({name for _, bits, _ in rows for name in bits})
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(rows) + 2), 3.4))
    width = 0.8 / max(len(layouts), 1)
    x = np.arange(len(rows))
    for j, layout in enumerate(layouts):
        values = [bits.get(layout, 0) for _, bits, _ in rows]
        bars = ax.bar(x + j * width, values, width, label=layout)
        for bar, (_, _, kept) in zip(bars, rows, strict=True):
            if kept == layout:
                bar.set_hatch("//")
                bar.set_edgecolor("black")
    ax.set_xticks(x + width * (len(layouts) - 1) / 2, [name for name, _, _ in rows])
    ax.set(ylabel="ROM bits", yscale="log", title="Memory bits per layer by layout (hatched: kept)")
    ax.legend(fontsize="small")
    return _png(fig)


def spike_raster(
    golden: Sequence[np.ndarray], rtl: Sequence[np.ndarray] | None, names: Sequence[str]
) -> bytes:
    """Spikes of one sample, every layer stacked: golden dots, RTL rings on top.

    Args:
        golden, rtl: per layer, (time, neurons) 0/1; ``rtl`` None where there is none.
        names: layer names.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(len(golden), 1, figsize=(8, 1.2 + 1.6 * len(golden)), squeeze=False)
    for i, ax in enumerate(axes[:, 0]):
        t, n = np.nonzero(golden[i])
        ax.scatter(t, n, s=10, color="#4c72b0", label="golden")
        if rtl is not None:
            t, n = np.nonzero(rtl[i])
            ax.scatter(t, n, s=40, facecolors="none", edgecolors="#c44e52", label="RTL")
        ax.set(ylabel=f"{names[i]} neuron", xlim=(-0.5, golden[i].shape[0] - 0.5))
        ax.set_ylim(-1, max(golden[i].shape[1], 1))
        if i == 0:
            ax.legend(fontsize="small", loc="upper right")
    axes[-1, 0].set_xlabel("time step")
    return _png(fig)


def cycles_vs_bound(names: Sequence[str], cycles: Sequence[float], bound: Sequence[float]) -> bytes:
    """Per layer: cycles of the core against the lane bound B(P)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 1.4 * len(names) + 2), 3.2))
    x = np.arange(len(names))
    ax.bar(x - 0.2, cycles, 0.4, label="cycles (core)")
    ax.bar(x + 0.2, bound, 0.4, label="lane bound B(P)")
    ax.set_xticks(x, list(names))
    ax.set(ylabel="cycles per inference", title="Cycles against the lane bound")
    ax.legend(fontsize="small")
    return _png(fig)


def energy_bars(kinds: Sequence[tuple[str, dict[str, dict[str, float]]]]) -> bytes:
    """Per table: stacked compute, memory and static energy of each network.

    Args:
        kinds: (table title, {network: {"compute", "memory", "static"} in uJ}).
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 3.4), squeeze=False)
    for ax, (title, networks) in zip(axes[0], kinds, strict=True):
        names = list(networks)
        bottom = np.zeros(len(names))
        for part in ("compute", "memory", "static"):
            values = np.array([networks[n][part] for n in names])
            ax.bar(names, values, bottom=bottom, label=part, color=_COLORS[part])
            bottom += values
        ax.set(title=title, ylabel="uJ per inference (model)")
        ax.legend(fontsize="small")
    return _png(fig)


def layer_energy_bars(kinds: Sequence[tuple[str, list[dict[str, Any]]]]) -> bytes:
    """Per table: the SD-SNN's compute and memory energy per layer, stacked."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 3.2), squeeze=False)
    for ax, (title, layers) in zip(axes[0], kinds, strict=True):
        names = [layer["name"] for layer in layers]
        compute = np.array([layer["compute"] for layer in layers])
        memory = np.array([layer["memory"] for layer in layers])
        ax.bar(names, compute, label="compute", color=_COLORS["compute"])
        ax.bar(names, memory, bottom=compute, label="memory", color=_COLORS["memory"])
        ax.set(title=title, ylabel="uJ per inference (model)")
        ax.legend(fontsize="small")
    return _png(fig)
