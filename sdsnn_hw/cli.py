"""Command line: ``sdsnn run`` (the whole flow), ``sdsnn train``, ``presets``, ``export``,
``golden``, ``rtl`` and ``report``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sdsnn_hw.config import DATASET_PRESETS, DEFAULT_PRESET, ConfigError, TrainSetup
from sdsnn_hw.data import DATASETS, DataError
from sdsnn_hw.layouts import ALL_LAYOUTS, AUTO, DEFAULT_LANES, LANE_CHOICES
from sdsnn_hw.manifest import FORMATS, ManifestError
from sdsnn_hw.model import BIAS_BITS_RANGE
from sdsnn_hw.netspec import CONV, NetSpecError
from sdsnn_hw.outdir import OutputFolderError, check_output_folder
from sdsnn_hw.rtl import SIMULATORS
from sdsnn_hw.stimulus import StimulusError
from sdsnn_hw.synth import DEFAULT_TIMEOUT_S, ROUTERS, TARGETS, SynthError
from sdsnn_hw.train import DEVICES

EXIT_DISAGREE = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_CODES = """exit codes:
  0  success
  1  the hardware simulation and the golden model disagree (or QAT and golden do)
  2  bad input or missing tool: one line on stderr names the file and field
  3  internal error (a bug in sdsnn-hw: the traceback is printed)"""


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit code 2."""


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text}")
        return value

    return parse


_positive_int = _int_at_least(1)
_count = _int_at_least(0)


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated sizes, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be >= 1, got {text!r}")
    return sizes


