"""The random differential regression through the HLS C simulation.

The RTL regression's cases (:func:`sdsnn_hw.regression.draw_case`, the same seeds),
each exported as ``sdsnn fuzz`` exports it (:func:`sdsnn_hw.fuzz.write_case`), run in
the C simulation of their build group's ``sim`` configuration (one compile per group,
:mod:`sdsnn_hw.hls_config`) and are compared with the golden model: every spike and
membrane, every counter the cycle model states, and the HLS cycle count against
:mod:`sdsnn_hw.hls_latency`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from sdsnn_hw.fuzz import write_case
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.hls_build import build
from sdsnn_hw.hls_config import HlsConfig, network_config
from sdsnn_hw.hls_csim import CSim, compare
from sdsnn_hw.hls_latency import network_cycles
from sdsnn_hw.manifest import Manifest, load_manifest
from sdsnn_hw.regression import Case, draw_case
from sdsnn_hw.stimulus import load_stimulus

SIM_TARGET = "sim"


def run_seeds(
    seeds: range | list[int],
    folder: Path,
    jobs: int = 2,
    log: Callable[[str], None] = lambda _: None,
) -> list[dict]:
    """Run the cases of ``seeds`` in the C simulation; what differed, per failing case.

    Args:
        seeds: case seeds (:func:`sdsnn_hw.regression.draw_case`).
        folder: where the cases' exports go.
        jobs: compiles run at once (one per build group).
    """
    cases = [draw_case(seed) for seed in seeds]
    exports = {case.seed: write_case(case, Path(folder) / f"case-{case.seed}") for case in cases}
    manifests = {seed: load_manifest(export) for seed, (export, _) in exports.items()}
    configs = {seed: network_config(m, SIM_TARGET) for seed, m in manifests.items()}
    unique = list(dict.fromkeys(configs.values()))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        built = list(pool.map(lambda c: build(c, "regression", log=log), unique))
    sims = {config: CSim(b) for config, b in zip(unique, built, strict=True)}
    failures = []
    for case in cases:
        export, stimulus = exports[case.seed]
        config = configs[case.seed]
        failure = _run_case(case, export, manifests[case.seed], stimulus, sims[config], config)
        if failure:
            failures.append(failure)
    return failures


def _run_case(
    case: Case, export: Path, manifest: Manifest, stimulus: Path, sim: CSim, config: HlsConfig
) -> dict | None:
    sim.load(export, manifest, config)
    spikes = load_stimulus(stimulus).spikes
    net = GoldenNetwork.from_export(export)
    golden = run_network(net, spikes)
    hls = sim.run(spikes)
    comparison = compare(hls, golden)
    modelled = network_cycles(net, [spikes, *golden.spikes[:-1]])
    cycles_agree = np.array_equal(hls.counter("cycles"), modelled)
    if comparison.mismatched_samples or comparison.counters_differing or not cycles_agree:
        return {
            "seed": case.seed,
            "build": str(sim.build.folder),
            "mismatched_samples": comparison.mismatched_samples,
            "first_mismatch": comparison.first_mismatch,
            "counters_differing": comparison.counters_differing
            + ([] if cycles_agree else ["cycles (HLS latency model)"]),
        }
    return None
