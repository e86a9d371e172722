"""``sdsnn fuzz``: random networks through the RTL against the golden model.

Each case (:mod:`sdsnn_hw.regression`) is exported and simulated as a user's would be;
the simulator build of each shape is made once, then cases run on ``jobs`` workers.
A failing case is reported with its seed and the command that replays it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from sdsnn_hw.export import write_export
from sdsnn_hw.manifest import load_manifest
from sdsnn_hw.regression import Case, coverage, draw_case
from sdsnn_hw.rtl import build, simulate
from sdsnn_hw.stimulus import Stimulus, save_stimulus


@dataclass
class FuzzReport:
    """Outcome of a fuzz run.

    Attributes:
        cases: cases simulated.
        failures: per failing case, its seed, replay command and what differed.
        coverage: how often each corner of the contract occurred over all cases.
    """

    cases: int = 0
    failures: list[dict] = field(default_factory=list)
    coverage: Counter = field(default_factory=Counter)


def write_case(case: Case, folder: Path) -> tuple[Path, Path]:
    """Export the case's network and inputs into ``folder``; the export and stimulus."""
    classes = case.layers[-1].weights.shape[0]
    write_export(
        folder / "export",
        case.layers,
        classes,
        case.inputs.shape[1],
        case.group.lanes,
        case.group.layout,
    )
    labels = np.zeros(len(case.inputs), np.int64)
    save_stimulus(folder / "stimulus.npz", Stimulus(case.inputs, labels))
    return folder / "export", folder / "stimulus.npz"


def run_case(case: Case, folder: Path, simulator: str) -> dict | None:
    """Simulate one case; None when RTL and golden agree, else what differed."""
    export, stimulus = write_case(case, folder)
    report = simulate(
        export, stimulus, folder / "rtl", progress=False, log=lambda _: None,
        simulator=simulator,
    )  # fmt: skip
    if report.agrees:
        return None
    return {
        "seed": case.seed,
        "replay": case.replay_command(),
        "hang": report.hang,
        "first_mismatch": report.first_mismatch,
        "counters_differing": report.counters_differing,
        "log": str(report.log_file),
    }


def fuzz(
    cases: int,
    seed: int = 0,
    simulator: str = "verilator",
    jobs: int = 2,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> FuzzReport:
    """Run ``cases`` random cases, seeds ``seed .. seed + cases - 1``.

    The cases' files go to a temporary folder, removed afterwards unless a case failed
    (each failure names its simulation log there).
    """
    drawn = [draw_case(s) for s in range(seed, seed + cases)]
    report = FuzzReport(cases=cases)
    for case in drawn:
        report.coverage += coverage(case)
    root = Path(tempfile.mkdtemp(prefix="sdsnn-fuzz-"))
    try:
        _build_each_shape(drawn, root / "builds", simulator, log)
        with (
            ThreadPoolExecutor(max_workers=jobs) as pool,
            tqdm(total=cases, desc="fuzz", unit="case", disable=not progress) as bar,
        ):
            futures = [
                pool.submit(run_case, case, root / f"case-{case.seed}", simulator) for case in drawn
            ]
            for future in futures:
                failure = future.result()
                if failure is not None:
                    report.failures.append(failure)
                    log(f"fuzz: case {failure['seed']} differs; replay: {failure['replay']}")
                bar.update(1)
    finally:
        if not report.failures:
            shutil.rmtree(root, ignore_errors=True)
    return report


def _build_each_shape(
    drawn: list[Case], folder: Path, simulator: str, log: Callable[[str], None]
) -> None:
    """Build every shape once, one after another, before cases share the builds."""
    seen: set = set()
    for case in drawn:
        if case.group in seen:
            continue
        seen.add(case.group)
        export, _ = write_case(case, folder / f"group-{len(seen)}")
        build(load_manifest(export), simulator, log=log)