def _formats(text: str) -> tuple[str, ...]:
    from sdsnn_hw.export import export_formats

    try:
        return export_formats(part.strip() for part in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdsnn",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    force_help = "replace an output folder sdsnn did not write (it is moved aside, not deleted)"

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = command("run", "train, export, run golden and RTL, summarise")
    run.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder")
    dataset_presets = ", ".join(f"{v} for --dataset {k}" for k, v in DATASET_PRESETS.items())
    add_config_options(
        run, f"training configuration (default: preset {DEFAULT_PRESET}; {dataset_presets})"
    )
    run.add_argument("--dataset", choices=DATASETS, help="default: the configuration's")
    run.add_argument("--data-dir", type=Path, help="folder holding the data set files")
    shape = run.add_mutually_exclusive_group()
    shape.add_argument(
        "--net",
        metavar="SPEC",
        help="network in the paper's notation, e.g. 15C3-AP2-40C3-AP2-FC300-FC10: "
        "<channels>C<kernel> convolution ('same' padding, stride 1), AP<k> average pooling, "
        "FC<n> fully connected; the last is FC<classes> (default: FC128-FC<classes>)",
    )
    shape.add_argument(
        "--hidden",
        type=_sizes,
        help="hidden fully connected sizes, e.g. 128,64: the same as --net FC128-FC64-FC10",
    )
    run.add_argument("--epochs", type=_positive_int, help="default: the preset's")
    run.add_argument("--time-steps", type=_positive_int, help="default: the preset's")
    run.add_argument("--weight-bits", type=int, choices=range(2, 9), metavar="{2..8}")
    run.add_argument(
        "--bias-bits",
        type=int,
        choices=range(BIAS_BITS_RANGE[0], BIAS_BITS_RANGE[1] + 1),
        metavar=f"{{{BIAS_BITS_RANGE[0]}..{BIAS_BITS_RANGE[1]}}}",
        help="bias width of networks with a convolution (their layers all have biases)",
    )
    run.add_argument("--seed", type=int)
    run.add_argument(
        "--rtl-samples",
        type=_count,
        default=0,
        help="simulate only the first N test samples in RTL (0 = all)",
    )
    run.add_argument("--no-rtl", action="store_true", help="skip the RTL simulation stage")
    run.add_argument(
        "--checkpoint",
        type=Path,
        help="skip training: take the weights and configuration of this `sdsnn train` "
        "checkpoint (last.pt), e.g. one trained on a GPU machine",
    )
    run.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    add_hardware_options(run)
    run.add_argument("--force", action="store_true", help=force_help)

    train = command(
        "train", "train a network from a preset or configuration file, with checkpoints"
    )
    add_config_options(train, "training configuration (required unless --resume finds one)")
    train.add_argument("--dataset", choices=DATASETS)
    train.add_argument("--data-dir", type=Path, help="folder holding the data set files")
    train.add_argument("--net", metavar="SPEC", help="network in the paper's notation")
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--device", choices=DEVICES)
    train.add_argument("--out", type=Path, required=True, help="output folder")
    train.add_argument(
        "--resume", action="store_true", help="continue from OUT/last.pt where there is one"
    )
    train.add_argument(
        "--nproc", type=_positive_int, default=1, help="training processes (torchrun, gloo/NCCL)"
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    presets = command("presets", "list the shipped training presets, or print one")
    presets.add_argument("--show", metavar="NAME", help="print preset NAME (a file to copy)")

    export = command("export", "export a checkpoint written by `sdsnn run` or `sdsnn train`")
    export.add_argument("checkpoint", type=Path, help="checkpoint.pt")
    export.add_argument("out", type=Path, help="export folder (an earlier export is replaced)")
    add_hardware_options(export)
    export.add_argument(
        "--formats",
        type=_formats,
        default=FORMATS,
        help=f"comma-separated, of {','.join(FORMATS)} (default: all; mem is always written)",
    )
    export.add_argument("--force", action="store_true", help=force_help)

    verify = command(
        "verify",
        "check an export: checksums, widths, depths, derived fields, every format against "
        "its .mem, ONNX and NIR against the golden model, the golden model on the test split; "
        "exit 1 if intact files disagree, 2 if a file is missing, corrupted or malformed",
    )
    verify.add_argument("export", type=Path, help="export folder (holds manifest.json)")
    verify.add_argument(
        "--dataset", choices=DATASETS, help="test split to run (default: the manifest's config)"
    )
    verify.add_argument("--data-dir", type=Path, help="folder holding the data set files")

    golden = command("golden", "run the golden model on an export")
    golden.add_argument("export", type=Path, help="export folder (holds manifest.json)")
    golden.add_argument("stimulus", type=Path, help="stimulus .npz file")

    rtl = command("rtl", "simulate an export in RTL against golden")
    rtl.add_argument("export", type=Path, help="export folder (holds manifest.json)")
    rtl.add_argument("stimulus", type=Path, help="stimulus .npz file")
    rtl.add_argument("--work", type=Path, default=Path("rtl_work"), help="log/report folder")
    rtl.add_argument("--samples", type=_count, default=0, help="first N samples only (0 = all)")
    rtl.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    rtl.add_argument("--force", action="store_true", help=force_help)

    synth = command(
        "synth", "synthesize an export's network top (Yosys; nextpnr place and route on ECP5)"
    )
    synth.add_argument("export", type=Path, help="export folder (holds manifest.json)")
    synth.add_argument("--out", type=Path, required=True, help="synthesis folder to write")
    synth.add_argument("--target", choices=TARGETS, default="ecp5")
    synth.add_argument(
        "--lanes", type=int, choices=LANE_CHOICES, help="lay the weights out for P lanes first"
    )
    synth.add_argument("--freq", type=float, default=100.0, help="clock target in MHz")
    synth.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="limit for each tool run in seconds (large conv networks place for hours)",
    )
    synth.add_argument(
        "--router",
        choices=ROUTERS,
        default="router1",
        help="nextpnr router (router2 is faster on large, congested designs)",
    )
    synth.add_argument(
        "--stimulus",
        type=Path,
        help="inputs whose cycles give latency_us (default: ../stimulus/test.npz of a run)",
    )
    synth.add_argument("--force", action="store_true", help=force_help)

    report = command(
        "report",
        "write report.html (self-contained) and report.md into a run folder from what it holds; "
        "energy figures are a model, not a measurement",
    )
    report.add_argument("run_dir", type=Path, help="folder written by `sdsnn run` (or part of one)")
    report.add_argument("--asic-table", type=Path, metavar="FILE", help="ASIC energy table (TOML)")
    report.add_argument("--fpga-table", type=Path, metavar="FILE", help="FPGA energy table (TOML)")

    hls = command("hls-csim", "run an export in the HLS core's C simulation against golden")
    hls.add_argument("export", type=Path, help="export folder (holds manifest.json)")
    hls.add_argument("--out", type=Path, required=True, help="output folder to write")
    hls_inputs = hls.add_mutually_exclusive_group()
    hls_inputs.add_argument(
        "--dataset", choices=DATASETS, help="test split to run (default: the manifest's config)"
    )
    hls_inputs.add_argument("--stimulus", type=Path, help="stimulus .npz file instead")
    hls.add_argument("--data-dir", type=Path, help="folder holding the data set files")
    hls.add_argument("--samples", type=_count, default=0, help="first N samples only (0 = all)")
    hls.add_argument("--quiet", action="store_true", help="no progress bar")
    hls.add_argument("--force", action="store_true", help=force_help)

    fuzz = command("fuzz", "random networks through the RTL against the golden model")
    fuzz.add_argument("--cases", type=_positive_int, default=200)
    fuzz.add_argument("--seed", type=_count, default=0, help="first case seed")
    fuzz.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    fuzz.add_argument("--jobs", type=_positive_int, default=2, help="case batches run at once")
    fuzz.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def add_config_options(parser: argparse.ArgumentParser, what: str) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--preset", metavar="NAME", help=f"{what}: a preset (`sdsnn presets`)")
    source.add_argument("--config", type=Path, metavar="FILE", help=f"{what}: a TOML file")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one key, e.g. --set optimizer.learning_rate=0.001 (repeatable)",
    )


