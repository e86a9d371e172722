"""The end-to-end flow behind ``sdsnn run``: train, export, golden, RTL, summary, report."""

from __future__ import annotations

import io
import json
import math
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sdsnn_hw.config import TrainSetup, network_config, parse
from sdsnn_hw.counters import CountAccumulator
from sdsnn_hw.data import dataset_shape, encode, load_dataset
from sdsnn_hw.energy import energy_summary
from sdsnn_hw.export import export_model
from sdsnn_hw.fileio import atomic_write_bytes, atomic_write_text
from sdsnn_hw.golden import GoldenNetwork, GoldenResult, concat_costs, run_in_chunks
from sdsnn_hw.layouts import AUTO, DEFAULT_LANES
from sdsnn_hw.manifest import LayerSpec, Manifest
from sdsnn_hw.microarch import Costs
from sdsnn_hw.model import NetworkConfig, SpikingNetwork, Trace
from sdsnn_hw.netspec import LayerShape, fc_spec, resolve
from sdsnn_hw.outdir import output_folder
from sdsnn_hw.report import write_metrics, write_report
from sdsnn_hw.stimulus import Stimulus, save_stimulus
from sdsnn_hw.structure import apply_masks
from sdsnn_hw.train import evaluate, train
from sdsnn_hw.trainer import integer_weights


class CheckpointError(ValueError):
    """A checkpoint file is missing or is not one this tool wrote."""


@dataclass(frozen=True)
class RunConfig(TrainSetup):
    """Everything one ``sdsnn run`` depends on: the training configuration (the fields
    of :class:`sdsnn_hw.config.TrainSetup`, by default the ``fast-digits`` preset) and
    the hardware stages.

    Attributes:
        rtl: run the RTL simulation stage.
        rtl_samples: simulate only the first N test samples (0 = all).
        simulator: HDL simulator of the RTL stage, ``verilator`` or ``icarus``.
        lanes: P, the synapse lanes of the core the export is laid out for.
        layout: weight memory layout of every layer, or ``auto`` (chosen per layer).
        checkpoint: start from this ``sdsnn train`` checkpoint (``last.pt``) instead of
            training; its network must be the configuration's.
    """

    rtl: bool = True
    rtl_samples: int = 0
    simulator: str = "verilator"
    lanes: int = DEFAULT_LANES
    layout: str = AUTO
    checkpoint: Path | None = None


