"""Quantization-aware training of the spiking network with SD-SNN structural development.

Structural development prunes the fully connected layers; convolution layers train
without pruning for now (their kernels and filters are a later step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional
from tqdm.auto import tqdm

from sdsnn_hw.data import Dataset
from sdsnn_hw.model import SpikingNetwork, Trace, predict
from sdsnn_hw.netspec import FC
from sdsnn_hw.structure import StructureConfig, StructureDevelopment


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings; one structure step runs after every epoch.

    Attributes:
        epochs: passes over the training split.
        batch_size: samples per optimiser step.
        learning_rate: Adam learning rate.
        seed: seeds weight init, shuffling and the training-time spike encoding.
    """

    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-3
    seed: int = 0


@dataclass
class TrainResult:
    model: SpikingNetwork
    structure: StructureDevelopment
    loss_history: list[float]


def train(
    dataset: Dataset,
    model: SpikingNetwork,
    config: TrainConfig,
    structure_config: StructureConfig,
    progress: bool = True,
) -> TrainResult:
    """Train ``model`` on ``dataset``'s training split; weights end masked."""
    generator = torch.Generator().manual_seed(config.seed)
    x_train = torch.from_numpy(dataset.x_train)
    y_train = torch.from_numpy(dataset.y_train)
    steps = model.config.time_steps
    fc = [
        layer for layer, shape in zip(model.layers, model.shapes, strict=True) if shape.kind == FC
    ]
    structure = StructureDevelopment(
        [layer.weight for layer in fc],
        [layer is not model.layers[-1] for layer in fc],  # never prune the output neurons
        dataset.n_classes,
        structure_config,
        biases=[layer.bias for layer in fc],
    )
    structure.step()  # step 0 sets the spine ranges from the initial weights
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    history: list[float] = []
    bar = tqdm(range(config.epochs), desc="train", unit="epoch", disable=not progress)
    for _ in bar:
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            rates = x_train[idx].unsqueeze(1).expand(-1, steps, -1)
            spikes = torch.bernoulli(rates, generator=generator)
            counts = model(spikes)
            loss = functional.cross_entropy(counts, y_train[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(idx)
        structure.step()
        history.append(total / len(order))
        bar.set_postfix(loss=f"{history[-1]:.3f}", pruned=f"{pruned_fraction(structure):.2f}")
    structure.apply_masks()
    return TrainResult(model, structure, history)


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