def add_hardware_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lanes",
        type=int,
        choices=LANE_CHOICES,
        default=DEFAULT_LANES,
        help="synapse lanes P of the core the memories are laid out for",
    )
    parser.add_argument(
        "--layout",
        choices=(AUTO, *ALL_LAYOUTS),
        default=AUTO,
        help="weight memory layout of every layer of its kind (auto: per layer the smallest "
        "of those within 10%% of the fewest cycles; layers of the other kind choose so)",
    )


def _check_output(folder: Path, kind: str, force: bool) -> None:
    """Refuse, before any work, an output folder that could not be written or replaced."""
    check_output_folder(folder, kind, force)
    parent = folder.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"output folder {folder} is not writable: {parent} is not writable")


def _command_run(args: argparse.Namespace) -> int:
    from sdsnn_hw.config import default_preset, network_config
    from sdsnn_hw.pipeline import RunConfig, network_layers, run
    from sdsnn_hw.training_cli import setup_from_args

    overrides = {
        "neuron.time_steps": args.time_steps,
        "quantization.weight_bits": args.weight_bits,
        "quantization.bias_bits": args.bias_bits,
        "seed": args.seed,
    }
    if args.hidden is not None:
        overrides |= {"network.hidden": list(args.hidden), "network.net": ""}
    if args.checkpoint is None:
        setup = setup_from_args(args, overrides, default_preset(args.dataset))
    else:
        setup = _checkpoint_setup(args, overrides)
    config = RunConfig(
        **{name: getattr(setup, name) for name in setup.__dataclass_fields__},
        rtl=not args.no_rtl,
        rtl_samples=args.rtl_samples,
        simulator=args.simulator,
        lanes=args.lanes,
        layout=args.layout,
        checkpoint=args.checkpoint,
    )
    _, layers = network_layers(config)  # a bad --net token stops here, before any work
    network_config(config, "--net")  # and number formats that cannot train exactly
    _check_output(args.out, "run", args.force)
    if not args.no_rtl and all(layer.kind != CONV for layer in layers):
        from sdsnn_hw.rtl import find_simulator

        find_simulator(args.simulator)
    summary = run(config, args.out, progress=not args.quiet, force=args.force)
    print_summary(summary)
    print(f"summary written to {args.out / 'summary.json'}")
    failed = (
        summary["qat_golden_mismatches"]
        or summary.get("rtl_mismatches", 0)
        or summary.get("rtl_hang")
        or not summary.get("rtl_counters_match_golden", True)
    )
    return EXIT_DISAGREE if failed else 0


ENERGY_KEY = "energy_uj_per_inference"  # printed as its totals, not as a dict


def print_summary(summary: dict) -> None:
    energy = summary.get(ENERGY_KEY, {})
    rows = [(key, value) for key, value in summary.items() if key not in ("seconds", ENERGY_KEY)]
    rows += [
        (f"{ENERGY_KEY}.{kind}.{network}", energy[kind][network]["total"])
        for kind in ("asic", "fpga")
        if kind in energy
        for network in ("sdsnn", "dense_snn", "ann")
    ]
    rows += [(f"seconds.{stage}", value) for stage, value in summary["seconds"].items()]
    width = max(len(key) for key, _ in rows)
    print("-" * (width + 24))
    for key, value in rows:
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
    print("-" * (width + 24))


