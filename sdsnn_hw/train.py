"""Quantization-aware training of the spiking network with SD-SNN structural development.

:func:`train` trains a model in memory (the training stage of ``sdsnn run``);
:mod:`sdsnn_hw.trainer` holds the loop, with checkpoints, metrics, resume and several
processes. ``python -m sdsnn_hw.train`` is ``sdsnn train`` for ``torchrun``.
Structural development prunes fully connected neurons and convolution filters
(:mod:`sdsnn_hw.structure`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import torch

from sdsnn_hw.data import RATE, Dataset
from sdsnn_hw.model import SpikingNetwork, Trace, predict
from sdsnn_hw.structure import StructureConfig, StructureDevelopment

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULERS = ("constant", "cosine")
DEVICES = ("cpu", "cuda")
GRAD_PRECISIONS = ("float32", "bfloat16")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule and device (when structure steps run: ``StructureConfig``).

    Attributes:
        epochs: passes over the training split.
        batch_size: samples per optimiser step (over all processes together).
        learning_rate: the optimiser's learning rate.
        seed: seeds weight init, shuffling and the training-time spike encoding.
        optimizer: ``adam``, ``adamw`` or ``sgd``.
        weight_decay: the optimiser's weight decay.
        momentum: SGD momentum (the other optimisers ignore it).
        scheduler: ``constant`` or ``cosine`` (the learning rate over the epochs).
        checkpoint_every: optimiser steps between checkpoints inside an epoch (0: at
            epoch ends only).
        device: ``cpu`` or ``cuda``.
        shift_pixels: training images move by up to this many pixels each way
            (:mod:`sdsnn_hw.augment`); 0: not at all.
        flip: training images are mirrored left to right with probability 1/2.
        encoding: how pixels become spikes, in training and in the test stimulus (one
            of :data:`sdsnn_hw.data.ENCODINGS`; event data sets are spikes already).
        grad_precision: dtype of the backward matrix products (``bfloat16`` halves
            their cost on CPUs with bf16 units; the forward pass stays exact either way).
    """

    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-3
    seed: int = 0
    optimizer: str = "adam"
    weight_decay: float = 0.0
    momentum: float = 0.9
    scheduler: str = "constant"
    checkpoint_every: int = 0
    device: str = "cpu"
    shift_pixels: int = 0
    flip: bool = False
    encoding: str = RATE
    grad_precision: str = "float32"


@dataclass
class TrainResult:
    model: SpikingNetwork
    structure: StructureDevelopment
    loss_history: list[float]
    metrics: list[dict]


def train(
    dataset: Dataset,
    model: SpikingNetwork,
    config: TrainConfig,
    structure_config: StructureConfig,
    progress: bool = True,
    stimulus_seed: int = 1234,
) -> TrainResult:
    """Train ``model`` on ``dataset``'s training split in memory; weights end masked."""
    from sdsnn_hw.trainer import Trainer

    trainer = Trainer(dataset, model, config, structure_config, stimulus_seed, progress=progress)
    return trainer.run()


def pruned_fraction(structure: StructureDevelopment) -> float:
    """Fraction of masked synapses over all layers."""
    masks = structure.masks
    return float(sum((m == 0).sum().item() for m in masks) / sum(m.numel() for m in masks))


@torch.no_grad()
def evaluate(
    model: SpikingNetwork, spikes: np.ndarray, batch_size: int = 256
) -> tuple[np.ndarray, Trace]:
    """Run the QAT model on encoded spikes (samples, time, inputs).

    Returns:
        Predictions and the full trace (spikes and membranes of every layer) as tensors.
    """
    trace = Trace()
    parts: list[Trace] = []
    for start in range(0, len(spikes), batch_size):
        part = Trace()
        model(torch.from_numpy(spikes[start : start + batch_size]).float(), trace=part)
        parts.append(part)
    for i in range(len(model.layers)):
        trace.spikes.append(torch.cat([p.spikes[i] for p in parts]))
        trace.membranes.append(torch.cat([p.membranes[i] for p in parts]))
    counts = trace.spikes[-1].sum(dim=1)
    return predict(counts).numpy(), trace


if __name__ == "__main__":
    from sdsnn_hw.cli import main

    sys.exit(main(["train", *sys.argv[1:]]))
