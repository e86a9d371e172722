"""RTL simulation speed: simulated cycles per second beside the golden model's speed.

Runs `sdsnn rtl`'s simulation (:func:`sdsnn_hw.rtl.simulate`) of an export on its
stimulus ``--repeat`` times, the build made beforehand and excluded, and prints per
run: the simulation alone (the simulator playing the steps, as the testbench timed it,
by wall clock and by the simulator process's CPU time, which other jobs on a shared
machine do not inflate) and the whole stage (the `simulate()` call: checks, simulator
start, golden model, comparison, reports). The golden model's samples per second are
measured in the same run. Also with ``--fuzz N``: `sdsnn fuzz` cases per second.

Usage: python bench/sim_speed.py [--export runs/demo/export]
       [--stimulus runs/demo/stimulus/test.npz] [--simulator verilator] [--repeat 3]
       [--fuzz 0] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from sdsnn_hw.fuzz import fuzz
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.manifest import load_manifest
from sdsnn_hw.rtl import build, simulate
from sdsnn_hw.stimulus import load_stimulus


def golden_speed(export: Path, stimulus: Path, repeat: int) -> dict:
    """The golden model on the whole stimulus (loading the export included)."""
    spikes = load_stimulus(stimulus).spikes
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        run_network(GoldenNetwork.from_export(export), spikes)
        seconds.append(time.perf_counter() - start)
    return {
        "samples": len(spikes),
        "seconds": min(seconds),
        "samples_per_s": len(spikes) / min(seconds),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rtl_speed(export: Path, stimulus: Path, simulator: str, work: Path) -> dict:
    """One simulation of the whole stimulus, timed by the testbench and from outside."""
    cpu = _children_cpu()
    start = time.perf_counter()
    report = simulate(
        export, stimulus, work, progress=False, log=lambda _: None, simulator=simulator,
        force=True,
    )  # fmt: skip
    stage = time.perf_counter() - start
    if not report.agrees:
        raise SystemExit(f"the RTL disagrees with the golden model, see {report.log_file}")
    cycles = sum(report.cycles)
    return {
        "cycles": cycles,
        "sim_cycles_per_s": cycles / report.run_seconds,
        "sim_cycles_per_cpu_s": cycles / report.run_cpu_seconds,
        "stage_seconds": stage,
        "stage_cycles_per_s": cycles / stage,
        "stage_simulator_cpu_seconds": _children_cpu() - cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, default=Path("runs/demo/export"))
    parser.add_argument("--stimulus", type=Path, default=Path("runs/demo/stimulus/test.npz"))
    parser.add_argument("--simulator", default="verilator")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fuzz", type=int, default=0, help="also time this many fuzz cases")
    parser.add_argument("--seed", type=int, default=0, help="first fuzz seed")
    args = parser.parse_args()
    build(load_manifest(args.export), args.simulator, log=lambda _: None)  # not timed
    golden = golden_speed(args.export, args.stimulus, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [rtl_speed(args.export, args.stimulus, args.simulator, Path(tmp) / f"rtl{k}")
                for k in range(args.repeat)]  # fmt: skip
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.node()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "simulator": args.simulator,
        "golden": golden,
        "rtl": runs,
    }
    if args.fuzz:
        start = time.perf_counter()
        report = fuzz(args.fuzz, args.seed, args.simulator, progress=False, log=print)
        seconds = time.perf_counter() - start
        result["fuzz"] = {
            "cases": args.fuzz, "failures": len(report.failures), "seconds": seconds,
            "cases_per_s": args.fuzz / seconds,
        }  # fmt: skip
    print(json.dumps(result, indent=2))
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(
        f"\n{args.simulator}, {runs[0]['cycles']:,} cycles, median of {len(runs)}: "
        f"simulation {median['sim_cycles_per_s']:,.0f} cycles/s "
        f"({median['sim_cycles_per_cpu_s']:,.0f} per CPU second), whole stage "
        f"{median['stage_cycles_per_s']:,.0f} cycles/s ({median['stage_seconds']:.2f} s); "
        f"golden model {golden['samples_per_s']:,.0f} samples/s"
    )


if __name__ == "__main__":
    main()
