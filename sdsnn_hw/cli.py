"""Command line: ``sdsnn run`` (the whole flow), ``sdsnn golden`` and ``sdsnn rtl``."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from sdsnn_hw.data import DATASETS, DataError
from sdsnn_hw.manifest import ManifestError
from sdsnn_hw.model import NetworkConfig
from sdsnn_hw.rtl import SIMULATORS
from sdsnn_hw.stimulus import StimulusError
from sdsnn_hw.train import TrainConfig

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit code 2."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated sizes, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be >= 1, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    defaults_net, defaults_train = NetworkConfig(), TrainConfig()
    parser = argparse.ArgumentParser(prog="sdsnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="train, export, run golden and RTL, summarise")
    run.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder")
    run.add_argument("--dataset", choices=DATASETS, default="digits")
    run.add_argument("--data-dir", type=Path, help="folder holding the data set files")
    run.add_argument("--hidden", type=_sizes, default=(128,), help="hidden sizes, e.g. 128,64")
    run.add_argument("--epochs", type=_positive_int, default=defaults_train.epochs)
    run.add_argument("--time-steps", type=_positive_int, default=defaults_net.time_steps)
    run.add_argument(
        "--weight-bits",
        type=int,
        choices=range(2, 9),
        default=defaults_net.weight_bits,
        metavar="{2..8}",
    )
    run.add_argument("--seed", type=int, default=defaults_train.seed)
    run.add_argument(
        "--rtl-samples",
        type=int,
        default=0,
        help="simulate only the first N test samples in RTL (0 = all)",
    )
    run.add_argument("--no-rtl", action="store_true", help="skip the RTL simulation stage")
    run.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    run.add_argument("--quiet", action="store_true", help="no progress bars")

    export = sub.add_parser("export", help="export a checkpoint written by `sdsnn run`")
    export.add_argument("checkpoint", type=Path, help="checkpoint.pt")
    export.add_argument("out", type=Path, help="export folder to write (replaced)")

    golden = sub.add_parser("golden", help="run the golden model on an export")
    golden.add_argument("export", type=Path, help="export folder (holds manifest.json)")
    golden.add_argument("stimulus", type=Path, help="stimulus .npz file")

    rtl = sub.add_parser("rtl", help="simulate an export in RTL against golden")
    rtl.add_argument("export", type=Path, help="export folder (holds manifest.json)")
    rtl.add_argument("stimulus", type=Path, help="stimulus .npz file")
    rtl.add_argument("--work", type=Path, default=Path("rtl_work"), help="log/report folder")
    rtl.add_argument("--samples", type=int, default=0, help="first N samples only (0 = all)")
    rtl.add_argument("--simulator", choices=SIMULATORS, default="verilator")
    return parser


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"output folder {folder} is not writable: {exc.strerror}") from None


def _command_run(args: argparse.Namespace) -> int:
    from sdsnn_hw.pipeline import RunConfig, run

    _check_writable(args.out)
    if not args.no_rtl:
        from sdsnn_hw.rtl import find_simulator

        find_simulator(args.simulator)
    config = RunConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        hidden=args.hidden,
        network=NetworkConfig(time_steps=args.time_steps, weight_bits=args.weight_bits),
        training=TrainConfig(epochs=args.epochs, seed=args.seed),
        rtl=not args.no_rtl,
        rtl_samples=args.rtl_samples,
        simulator=args.simulator,
    )
    summary = run(config, args.out, progress=not args.quiet)
    print_summary(summary)
    print(f"summary written to {args.out / 'summary.json'}")
    failed = (
        summary["qat_golden_mismatches"]
        or summary.get("rtl_mismatches", 0)
        or not summary.get("rtl_counters_match_golden", True)
    )
    return 1 if failed else 0


def print_summary(summary: dict) -> None:
    rows = [(key, value) for key, value in summary.items() if key != "seconds"]
    rows += [(f"seconds.{stage}", value) for stage, value in summary["seconds"].items()]
    width = max(len(key) for key, _ in rows)
    print("-" * (width + 24))
    for key, value in rows:
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
    print("-" * (width + 24))


def _command_export(args: argparse.Namespace) -> int:
    from sdsnn_hw.export import export_model
    from sdsnn_hw.pipeline import load_checkpoint

    model, classes = load_checkpoint(args.checkpoint)
    _check_writable(args.out.parent)
    manifest = export_model(args.out, model, classes)
    print(f"exported {len(manifest.layers)} layers to {args.out}")
    return 0


def _command_golden(args: argparse.Namespace) -> int:
    import numpy as np

    from sdsnn_hw.golden import GoldenNetwork, run_network
    from sdsnn_hw.stimulus import load_stimulus

    stimulus = load_stimulus(args.stimulus)
    result = run_network(GoldenNetwork.from_export(args.export), stimulus.spikes)
    print(
        json.dumps(
            {
                "samples": len(stimulus.labels),
                "accuracy": float(np.mean(result.predictions == stimulus.labels)),
                "synaptic_ops_per_inference": float(result.synaptic_ops.mean()),
            },
            indent=2,
        )
    )
    return 0


def _command_rtl(args: argparse.Namespace) -> int:
    from sdsnn_hw.rtl import simulate

    report = simulate(args.export, args.stimulus, args.work, args.samples, simulator=args.simulator)
    print(
        json.dumps(
            {
                "samples": report.samples,
                "rtl_mismatches": len(report.mismatched_samples),
                "first_mismatch": report.first_mismatch,
                "cycles_per_inference": sum(report.cycles) / report.samples,
                "counters_match_golden": report.counters_match_golden,
                "log": str(report.log_file),
            },
            indent=2,
        )
    )
    return 1 if report.mismatched_samples or not report.counters_match_golden else 0


def main(argv: list[str] | None = None) -> int:
    from sdsnn_hw.pipeline import CheckpointError
    from sdsnn_hw.rtl import ToolError

    args = build_parser().parse_args(argv)
    commands = {
        "run": _command_run,
        "export": _command_export,
        "golden": _command_golden,
        "rtl": _command_rtl,
    }
    try:
        return commands[args.command](args)
    except (UsageError, DataError, ManifestError, StimulusError, ToolError, CheckpointError) as exc:
        print(f"sdsnn: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
