"""``sdsnn fuzz``: random networks through the RTL against the golden model.

Each case (:mod:`sdsnn_hw.regression`) is exported as a user's would be. The cases of
a build group run in batches of up to :data:`BATCH_CASES`, each batch in one simulator
start (:func:`sdsnn_hw.rtl.simulate_cases`: ROMs reloaded and a reset between cases),
on ``jobs`` workers; the simulator build of each shape is made once, first. A failing
case is reported with its seed and the command that replays it.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
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
from sdsnn_hw.rtl import SimCase, build, simulate_cases
from sdsnn_hw.stimulus import Stimulus, save_stimulus

BATCH_CASES = 100
"""Cases per simulator start: large enough that the start (about a second) is paid
rarely, small enough that ``jobs`` workers share a run evenly."""


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


def run_batch(
    cases: list[Case],
    folder: Path,
    simulator: str,
    on_case: Callable[[int], None] = lambda _: None,
) -> list[dict]:
    """Simulate cases of one build group in one simulator start; what differed, per
    failing case (``on_case`` gets the cases finished so far)."""
    exports = [SimCase(*write_case(case, folder / f"case-{case.seed}")) for case in cases]
    reports = simulate_cases(
        exports, folder / "rtl", simulator, log=lambda _: None, on_case=on_case
    )
    failures = []
    for case, report in zip(cases, reports, strict=True):
        failure = {"seed": case.seed, "replay": case.replay_command(simulator)}
        if report is None:
            failure["error"] = "the simulator stopped before this case"
            failure["log"] = str(folder / "rtl" / "sim.log")
        elif not report.agrees:
            failure |= {
                "hang": report.hang,
                "first_mismatch": report.first_mismatch,
                "counters_differing": report.counters_differing,
                "log": str(report.log_file),
            }
        else:
            continue
        failures.append(failure)
    return failures


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
            shared = _Progress(bar)
            futures = [
                pool.submit(run_batch, batch, root / f"batch-{k}", simulator, shared.batch())
                for k, batch in enumerate(_batches(drawn))
            ]
            for future in futures:
                for failure in future.result():
                    report.failures.append(failure)
                    log(f"fuzz: case {failure['seed']} differs; replay: {failure['replay']}")
    finally:
        if not report.failures:
            shutil.rmtree(root, ignore_errors=True)
    report.failures.sort(key=lambda failure: failure["seed"])
    return report


class _Progress:
    """A progress bar that batches on several workers advance, each by its own count."""

    def __init__(self, bar: tqdm) -> None:
        self.bar = bar
        self.lock = threading.Lock()

    def batch(self) -> Callable[[int], None]:
        """The callback of one batch: it reports the cases it has finished so far."""
        done = 0

        def advance(finished: int) -> None:
            nonlocal done
            with self.lock:
                self.bar.update(finished - done)
                done = finished

        return advance


def _batches(drawn: list[Case]) -> list[list[Case]]:
    """The cases by build group, in batches of up to :data:`BATCH_CASES`, the groups'
    batches interleaved so that the workers run different shapes side by side."""
    groups: dict = {}
    for case in drawn:
        groups.setdefault(case.group, []).append(case)
    per_group = [
        [cases[k : k + BATCH_CASES] for k in range(0, len(cases), BATCH_CASES)]
        for cases in groups.values()
    ]
    longest = max(len(batches) for batches in per_group)
    return [batches[k] for k in range(longest) for batches in per_group if k < len(batches)]


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
