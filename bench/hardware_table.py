"""Cycles, bound, resources, Fmax and latency of a run's network at several lane counts.

For each P the run's export is laid out anew, the RTL simulates the first samples of
the run's stimulus against the golden model (so the cycles quoted are the RTL's), and
`sdsnn synth` places and routes it on an ECP5 (LFE5U-85F). Prints a Markdown table.

Usage: python bench/hardware_table.py RUN_DIR [--lanes 1 2 4 8] [--rtl-samples 20]
       [--out bench/results/hw-<run name>]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.rtl import simulate
from sdsnn_hw.stimulus import load_stimulus
from sdsnn_hw.synth_export import SynthConfig, relayout, synth_export

COLUMNS = (
    "lanes", "layouts", "rtl_mismatches", "cycles", "cycles_vs_bound", "fmax_mhz",
    "latency_us", "lut", "ff", "bram", "dsp",
)  # fmt: skip


def measure(run_dir: Path, lanes: int, rtl_samples: int, out: Path) -> dict:
    export = out / f"p{lanes}" / "export"
    relayout(run_dir / "export", export, lanes)
    stimulus_path = run_dir / "stimulus" / "test.npz"
    stimulus = load_stimulus(stimulus_path)
    golden = run_network(GoldenNetwork.from_export(export), stimulus.spikes)
    report = simulate(
        export, stimulus_path, out / f"p{lanes}" / "rtl", rtl_samples, progress=False,
        log=lambda _: None, force=True,
    )  # fmt: skip
    started = time.perf_counter()
    synth = synth_export(
        export, out / f"p{lanes}" / "synth", SynthConfig(stimulus=stimulus_path), force=True,
        log=lambda _: None,
    )  # fmt: skip
    cycles = float(golden.cycles.mean())
    return {
        "lanes": lanes,
        "layouts": ",".join(synth["layouts"]),
        "rtl_mismatches": len(report.mismatched_samples) + (not report.counters_match_golden),
        "cycles": round(cycles, 1),
        "rtl_cycles_equal_model": report.cycles == golden.cycles[: report.samples].tolist(),
        "cycles_vs_bound": round(cycles / float(golden.costs.bound.mean()), 3),
        **{k: synth.get(k) for k in ("fmax_mhz", "latency_us", "lut", "ff", "bram", "dsp")},
        "weight_memories_in_block_ram": synth["weight_memories_in_block_ram"],
        "synth_seconds": round(time.perf_counter() - started, 1),
        "mean_input_spikes": float(np.mean(stimulus.spikes.sum(axis=2))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run_dir", type=Path, help="a folder written by `sdsnn run`")
    parser.add_argument("--lanes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--rtl-samples", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or Path("bench/results") / f"hw-{args.run_dir.name}"
    rows = [measure(args.run_dir, p, args.rtl_samples, out) for p in args.lanes]
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"{time.strftime('%Y-%m-%d')}, {platform.node()}, {platform.processor() or 'cpu'}")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in COLUMNS) + " |")


if __name__ == "__main__":
    main()
