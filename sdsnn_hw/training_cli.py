"""``sdsnn train``: the configuration from a preset or file and overrides, the output
folder, resume, and one process or several (``--nproc``, or ``torchrun`` itself)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import torch

from sdsnn_hw import config as cfg
from sdsnn_hw import train_state
from sdsnn_hw.config import ConfigError, TrainSetup
from sdsnn_hw.fileio import atomic_write_text

CONFIG_FILE = "config.toml"


def setup_from_args(
    args: argparse.Namespace, extra: dict[str, Any], default_preset: str | None
) -> TrainSetup | None:
    """The configuration named by ``--preset``/``--config`` with the command's overrides
    (``--dataset``, ``--data-dir``, ``--net``, ``--epochs``, ``--device``, ``--set``, and
    ``extra``; None values are not given). None when neither names one and there is no
    ``default_preset``."""
    if args.config is not None:
        setup = cfg.load(args.config)
    elif args.preset is not None or default_preset is not None:
        setup = cfg.preset(args.preset or default_preset)
    else:
        setup = None
    overrides = overrides_from_args(args) | {k: v for k, v in extra.items() if v is not None}
    if setup is None:
        if overrides:
            raise ConfigError("options that change the configuration need --preset or --config")
        return None
    setup = cfg.apply(setup, overrides, "command line")
    cfg.check(setup, "command line")
    return setup


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    values = {
        "data.dataset": args.dataset,
        "data.data_dir": None if args.data_dir is None else str(args.data_dir),
        "network.net": args.net,
        "schedule.epochs": args.epochs,
        "compute.device": getattr(args, "device", None),
    }
    overrides = {k: v for k, v in values.items() if v is not None}
    for text in args.set:
        overrides |= cfg.parse_override(text)
    return overrides


def resolve_run(args: argparse.Namespace) -> tuple[TrainSetup, dict[str, Any] | None]:
    """The configuration of ``sdsnn train`` and, on ``--resume``, the checkpoint to continue.

    Raises:
        ConfigError: for an output folder that holds a run without ``--resume``, or a
            configuration that differs from the one the run being resumed used.
    """
    out: Path = args.out
    given = setup_from_args(args, {}, None)
    saved_config = out / CONFIG_FILE
    if not args.resume:
        if given is None:
            raise ConfigError("sdsnn train needs --preset NAME or --config FILE")
        if saved_config.exists() or (out / "last.pt").exists():
            raise ConfigError(
                f"{out} holds a training run ({CONFIG_FILE}); pass --resume to continue it, "
                "or choose another --out"
            )
        return given, None
    if not saved_config.is_file():
        if given is None:
            raise ConfigError(f"--resume: {saved_config} not found; pass --preset or --config")
        return given, None
    setup = cfg.load(saved_config)
    if given is not None and given != setup:
        keys = ", ".join(cfg.differences(given, setup))
        raise ConfigError(f"--resume: the configuration differs from {saved_config} in {keys}")
    last = out / "last.pt"
    return setup, (train_state.load(last) if last.is_file() else None)


def _without_nproc(argv: list[str]) -> list[str]:
    """The ``sdsnn train`` arguments for the worker processes: no ``--nproc``."""
    rest, skip = [], False
    for token in argv[1:]:  # argv[0] is "train"
        if skip:
            skip = False
        elif token == "--nproc":
            skip = True
        elif not token.startswith("--nproc="):
            rest.append(token)
    return rest


def train_command(args: argparse.Namespace) -> int:
    """Run ``sdsnn train``; exit code 0, or an exception the command line reports."""
    from sdsnn_hw.data import load_dataset
    from sdsnn_hw.distributed import (
        finish_worker,
        init_from_env,
        launch,
        shutdown,
        wait_for_all,
    )
    from sdsnn_hw.model import SpikingNetwork
    from sdsnn_hw.trainer import Trainer, training_device

    setup, saved = resolve_run(args)  # bad input stops here, before any process starts
    training_device(setup.training.device)
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        return launch(args.nproc, _without_nproc(args.argv))
    ranks = init_from_env(setup.training.device)
    try:
        wait_for_all(ranks)  # every rank has checked the folder before rank 0 writes to it
        text = cfg.to_toml(setup, "resolved configuration of this run (sdsnn train)")
        if ranks.main:
            args.out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(args.out / CONFIG_FILE, text)
        dataset = load_dataset(setup.dataset, setup.data_dir)
        torch.manual_seed(setup.training.seed)
        model = SpikingNetwork(cfg.network_config(setup))
        trainer = Trainer(
            dataset, model, setup.training, setup.structure, setup.stimulus_seed, args.out,
            text, progress=not args.quiet, log=print, ranks=ranks,
        )  # fmt: skip
        if saved is not None:
            trainer.resume(saved)
            if ranks.main:
                p = trainer.position
                print(f"resumed from {args.out / 'last.pt'}: epoch {p.epoch + 1}, batch {p.batch}")
        result = trainer.run()
        if ranks.main:
            best = max((m["test_accuracy"] for m in result.metrics), default=float("nan"))
            print(f"best test accuracy {best:.4f}; {args.out}: metrics.jsonl, last.pt, best.pt")
        finish_worker(ranks)
    finally:
        shutdown(ranks)
    return 0