def _command_export(args: argparse.Namespace) -> int:
    from sdsnn_hw.export import export_model
    from sdsnn_hw.pipeline import layout_table, load_checkpoint

    _check_output(args.out, "export", args.force)
    model, classes = load_checkpoint(args.checkpoint)
    manifest = export_model(
        args.out, model, classes, args.lanes, args.layout, args.force, args.formats,
        source=args.checkpoint,
    )  # fmt: skip
    print(layout_table(manifest))
    print(f"exported {len(manifest.layers)} layers for {manifest.lanes} lanes to {args.out}")
    return 0


def _checkpoint_setup(args: argparse.Namespace, overrides: dict[str, Any]) -> TrainSetup:
    """The configuration a ``sdsnn train`` checkpoint was trained with; only the data
    folder may change (the weights fix everything else)."""
    from sdsnn_hw.config import apply
    from sdsnn_hw.pipeline import checkpoint_setup
    from sdsnn_hw.training_cli import overrides_from_args

    given = {k: v for k, v in (overrides | overrides_from_args(args)).items() if v is not None}
    given.pop("data.data_dir", None)
    if args.hidden is not None:
        given["network.hidden"] = args.hidden
    if args.preset or args.config or given:
        names = ["--preset"] * bool(args.preset) + ["--config"] * bool(args.config)
        raise ConfigError(
            f"--checkpoint {args.checkpoint}: the configuration is the checkpoint's, so "
            f"{', '.join(names + sorted(given))} cannot be given with it"
        )
    setup = checkpoint_setup(args.checkpoint)
    if args.data_dir is not None:
        setup = apply(setup, {"data.data_dir": str(args.data_dir)}, "--data-dir")
    return setup


