"""The end-to-end flow behind ``sdsnn run``: train, export, golden, RTL, summary."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sdsnn_hw.data import encode_rate, load_dataset
from sdsnn_hw.export import export_model
from sdsnn_hw.fileio import atomic_write_bytes, atomic_write_text
from sdsnn_hw.golden import GoldenNetwork, GoldenResult, run_network
from sdsnn_hw.layouts import AUTO, DEFAULT_LANES
from sdsnn_hw.manifest import Manifest
from sdsnn_hw.model import NetworkConfig, SpikingMLP, Trace
from sdsnn_hw.outdir import output_folder
from sdsnn_hw.stimulus import Stimulus, save_stimulus
from sdsnn_hw.structure import StructureConfig
from sdsnn_hw.train import TrainConfig, evaluate, train


class CheckpointError(ValueError):
    """A checkpoint file is missing or is not one this tool wrote."""


@dataclass(frozen=True)
class RunConfig:
    """Everything one ``sdsnn run`` depends on.

    Attributes:
        dataset: data set name (see :data:`sdsnn_hw.data.DATASETS`).
        data_dir: folder of the data set files, where the data set needs one.
        hidden: hidden layer sizes; input and output sizes come from the data.
        network: number formats and time steps (its ``sizes`` are replaced).
        training: optimiser settings.
        structure: SD-SNN structural development constants.
        stimulus_seed: seed of the test-split spike encoding.
        rtl: run the RTL simulation stage.
        rtl_samples: simulate only the first N test samples (0 = all).
        simulator: HDL simulator of the RTL stage, ``verilator`` or ``icarus``.
        lanes: P, the synapse lanes of the core the export is laid out for.
        layout: weight memory layout of every layer, or ``auto`` (smallest per layer).
    """

    dataset: str = "digits"
    data_dir: Path | None = None
    hidden: tuple[int, ...] = (128,)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    training: TrainConfig = field(default_factory=TrainConfig)
    structure: StructureConfig = field(default_factory=StructureConfig)
    stimulus_seed: int = 1234
    rtl: bool = True
    rtl_samples: int = 0
    simulator: str = "verilator"
    lanes: int = DEFAULT_LANES
    layout: str = AUTO


def run(
    config: RunConfig,
    out: Path,
    progress: bool = True,
    log: Callable[[str], None] = print,
    force: bool = False,
) -> dict[str, Any]:
    """Run every stage and return the summary (also ``out/summary.json``).

    ``out`` appears complete when the run ends, or not at all: the run works in a hidden
    sibling folder that then replaces ``out`` (see :mod:`sdsnn_hw.outdir`; ``force``
    moves a folder of foreign files aside).
    """
    with output_folder(out, "run", force, log) as work:
        return _run_stages(config, work, Path(out), progress, log)


def _run_stages(
    config: RunConfig, work: Path, out: Path, progress: bool, log: Callable[[str], None]
) -> dict[str, Any]:
    """The stages of :func:`run`, writing into ``work``; messages name ``out``."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = round(now - clock, 2)
        clock = now

    dataset = load_dataset(config.dataset, config.data_dir)
    sizes = (dataset.n_features, *config.hidden, dataset.n_classes)
    net_config = NetworkConfig(**{**asdict(config.network), "sizes": sizes})
    torch.manual_seed(config.training.seed)
    model = SpikingMLP(net_config)
    log(
        f"train: {dataset.name}, {len(dataset.x_train)} samples, network {sizes}, "
        f"{net_config.weight_bits}-bit weights, T={net_config.time_steps}"
    )
    trained = train(dataset, model, config.training, config.structure, progress=progress)
    stimulus = Stimulus(
        encode_rate(dataset.x_test, net_config.time_steps, config.stimulus_seed), dataset.y_test
    )
    qat_predictions, qat_trace = evaluate(model, stimulus.spikes)
    _save_checkpoint(work / "checkpoint.pt", model, config, dataset.n_classes)
    lap("train")

    export_dir = work / "export"
    manifest = export_model(export_dir, model, dataset.n_classes, config.lanes, config.layout)
    stimulus_path = work / "stimulus" / "test.npz"
    save_stimulus(stimulus_path, stimulus)
    synapses = sum(layer.nnz for layer in manifest.layers)
    log(
        f"export: {out / 'export'}: neurons {[layer.n_out for layer in manifest.layers]}, "
        f"{synapses} synapses, {manifest.lanes} lanes"
    )
    log(layout_table(manifest))
    lap("export")

    log(f"golden: {len(stimulus.labels)} test samples from the exported files")
    golden = run_network(GoldenNetwork.from_export(export_dir), stimulus.spikes, progress)
    qat_golden_mismatches = _qat_golden_mismatches(qat_trace, golden, manifest)
    lap("golden")

    dense_weights = sum(a * b for a, b in pairwise(sizes))
    summary: dict[str, Any] = {
        "dataset": dataset.name,
        "n_test": len(stimulus.labels),
        "network": list(sizes),
        "exported_neurons": [layer.n_out for layer in manifest.layers],
        "time_steps": net_config.time_steps,
        "weight_bits": net_config.weight_bits,
        "accuracy_qat": _accuracy(qat_predictions, stimulus.labels),
        "accuracy_golden": _accuracy(golden.predictions, stimulus.labels),
        "qat_golden_mismatches": qat_golden_mismatches,
        "pruning_rate": round(1 - synapses / dense_weights, 4),
        "nonzero_weights": synapses,
        "structure": trained.structure.report(),
        "lanes": manifest.lanes,
        "layouts": [layer.layout for layer in manifest.layers],
        "memory_bits": sum(layer.layout_bits[layer.layout] for layer in manifest.layers),
        "synaptic_ops_per_inference": float(golden.synaptic_ops.mean()),
        "rom_reads_per_inference": float((golden.costs.ptr_reads + golden.costs.wrom_reads).mean()),
        "model_cycles_per_inference": float(golden.cycles.mean()),
        "bound_cycles_per_inference": float(golden.costs.bound.mean()),
        "cycles_vs_bound": round(float(golden.cycles.mean() / golden.costs.bound.mean()), 4),
    }
    if config.rtl:
        from sdsnn_hw.rtl import simulate

        report = simulate(
            export_dir, stimulus_path, work / "rtl", config.rtl_samples, progress, log,
            config.simulator,
        )  # fmt: skip
        labels = stimulus.labels[: report.samples]
        summary.update(
            {
                "rtl_simulator": config.simulator,
                "rtl_samples": report.samples,
                "accuracy_rtl": _accuracy(np.asarray(report.predictions), labels),
                "rtl_mismatches": len(report.mismatched_samples),
                "rtl_hang": report.hang,
                "rtl_predictions_match_golden": report.predictions
                == golden.predictions[: report.samples].tolist(),
                "rtl_cycles_per_inference": float(np.mean(report.cycles)),
                "rtl_cycles_vs_bound": round(
                    float(np.mean(report.cycles) / golden.costs.bound[: report.samples].mean()), 4
                ),
                "rtl_counters_match_golden": report.counters_match_golden,
            }
        )
        lap("rtl")
    summary["seconds"] = seconds
    atomic_write_text(work / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def layout_table(manifest: Manifest) -> str:
    """Memory bits of every candidate layout per layer, the kept one marked."""
    names = list(manifest.layers[0].layout_bits)
    rows = [f"{'layer':<6}" + "".join(f"{name:>14}" for name in names) + "  kept"]
    for layer in manifest.layers:
        sizes = "".join(f"{layer.layout_bits[name]:>14,}" for name in names)
        rows.append(f"{layer.name:<6}{sizes}  {layer.layout}")
    return "\n".join(rows)


def _save_checkpoint(path: Path, model: SpikingMLP, config: RunConfig, classes: int) -> None:
    buffer = io.BytesIO()
    torch.save(
        {
            "model": model.state_dict(),
            "network": asdict(model.config),
            "classes": classes,
            "run_config": json.dumps(asdict(config), default=str),
        },
        buffer,
    )
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: Path) -> tuple[SpikingMLP, int]:
    """Rebuild the trained model and its class count from ``checkpoint.pt``.

    Raises:
        CheckpointError: in one line naming the file, if it is missing, not a PyTorch
            file, or not a checkpoint of this tool.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path}: not a PyTorch weights file (torch.save writes a zip archive, this is not one)"
        )
    try:
        saved = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises many kinds for a file that is not a checkpoint
        raise CheckpointError(f"{path}: not a PyTorch weights file ({_first_line(exc)})") from None
    try:
        network = NetworkConfig(**{**saved["network"], "sizes": tuple(saved["network"]["sizes"])})
        classes = saved["classes"]
        if not isinstance(classes, int) or classes != network.sizes[-1]:
            raise ValueError(f"field 'classes' must equal the output size {network.sizes[-1]}")
        for i, shape in enumerate(pairwise(network.sizes)):
            found = tuple(saved["model"][f"layers.{i}.weight"].shape)
            if found != shape[::-1]:
                raise ValueError(f"field 'model.layers.{i}.weight' has shape {found}")
        model = SpikingMLP(network)
        model.load_state_dict(saved["model"])
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise CheckpointError(f"{path}: not an sdsnn-hw checkpoint ({_first_line(exc)})") from None
    return model.eval(), classes


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    return round(float(np.mean(predictions == labels)), 4)


def _qat_golden_mismatches(trace: Trace, golden: GoldenResult, manifest: Manifest) -> int:
    """Samples where any kept neuron's spike or membrane differs between QAT and golden."""
    bad = np.zeros(len(golden.predictions), dtype=bool)
    for i, layer in enumerate(manifest.layers):
        kept = np.asarray(layer.neuron_index)
        qat_spikes = trace.spikes[i].numpy()[:, :, kept].astype(np.int64)
        qat_membranes = trace.membranes[i].numpy()[:, :, kept].astype(np.int64)
        bad |= np.any(qat_spikes != golden.spikes[i], axis=(1, 2))
        bad |= np.any(qat_membranes != golden.membranes[i], axis=(1, 2))
    return int(bad.sum())