def network_layers(config: RunConfig) -> tuple[str, tuple[LayerShape, ...]]:
    """The run's network spec and layers on its data set's inputs.

    Raises:
        NetSpecError: naming the token of ``config.net`` that cannot be parsed or does
            not fit the data set (its input shape, its classes).
        DataError: for an unknown data set.
    """
    input_shape, classes = dataset_shape(config.dataset)
    spec = config.net or fc_spec((*config.hidden, classes))
    return spec, resolve(spec, input_shape, classes)


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
    spec, layers = network_layers(config)
    net_config = network_config(config)
    torch.manual_seed(config.training.seed)
    model = SpikingNetwork(net_config)
    log(
        f"train: {dataset.name}, {len(dataset.x_train)} samples, network {spec} on "
        f"{'x'.join(map(str, dataset.input_shape))} {net_config.sizes}, "
        f"{net_config.weight_bits}-bit weights, T={net_config.time_steps}"
        + (f", {net_config.bias_bits}-bit biases" if net_config.biases else "")
    )
    if config.checkpoint is None:
        result = train(
            dataset, model, config.training, config.structure, progress, config.stimulus_seed
        )
        metrics = result.metrics
        structure = result.structure.report(integer_weights(model))
    else:
        model, metrics, structure = _trained_checkpoint(config.checkpoint, model.config)
        log(f"train: skipped, the weights of {config.checkpoint} ({len(metrics)} epochs)")
    stimulus = Stimulus(
        encode(
            dataset.x_test, net_config.time_steps, config.stimulus_seed, config.training.encoding
        ),
        dataset.y_test,
    )
    _save_checkpoint(work / "checkpoint.pt", model, config, dataset.n_classes)
    lap("train")

    export_dir = work / "export"
    manifest = export_model(
        export_dir, model, dataset.n_classes, config.lanes, config.layout,
        source=work / "checkpoint.pt",
    )  # fmt: skip
    stimulus_path = work / "stimulus" / "test.npz"
    save_stimulus(stimulus_path, stimulus)
    synapses = sum(layer.nnz for layer in manifest.layers)
    log(
        f"export: {out / 'export'}: neurons {[layer.n_out for layer in manifest.layers]}, "
        f"{synapses} synapses, {manifest.lanes} lanes"
    )
    log(layout_table(manifest))
    lap("export")

    log(f"golden: {len(stimulus.labels)} test samples from the exported files, against QAT")
    golden_net = GoldenNetwork.from_export(export_dir)
    counter = CountAccumulator(golden_net, manifest)
    checked = _golden_against_qat(golden_net, model, stimulus.spikes, manifest, progress, counter)
    lap("golden")

    dense_weights = sum(math.prod(layer.weight_shape) for layer in layers)
    # the paper's rate (masked / all synapses of the pruned layers) beside the hardware's
    memory_bits = [_memory_bits(layer) for layer in manifest.layers]
    costs = checked.costs
    summary: dict[str, Any] = {
        "dataset": dataset.name,
        "n_test": len(stimulus.labels),
        "net": spec,
        "network": list(net_config.sizes),
        "exported_neurons": [layer.n_out for layer in manifest.layers],
        "time_steps": net_config.time_steps,
        "encoding": config.training.encoding,
        "weight_bits": net_config.weight_bits,
        "bias_bits": net_config.bias_bits if net_config.biases else 0,
        "accuracy_qat": _accuracy(checked.qat_predictions, stimulus.labels),
        "accuracy_golden": _accuracy(checked.predictions, stimulus.labels),
        "qat_golden_mismatches": checked.mismatches,
        "pruning_rate": round(1 - synapses / dense_weights, 4),
        "paper_pruning_rate": structure["paper_pruning_rate"],
        "nonzero_weights": synapses,
        "structure": structure,
        "lanes": manifest.lanes,
        "layouts": [layer.layout for layer in manifest.layers],
        "memory_bits": sum(memory_bits),
        "memory_bits_per_layer": memory_bits,
        "synaptic_ops_per_inference": float(costs.synops.mean()),
        "rom_reads_per_inference": float((costs.ptr_reads + costs.wrom_reads).mean()),
        "model_cycles_per_inference": float(costs.cycles.mean()),
        "bound_cycles_per_inference": float(costs.bound.mean()),
        "cycles_vs_bound": round(float(costs.cycles.mean() / costs.bound.mean()), 4),
        "energy_uj_per_inference": energy_summary(counter.counts()),
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
                == checked.predictions[: report.samples].tolist(),
                "rtl_cycles_per_inference": float(np.mean(report.cycles)),
                "rtl_cycles_vs_bound": round(
                    float(np.mean(report.cycles) / costs.bound[: report.samples].mean()), 4
                ),
                "rtl_counters_match_golden": report.counters_match_golden,
            }
        )
        lap("rtl")
    summary["seconds"] = seconds
    atomic_write_text(work / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_metrics(work, metrics)
    written = write_report(work, title=str(out))
    log(f"report: {out / written.html.name}, {out / written.markdown.name}")
    return summary


@dataclass(frozen=True)
class _Checked:
    """Golden predictions and costs of every test sample, QAT's predictions, and the
    samples where QAT and golden differ in any spike or membrane."""

    predictions: np.ndarray
    qat_predictions: np.ndarray
    costs: Costs
    mismatches: int


def _golden_against_qat(
    net: GoldenNetwork,
    model: SpikingNetwork,
    spikes: np.ndarray,
    manifest: Manifest,
    progress: bool,
    counter: CountAccumulator,
) -> _Checked:
    """Golden and QAT on the same samples, chunk by chunk: a conv network's traces of a
    whole test split would not fit in memory. ``counter`` counts each chunk per layer."""
    predictions, qat_predictions, costs, mismatches = [], [], [], 0
    for part, golden in run_in_chunks(net, spikes, progress):
        counter.add(spikes[part], golden)
        qat, trace = evaluate(model, spikes[part])
        mismatches += _qat_golden_mismatches(trace, golden, manifest)
        predictions.append(golden.predictions)
        qat_predictions.append(qat)
        costs.append(golden.costs)
    return _Checked(
        np.concatenate(predictions),
        np.concatenate(qat_predictions),
        concat_costs(costs),
        mismatches,
    )


def _memory_bits(layer: LayerSpec) -> int:
    """ROM bits of a layer: pointer and weight memory in its layout, and its biases."""
    bias = layer.bias.depth * layer.bias.width if layer.bias is not None else 0
    return layer.layout_bits[layer.layout] + bias


def layout_table(manifest: Manifest) -> str:
    """Memory bits of every candidate layout per layer, the kept one marked."""
    rows = [f"{'layer':<6}{'kind':<6}{'candidate layouts (bits)':<50}kept"]
    for layer in manifest.layers:
        sizes = "  ".join(f"{name} {bits:,}" for name, bits in layer.layout_bits.items())
        rows.append(f"{layer.name:<6}{layer.kind:<6}{sizes:<50}{layer.layout}")
    return "\n".join(rows)


def _save_checkpoint(path: Path, model: SpikingNetwork, config: RunConfig, classes: int) -> None:
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


def load_checkpoint(path: Path) -> tuple[SpikingNetwork, int]:
    """Rebuild the trained model and its class count from ``checkpoint.pt``.

    Raises:
        CheckpointError: in one line naming the file, if it is missing, not a PyTorch
            file, or not a checkpoint of this tool.
    """
    path = Path(path)
    return _model_from(path, _read_saved(path))


def _read_saved(path: Path) -> dict[str, Any]:
    """The dictionary ``torch.save`` wrote to ``path`` (weights only)."""
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
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path}: not an sdsnn-hw checkpoint (not a dictionary)")
    return saved


