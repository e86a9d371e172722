"""Run the default `sdsnn run` flow over several training seeds; print a Markdown table.

Usage: python bench/seed_sweep.py [--seeds 0 1 2] [--out bench/results] [--no-rtl]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from pathlib import Path

from sdsnn_hw.pipeline import RunConfig, run
from sdsnn_hw.train import TrainConfig

COLUMNS = (
    "accuracy_qat", "accuracy_golden", "accuracy_rtl", "pruning_rate", "rtl_mismatches",
    "synaptic_ops_per_inference", "rtl_cycles_per_inference",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--no-rtl", action="store_true")
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        config = replace(RunConfig(), training=TrainConfig(seed=seed), rtl=not args.no_rtl)
        start = time.perf_counter()
        summary = run(config, args.out / f"seed{seed}", progress=False, log=lambda _: None)
        summary["wall_seconds"] = round(time.perf_counter() - start, 1)
        rows.append((seed, summary))
    print(f"{time.strftime('%Y-%m-%d')} on {platform.node()} ({platform.processor() or 'cpu'})")
    header = ["seed", *COLUMNS, "seconds (train/export/golden/rtl)", "wall s"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for seed, s in rows:
        cells = [str(seed)] + [_fmt(s.get(key, "-")) for key in COLUMNS]
        cells.append("/".join(str(v) for v in s["seconds"].values()))
        cells.append(str(s["wall_seconds"]))
        print("| " + " | ".join(cells) + " |")
    (args.out / "sweep.json").write_text(json.dumps(dict(rows), indent=2) + "\n")


def _fmt(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
