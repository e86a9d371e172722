"""``sdsnn report RUN_DIR``: one self-contained HTML page and a Markdown summary of
whatever ``run``, ``train``, ``export``, ``synth`` and ``rtl`` left in a folder.

Each section reads its own files; a section whose files are absent or unreadable says
so in one line (and the page's "Missing" line names it), so a folder with any subset
of the pieces still gives a report. Energy figures are a model (:mod:`sdsnn_hw.energy`),
never a measurement, and the page says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sdsnn_hw import report_plots as plots
from sdsnn_hw.counters import LayerCount, MemoryCount, NetworkCount
from sdsnn_hw.energy import NOTE, count_export, energy_summary, synth_fmax
from sdsnn_hw.energy_table import EnergyTable
from sdsnn_hw.fileio import atomic_write_text
from sdsnn_hw.report_render import Figure, Section, Table, to_html, to_markdown

HTML_NAME, MARKDOWN_NAME = "report.html", "report.md"
METRICS_NAME = "metrics.jsonl"  # the name `sdsnn train` writes (trainer.METRICS)
ENERGY_SAMPLES = 200
"""Test samples the report runs through the golden model when a folder's summary holds
no counts (an older run): enough for a mean, quick even for a conv network."""
# Exceptions a section treats as "this piece is unreadable": bad files, not bugs.
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, IndexError)


@dataclass(frozen=True)
class Written:
    html: Path
    markdown: Path


class _Folder:
    """A run folder's pieces, each read once on first use (None when absent)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, Any] = {}
        self.counted_here = False  # counts came from the golden model, not the summary

    def _once(self, key: str, load: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def json(self, name: str) -> dict[str, Any] | None:
        path = self.root / name
        return self._once(name, lambda: json.loads(path.read_text()) if path.is_file() else None)

    def metrics(self) -> list[dict[str, Any]] | None:
        path = self.root / METRICS_NAME

        def load() -> list[dict[str, Any]] | None:
            if not path.is_file():
                return None
            return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

        return self._once(METRICS_NAME, load)

    def manifest(self) -> Any:
        from sdsnn_hw.manifest import load_manifest

        export = self.root / "export"
        return self._once(
            "manifest",
            lambda: load_manifest(export) if (export / "manifest.json").is_file() else None,
        )

    def counts(self) -> dict[str, NetworkCount] | None:
        """Per-layer counts: the summary's, else the golden model's on the first
        :data:`ENERGY_SAMPLES` test samples, else None."""

        def load() -> dict[str, NetworkCount] | None:
            summary = self.json("summary.json") or {}
            counts = counts_from_summary(summary.get("energy_uj_per_inference") or {})
            if counts is not None or self.manifest() is None:
                return counts
            spikes = self.spikes()
            if spikes is None or len(spikes) == 0:
                return None
            self.counted_here = True
            return count_export(self.root / "export", spikes, ENERGY_SAMPLES)

        return self._once("counts", load)

    def spikes(self) -> np.ndarray | None:
        from sdsnn_hw.stimulus import load_stimulus

        path = self.root / "stimulus" / "test.npz"
        return self._once("spikes", lambda: load_stimulus(path).spikes if path.is_file() else None)


def write_report(
    run_dir: Path, title: str | None = None, tables: dict[str, EnergyTable] | None = None
) -> Written:
    """Write ``report.html`` and ``report.md`` into ``run_dir`` (atomically, each).

    Args:
        run_dir: a folder written by ``sdsnn run`` (or parts of one).
        title: the page title (default: the folder's path).
        tables: energy tables by kind (default: the shipped ones).
    """
    run_dir = Path(run_dir)
    folder = _Folder(run_dir)
    sections = [_section(title, build, folder, tables) for title, build in _SECTIONS]
    title = f"sdsnn report: {title or run_dir}"
    missing = [item for section in sections for item in section.missing]
    html_path, md_path = run_dir / HTML_NAME, run_dir / MARKDOWN_NAME
    atomic_write_text(html_path, to_html(title, sections, missing))
    atomic_write_text(md_path, to_markdown(title, sections, missing, HTML_NAME))
    return Written(html_path, md_path)


Builder = Callable[[_Folder, Section, "dict[str, EnergyTable] | None"], None]


def _section(title: str, build: Builder, folder: _Folder, tables: dict | None) -> Section:
    """Build one section; an unreadable piece becomes a "missing" line, not a crash."""
    section = Section(title)
    try:
        build(folder, section, tables)
    except _UNREADABLE as exc:
        section.missing.append(f"{title.lower()}: unreadable ({type(exc).__name__}: {exc})")
    return section


def write_metrics(folder: Path, metrics: list[dict[str, Any]]) -> None:
    """Per-epoch training metrics as ``sdsnn train`` writes them (one JSON per line)."""
    atomic_write_text(Path(folder) / METRICS_NAME, "".join(json.dumps(m) + "\n" for m in metrics))


def _summary(folder: _Folder, section: Section, _tables: dict | None) -> None:
    summary = folder.json("summary.json")
    if summary is None:
        section.missing.append("summary.json (the run's results)")
        return
    keys = (
        "dataset", "net", "n_test", "time_steps", "encoding", "weight_bits", "lanes",
        "accuracy_qat", "accuracy_golden", "qat_golden_mismatches", "accuracy_rtl", "rtl_samples",
        "rtl_mismatches", "rtl_counters_match_golden", "pruning_rate", "nonzero_weights",
        "memory_bits", "synaptic_ops_per_inference", "model_cycles_per_inference",
        "bound_cycles_per_inference", "cycles_vs_bound", "rtl_cycles_per_inference",
    )  # fmt: skip
    rows = [[key, summary[key]] for key in keys if key in summary]
    section.tables.append(Table(["field", "value"], rows))


def _training(folder: _Folder, section: Section, _tables: dict | None) -> None:
    metrics = folder.metrics()
    if not metrics:
        section.missing.append(f"{METRICS_NAME} (training curves, structure steps)")
        return
    section.figures.append(
        Figure(plots.training_curves(metrics), "Training loss and accuracy per epoch")
    )
    section.figures.append(
        Figure(
            plots.structure_curves(metrics),
            "Per fc layer over the structure steps: masked synapses, pruned neurons, "
            "regenerated synapses",
        )
    )


def _weights(folder: _Folder, section: Section, _tables: dict | None) -> None:
    manifest = folder.manifest()
    checkpoint = folder.root / "checkpoint.pt"
    if manifest is None or not checkpoint.is_file():
        section.missing.append("checkpoint.pt and export/ (weight histograms)")
        return
    from sdsnn_hw.golden import GoldenNetwork
    from sdsnn_hw.pipeline import load_checkpoint

    model, _ = load_checkpoint(checkpoint)
    net = GoldenNetwork.from_export(folder.root / "export")
    layers = []
    for module, spec, layer in zip(model.layers, manifest.layers, net.layers, strict=True):
        floats = module.weight.detach().numpy() / spec.weight_scale
        layers.append((spec.name, floats[floats != 0], layer.weights[layer.weights != 0]))
    section.figures.append(
        Figure(
            plots.weight_histograms(layers),
            "Non-zero weights before quantization (trained float / weight step) and after "
            "(exported integers)",
        )
    )


def _memory(folder: _Folder, section: Section, _tables: dict | None) -> None:
    manifest = folder.manifest()
    if manifest is None:
        section.missing.append("export/manifest.json (memory bits per layer)")
        return
    rows = [(spec.name, dict(spec.layout_bits), spec.layout) for spec in manifest.layers]
    section.figures.append(Figure(plots.memory_bits(rows), "ROM bits per layer and layout"))
    layouts = sorted({name for _, bits, _ in rows for name in bits})
    section.tables.append(
        Table(
            ["layer", "kind", "kept", *layouts, "bias bits"],
            [
                [spec.name, spec.kind, spec.layout]
                + [spec.layout_bits.get(name) for name in layouts]
                + [spec.bias.depth * spec.bias.width if spec.bias else 0]
                for spec in manifest.layers
            ],
        )
    )


def rtl_spikes(record: Path, sizes: list[int], steps: int) -> list[np.ndarray] | None:
    """Sample 0's spikes per layer (time, neurons) from the RTL record
    (docs/microarchitecture.md section 8: ``s`` lines, per layer a spike field, neuron
    0 in the last hex digit, then a membrane field); None where it is unreadable."""
    lines = [line.split()[1:] for line in record.read_text().splitlines() if line[:2] == "s "]
    if len(lines) < steps:
        return None
    spikes = [np.zeros((steps, n), np.uint8) for n in sizes]
    for t, fields in enumerate(lines[:steps]):
        if len(fields) < 2 * len(sizes):
            return None
        for i, n in enumerate(sizes):
            value = int(fields[2 * i], 16)
            spikes[i][t] = [(value >> k) & 1 for k in range(n)]
    return spikes


def _raster(folder: _Folder, section: Section, _tables: dict | None) -> None:
    manifest, spikes = folder.manifest(), folder.spikes()
    if manifest is None or spikes is None or len(spikes) == 0:
        section.missing.append("export/ and stimulus/test.npz (spike raster)")
        return
    from sdsnn_hw.golden import GoldenNetwork, run_network

    net = GoldenNetwork.from_export(folder.root / "export")
    golden = [s[0] for s in run_network(net, spikes[:1]).spikes]
    record = folder.root / "rtl" / "record.txt"
    rtl = None
    if record.is_file():
        rtl = rtl_spikes(record, [g.shape[1] for g in golden], net.time_steps)
    if rtl is None:
        section.missing.append("rtl/record.txt (the RTL side of the spike raster)")
    else:
        differ = sum(int(np.sum(g != r)) for g, r in zip(golden, rtl, strict=True))
        total = sum(int(g.sum()) for g in golden)
        section.text.append(
            f"Test sample 0: {total} spikes in the golden model, {differ} differ in the RTL."
        )
    names = [spec.name for spec in manifest.layers]
    section.figures.append(
        Figure(plots.spike_raster(golden, rtl, names), "Spikes of test sample 0, golden and RTL")
    )


def _cycles(folder: _Folder, section: Section, _tables: dict | None) -> None:
    summary = folder.json("summary.json") or {}
    counts = folder.counts()
    if counts is None:
        section.missing.append("counts in summary.json, or export/ and stimulus (cycles)")
        return
    if folder.counted_here:
        section.text.append(_counted_here(counts))
    layers = counts["sdsnn"].layers
    names = [layer.name for layer in layers]
    cycles = [layer.cycles for layer in layers]
    bound = [layer.bound for layer in layers]
    section.figures.append(
        Figure(plots.cycles_vs_bound(names, cycles, bound), "Cycles per inference per layer")
    )
    rows = [[n, c, b, c / b if b else None] for n, c, b in zip(names, cycles, bound, strict=True)]
    rows.append(["network", sum(cycles), sum(bound), sum(cycles) / sum(bound)])
    if "rtl_cycles_per_inference" in summary:
        section.text.append(
            f"RTL: {summary['rtl_cycles_per_inference']:,.1f} cycles per inference on "
            f"{summary.get('rtl_samples')} samples (counters equal to the model: "
            f"{summary.get('rtl_counters_match_golden')})."
        )
    section.tables.append(Table(["layer", "cycles", "bound", "cycles / bound"], rows))


def _resources(folder: _Folder, section: Section, _tables: dict | None) -> None:
    synth = folder.json("synth/summary.json")
    if synth is None:
        section.missing.append("synth/summary.json (resources and Fmax: `sdsnn synth`)")
    else:
        keys = ("target", "lanes", "lut", "ff", "bram", "dsp", "fmax_mhz", "timing_met",
                "cycles_per_inference", "latency_us")  # fmt: skip
        section.tables.append(Table(["field", "value"], [[k, synth.get(k)] for k in keys]))
    hls = folder.json("hls-csim/summary.json")
    if hls is None:
        section.missing.append("hls-csim/summary.json (HLS C simulation)")
    else:
        rows = [[k, v] for k, v in sorted(hls.items()) if not isinstance(v, dict | list)]
        section.tables.append(Table(["HLS C simulation", "value"], rows))


def counts_from_summary(energy: dict[str, Any]) -> dict[str, NetworkCount] | None:
    """The per-layer counts an ``energy_uj_per_inference`` field holds, or None."""
    counts = energy.get("counts")
    if not counts:
        return None
    out = {}
    for name, network in counts.items():
        layers = tuple(
            LayerCount(
                **{k: v for k, v in layer.items() if k != "memories"},
                memories=tuple(MemoryCount(**m) for m in layer["memories"]),
            )
            for layer in network["layers"]
        )
        out[name] = NetworkCount(name, int(energy["samples"]), int(network["lanes"]), layers)
    return out


def _energy(folder: _Folder, section: Section, tables: dict[str, EnergyTable] | None) -> None:
    counts = folder.counts()
    if counts is None:
        section.missing.append("counts in summary.json, or export/ and stimulus (energy)")
        return
    if folder.counted_here:
        section.text.append(_counted_here(counts))
    energy = energy_summary(counts, tables, synth_fmax(folder.root))
    section.text.insert(0, f"Energy per inference: {NOTE}. Units: microjoules per inference.")
    kinds = [key for key, value in energy.items() if isinstance(value, dict) and "table" in value]
    rows = []
    for kind in kinds:
        table = energy[kind]
        for network in ("sdsnn", "dense_snn", "ann"):
            e = table[network]
            ratio = e["total"] / table["sdsnn"]["total"] if table["sdsnn"]["total"] else None
            rows.append([table["table"], network, e["compute"], e["memory"], e["static"],
                         e["total"], ratio, e["latency_us"]])  # fmt: skip
        section.text.append(_verdict(table))
    section.tables.append(
        Table(
            ["table", "network", "compute", "memory", "static", "total", "x SD-SNN", "latency us"],
            rows,
        )
    )
    parts = ("compute", "memory", "static")
    bars = [
        (energy[k]["title"], {n: {p: energy[k][n][p] for p in parts} for n in counts})
        for k in kinds
    ]
    section.figures.append(
        Figure(plots.energy_bars(bars), "Energy per inference (model): SD-SNN and baselines")
    )
    per_layer = [(energy[k]["title"], energy[k]["sdsnn"]["layers"]) for k in kinds]
    section.figures.append(
        Figure(plots.layer_energy_bars(per_layer), "SD-SNN energy per layer (model)")
    )
    section.text.append(
        "Baselines on the same inputs: dense_snn is the same network unpruned (trained "
        "sizes, every weight non-zero, removed inputs as active as the kept ones); ann is "
        "the quantized ANN of the same shape, one MAC per weight per inference "
        "(docs/energy-model.md)."
    )


def _counted_here(counts: dict[str, NetworkCount]) -> str:
    return (
        f"Counted here by the golden model on the first {counts['sdsnn'].samples} test "
        "samples (the summary holds no counts)."
    )


def _verdict(table: dict[str, Any]) -> str:
    """One sentence per table: how the baselines compare, whichever way it goes."""
    lines = []
    for network, label in (("dense_snn", "the dense SNN"), ("ann", "the quantized ANN")):
        ratio = table[f"{network}_over_sdsnn"]
        if ratio is None:
            continue
        if ratio >= 1:
            lines.append(f"SD-SNN uses {ratio:.2f}x less energy than {label}")
        else:
            lines.append(f"SD-SNN uses {1 / ratio:.2f}x more energy than {label}")
    return f"{table['title']}: " + "; ".join(lines) + "."


_SECTIONS: list[tuple[str, Builder]] = [
    ("Summary", _summary),
    ("Training", _training),
    ("Weights", _weights),
    ("Memory", _memory),
    ("Spikes", _raster),
    ("Cycles", _cycles),
    ("Resources", _resources),
    ("Energy", _energy),
]