def _command_verify(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from sdsnn_hw.verify import verify

    report = verify(args.export, args.dataset, args.data_dir)
    print(json.dumps({**asdict(report), "agrees": report.agrees}, indent=2))
    return 0 if report.agrees else EXIT_DISAGREE


def _command_golden(args: argparse.Namespace) -> int:
    import numpy as np

    from sdsnn_hw.golden import GoldenNetwork, run_in_chunks
    from sdsnn_hw.stimulus import load_stimulus

    net = GoldenNetwork.from_export(args.export)
    stimulus = load_stimulus(args.stimulus, net.inputs, net.time_steps, net.classes)
    predictions, synops, cycles = [], [], []
    for _, result in run_in_chunks(net, stimulus.spikes):  # a conv net's traces are large
        predictions.append(result.predictions)
        synops.append(result.synaptic_ops)
        cycles.append(result.cycles)
    print(
        json.dumps(
            {
                "samples": len(stimulus.labels),
                "accuracy": float(np.mean(np.concatenate(predictions) == stimulus.labels)),
                "synaptic_ops_per_inference": float(np.concatenate(synops).mean()),
                "cycles_per_inference": float(np.concatenate(cycles).mean()),
            },
            indent=2,
        )
    )
    return 0


def _command_rtl(args: argparse.Namespace) -> int:
    from sdsnn_hw.rtl import simulate

    _check_output(args.work, "rtl", args.force)
    report = simulate(
        args.export, args.stimulus, args.work, args.samples, simulator=args.simulator,
        force=args.force,
    )  # fmt: skip
    print(
        json.dumps(
            {
                "samples": report.samples,
                "rtl_mismatches": len(report.mismatched_samples),
                "first_mismatch": report.first_mismatch,
                "hang": report.hang,
                "cycles_per_inference": sum(report.cycles) / report.samples,
                "counters_match_golden": report.counters_match_golden,
                "log": str(report.log_file),
            },
            indent=2,
        )
    )
    return 0 if report.agrees else EXIT_DISAGREE


def _command_synth(args: argparse.Namespace) -> int:
    from sdsnn_hw.synth_export import SynthConfig, synth_export

    _check_output(args.out, "synth", args.force)
    stimulus = args.stimulus
    beside = args.export.parent / "stimulus" / "test.npz"
    if stimulus is None and beside.is_file():
        stimulus = beside
    config = SynthConfig(args.target, args.lanes, args.freq, stimulus, args.timeout, args.router)
    summary = synth_export(args.export, args.out, config, force=args.force)
    print(json.dumps({k: v for k, v in summary.items() if k != "memories"}, indent=2))
    print(f"summary written to {args.out / 'summary.json'}")
    return 0


def _command_report(args: argparse.Namespace) -> int:
    from sdsnn_hw.energy_table import BUILTIN, load_table
    from sdsnn_hw.outdir import add_files, check_files_replaceable
    from sdsnn_hw.report import HTML_NAME, MARKDOWN_NAME, write_report

    if not args.run_dir.is_dir():
        raise UsageError(f"{args.run_dir}: not a folder")
    check_files_replaceable(args.run_dir, "run", [HTML_NAME, MARKDOWN_NAME])
    paths = {"asic": args.asic_table or BUILTIN["asic"], "fpga": args.fpga_table or BUILTIN["fpga"]}
    tables = {kind: load_table(path) for kind, path in paths.items()}
    written = write_report(args.run_dir, tables=tables)
    names = [written.html.name, written.markdown.name]
    if add_files(args.run_dir, "run", names):
        print(f"{args.run_dir}: its output marker now lists {', '.join(names)}")
    print(f"report written to {written.html} and {written.markdown}")
    return 0


def _command_hls_csim(args: argparse.Namespace) -> int:
    from sdsnn_hw.hls_flow import HlsRunConfig, hls_csim

    _check_output(args.out, "hls", args.force)
    config = HlsRunConfig(
        args.export, args.out, args.dataset, args.data_dir, args.stimulus, args.samples, args.force
    )
    summary = hls_csim(config, progress=not args.quiet)
    print(json.dumps({k: v for k, v in summary.items() if k != "per_inference"}, indent=2))
    print(f"summary written to {args.out / 'summary.json'}")
    agrees = not summary["hls_mismatches"] and summary["counters_match_golden"]
    return 0 if agrees else EXIT_DISAGREE


def _command_fuzz(args: argparse.Namespace) -> int:
    from sdsnn_hw.fuzz import fuzz
    from sdsnn_hw.rtl import find_simulator

    find_simulator(args.simulator)
    report = fuzz(args.cases, args.seed, args.simulator, args.jobs, progress=not args.quiet)
    print(
        json.dumps(
            {
                "cases": report.cases,
                "failures": len(report.failures),
                "coverage": dict(sorted(report.coverage.items())),
                "first_failures": report.failures[:5],
            },
            indent=2,
        )
    )
    return EXIT_DISAGREE if report.failures else 0


def _command_train(args: argparse.Namespace) -> int:
    from sdsnn_hw.training_cli import train_command

    return train_command(args)


def _command_presets(args: argparse.Namespace) -> int:
    from sdsnn_hw.config import preset_names, preset_summary, preset_text

    if args.show:
        print(preset_text(args.show), end="")
        return 0
    width = max(map(len, preset_names())) + 2
    for name in preset_names():
        print(f"{name:<{width}}{preset_summary(name).partition(': ')[2]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from sdsnn_hw.pipeline import CheckpointError
    from sdsnn_hw.rtl import ToolError
    from sdsnn_hw.train_state import TrainStateError
    from sdsnn_hw.trainer import TrainingError

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.argv = argv
    commands = {
        "run": _command_run,
        "train": _command_train,
        "presets": _command_presets,
        "export": _command_export,
        "verify": _command_verify,
        "golden": _command_golden,
        "rtl": _command_rtl,
        "synth": _command_synth,
        "fuzz": _command_fuzz,
        "hls-csim": _command_hls_csim,
        "report": _command_report,
    }
    try:
        return commands[args.command](args)
    except (
        UsageError,
        DataError,
        ManifestError,
        StimulusError,
        ToolError,
        CheckpointError,
        OutputFolderError,
        SynthError,
        NetSpecError,
        ConfigError,
        TrainStateError,
        TrainingError,
    ) as exc:
        print(f"sdsnn: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a file system refusal (permissions, full disk) is bad input too
        print(f"sdsnn: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        traceback.print_exc()
        print("sdsnn: internal error (a bug in sdsnn-hw), please report it", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