def _model_from(path: Path, saved: dict[str, Any]) -> tuple[SpikingNetwork, int]:
    """The masked model and class count of ``saved``, read from ``path``."""
    try:
        fields = dict(saved["network"])
        for key in ("sizes", "input_shape"):  # tuples may come back as lists
            fields[key] = tuple(fields.get(key, ()))
        network = NetworkConfig(**fields)
        classes = saved["classes"]
        if not isinstance(classes, int) or classes != network.sizes[-1]:
            raise ValueError(f"field 'classes' must equal the output size {network.sizes[-1]}")
        model = SpikingNetwork(network)
        state = saved["model"]
        for key, tensor in model.state_dict().items():
            found = tuple(state[key].shape)
            if found != tuple(tensor.shape):
                raise ValueError(
                    f"field 'model.{key}' has shape {found}, the network needs "
                    f"{tuple(tensor.shape)}"
                )
        model.load_state_dict(state)
        _apply_saved_masks(model, saved.get("structure"))
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise CheckpointError(f"{path}: not an sdsnn-hw checkpoint ({_first_line(exc)})") from None
    return model.eval(), classes


# what a training checkpoint's last metrics record says of the structure (see
# StructureDevelopment.report; the record's "pruning_rate" is its masked fraction)
_STRUCTURE_KEYS = (
    "pruned_neurons",
    "regrown_synapses",
    "prune_rate_percent",
    "paper_pruning_rate",
    "regrown_unmasked",
    "regrown_exported",
    "revived_neurons",
)


def checkpoint_setup(path: Path) -> TrainSetup:
    """The configuration a ``sdsnn train`` checkpoint was trained with.

    Raises:
        CheckpointError: naming the file, if it is not one or holds no configuration.
        ConfigError: naming the file's field ``config`` and the key that is not valid.
    """
    path = Path(path)
    saved = _read_saved(path)
    _model_from(path, saved)  # the weights' own checks, in their words
    text = saved.get("config")
    if not isinstance(text, str):
        raise CheckpointError(
            f"{path}: field 'config' is missing: not a checkpoint of `sdsnn train` "
            "(export `sdsnn run` checkpoints with `sdsnn export`)"
        )
    return parse(text, f"{path}: field 'config'")


def _trained_checkpoint(
    path: Path, expected: NetworkConfig
) -> tuple[SpikingNetwork, list[dict[str, Any]], dict[str, Any]]:
    """The masked model of a ``sdsnn train`` checkpoint, its metrics and structure report.

    Raises:
        CheckpointError: naming the file, if it is not a training checkpoint or its
            network is not ``expected``.
    """
    saved = _read_saved(path)
    model, _ = _model_from(path, saved)
    metrics = saved.get("metrics")
    if not metrics:
        raise CheckpointError(
            f"{path}: field 'metrics' is missing or empty: not a checkpoint of `sdsnn train` "
            "after its first epoch (export `sdsnn run` checkpoints with `sdsnn export`)"
        )
    differ = [
        name
        for name in ("sizes", "input_shape", "net", "time_steps", "weight_bits", "biases")
        if getattr(model.config, name) != getattr(expected, name)
    ]
    if differ:
        found = ", ".join(f"{n} {getattr(model.config, n)!r}" for n in differ)
        wanted = ", ".join(f"{n} {getattr(expected, n)!r}" for n in differ)
        raise CheckpointError(f"{path}: field 'network' has {found}; the configuration {wanted}")
    last = metrics[-1]
    structure = {key: last[key] for key in _STRUCTURE_KEYS if key in last}
    structure["masked_fraction"] = [round(v, 4) for v in last["pruning_rate"]]
    return model, list(metrics), structure


def _apply_saved_masks(model: SpikingNetwork, structure: dict[str, Any] | None) -> None:
    """A training checkpoint (``sdsnn train``'s ``last.pt``) holds the weights as they
    train, masked ones drifting since the last structure step: export ``W * M``."""
    layers = None if structure is None else structure.get("layers")
    if layers is None:  # `sdsnn run` checkpoints are masked already; or no step ran yet
        return
    weights = [layer.weight for layer in model.layers]
    if len(layers) != len(weights):
        raise ValueError(f"field 'structure.layers' has {len(layers)} layers, not {len(weights)}")
    masks = [state["mask"] for state in layers]
    for i, (mask, weight) in enumerate(zip(masks, weights, strict=True)):
        if tuple(mask.shape) != tuple(weight.shape):
            raise ValueError(
                f"field 'structure.layers[{i}].mask' has shape {tuple(mask.shape)}, "
                f"the weights {tuple(weight.shape)}"
            )
    apply_masks(weights, masks, [layer.bias for layer in model.layers])


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
