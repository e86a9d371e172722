"""The training loop: batches, structure steps (per epoch or every N batches), metrics,
checkpoints.

Resume is exact: a checkpoint holds the model, the optimiser, the scheduler, the
structure state, every random generator and the position inside the epoch (its
shuffled order and running sums), and the loop draws nothing that is not in it. So a
run killed at any point and resumed from ``last.pt`` ends with the same weights, masks
and metrics as a run never interrupted (``seconds`` aside).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from sdsnn_hw import train_state
from sdsnn_hw.allocator import keep_freed_memory
from sdsnn_hw.augment import augment
from sdsnn_hw.data import Dataset, encode
from sdsnn_hw.distributed import (
    Ranks,
    all_sum,
    broadcast_from_main,
    check_identical,
)
from sdsnn_hw.fileio import atomic_write_text
from sdsnn_hw.kernels import GRAD_DTYPES
from sdsnn_hw.model import SpikingNetwork, Trace, predict
from sdsnn_hw.rate_code import training_spikes
from sdsnn_hw.structure import StructureConfig, StructureDevelopment
from sdsnn_hw.train import TrainConfig, TrainResult

LAST, BEST, METRICS = "last.pt", "best.pt", "metrics.jsonl"
EVAL_BATCH = 256


class TrainingError(ValueError):
    """Training cannot go on: a non-finite loss or weights, or no such device (exit 2)."""


@dataclass
class Position:
    """Where the run stands: epochs done, and inside the current epoch.

    Attributes:
        epoch: epochs completed.
        batch: batches done in the current epoch.
        order: the current epoch's shuffled sample order (None between epochs).
        loss_sum, correct, seen: running sums of the current epoch (all ranks).
        seconds: training seconds spent in the current epoch so far.
    """

    epoch: int = 0
    batch: int = 0
    order: torch.Tensor | None = None
    loss_sum: float = 0.0
    correct: float = 0.0
    seen: float = 0.0
    seconds: float = 0.0


def _constant(_epoch: int) -> float:
    return 1.0


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimiser, fused: one kernel per step instead of several per parameter."""
    params, lr, decay = model.parameters(), config.learning_rate, config.weight_decay
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=decay, fused=True)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=config.momentum, weight_decay=decay, fused=True
        )
    return torch.optim.Adam(params, lr=lr, weight_decay=decay, fused=True)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig):
    """The learning rate per epoch: constant, or a cosine down to 0 over the run."""
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, _constant)


def training_device(name: str) -> torch.device:
    """The device of ``compute.device``; exact float products on GPUs (TF32 off)."""
    if name == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError(
                "key 'compute.device' is 'cuda' but this PyTorch sees no CUDA GPU "
                f"(torch {torch.__version__})"
            )
        torch.backends.cuda.matmul.allow_tf32 = False  # TF32 would round the currents
        torch.backends.cudnn.allow_tf32 = False
    return torch.device(name)


@torch.no_grad()
def integer_weights(model: SpikingNetwork) -> list[torch.Tensor]:
    """Every layer's Brevitas integer weights, the values the exporter writes."""
    return [model.quantized_layer(i).weights for i in range(len(model.layers))]


class Trainer:
    """Trains ``model`` on ``dataset``; with ``out``, writes metrics and checkpoints there.

    Args:
        dataset: training and test splits.
        model: the network, its initial weights already drawn.
        config: optimiser, schedule and device.
        structure_config: SD-SNN constants.
        stimulus_seed: seed of the test-split encoding behind the test accuracy.
        out: folder for ``metrics.jsonl``, ``last.pt`` and ``best.pt`` (None: none).
        config_toml: the resolved configuration, stored in every checkpoint.
        progress: show a progress bar.
        log: prints one line per epoch (None: silent).
        ranks: this process among several (``torchrun``).
    """

    def __init__(
        self,
        dataset: Dataset,
        model: SpikingNetwork,
        config: TrainConfig,
        structure_config: StructureConfig,
        stimulus_seed: int = 1234,
        out: Path | None = None,
        config_toml: str = "",
        progress: bool = True,
        log: Callable[[str], None] | None = None,
        ranks: Ranks | None = None,
    ) -> None:
        self.ranks = ranks or Ranks()
        self.device = training_device(config.device)
        if self.device.type == "cpu":
            keep_freed_memory()  # no page faults on every step's activations
        self.config, self.out, self.config_toml = config, out, config_toml
        self.dataset, self.progress, self.log = dataset, progress, log
        self.model = model.to(self.device)
        self.model.grad_dtype = GRAD_DTYPES[config.grad_precision]
        layers = list(model.layers)
        self.structure = StructureDevelopment(
            [layer.weight for layer in layers],
            [layer is not layers[-1] for layer in layers],  # never prune the output neurons
            dataset.n_classes,
            structure_config,
            biases=[layer.bias for layer in layers],
        )
        # step 0, the spine ranges, comes after the first epoch (or step_iterations) of training
        self.step_iterations = structure_config.step_iterations
        self.optimizer = make_optimizer(model, config)
        self.scheduler = make_scheduler(self.optimizer, config)
        self.generator = torch.Generator(self.device).manual_seed(config.seed)
        self.net: torch.nn.Module = model
        if self.ranks.active:
            self.net = DistributedDataParallel(model, broadcast_buffers=False)
        self.x_train = torch.from_numpy(dataset.x_train).to(self.device)
        self.y_train = torch.from_numpy(dataset.y_train).to(self.device)
        self.test_spikes = encode(
            dataset.x_test, model.config.time_steps, stimulus_seed, config.encoding
        )
        self.position = Position()
        self.metrics: list[dict[str, Any]] = []
        self.best = -1.0

    # -- the loop -------------------------------------------------------------------

    def run(self) -> TrainResult:
        """Train the remaining epochs; weights end masked (``W * M``)."""
        config = self.config
        batches = self.batches_per_epoch
        done = self.position.epoch * batches + self.position.batch
        bar = tqdm(
            total=config.epochs * batches,
            initial=done,
            desc="train",
            unit="batch",
            disable=not (self.progress and self.ranks.main),
        )
        while self.position.epoch < config.epochs:
            self.begin_epoch()
            p = self.position
            while p.batch < batches:
                self.train_batch()
                bar.update()
                bar.set_postfix(
                    epoch=p.epoch + 1,
                    loss=f"{p.loss_sum / p.seen:.3f}",
                    acc=f"{p.correct / p.seen:.3f}",
                    pruned=f"{self._pruned():.2f}",
                )
                every = config.checkpoint_every
                if every and p.batch % every == 0 and p.batch < batches:
                    self._checkpoint(LAST)
            self._end_epoch()
        bar.close()
        self.structure.apply_masks()
        losses = [m["loss"] for m in self.metrics]
        return TrainResult(self.model, self.structure, losses, self.metrics)

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.x_train) / self.config.batch_size)

    def begin_epoch(self) -> None:
        """Draw the epoch's sample order, unless a resumed epoch already has one."""
        if self.position.order is None:
            self.position.order = torch.randperm(
                len(self.x_train), generator=self.generator, device=self.device
            )

    def train_batch(self) -> None:
        """One optimiser step on the epoch's next batch."""
        p, size = self.position, self.config.batch_size
        started = time.perf_counter()
        index = p.order[p.batch * size : (p.batch + 1) * size]
        labels = self.y_train[index]
        # every rank encodes the whole batch from the same generator, then takes its shard
        if self.x_train.dim() == 3:  # event frames: the spikes themselves, made time-major
            spikes = self.x_train[index].transpose(0, 1).contiguous()
        else:
            pixels = augment(
                self.x_train[index],
                self.dataset.input_shape,
                self.config.shift_pixels,
                self.config.flip,
                self.generator,
            )
            steps = self.model.config.time_steps
            spikes = training_spikes(pixels, steps, self.generator, self.config.encoding)
        part = self.ranks.shard(len(index))
        counts = self.net(spikes[:, part], time_major=True)
        loss_sum = functional.cross_entropy(counts, labels[part], reduction="sum")
        # DDP averages over ranks: scaled so that the mean is the whole batch's mean loss
        loss = loss_sum * (self.ranks.world / len(index))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        correct = (predict(counts.detach()) == labels[part]).sum()
        total, hits = all_sum(self.ranks, [loss_sum.item(), float(correct.item())])
        if not math.isfinite(total):
            raise TrainingError(
                f"non-finite loss ({total}) in epoch {p.epoch + 1}, batch {p.batch + 1}: "
                f"training stopped{self._kept()}; try a lower optimizer.learning_rate"
            )
        self.optimizer.step()
        p.loss_sum += total
        p.correct += hits
        p.seen += len(index)
        p.batch += 1
        p.seconds += time.perf_counter() - started
        every = self.step_iterations
        iteration = p.epoch * self.batches_per_epoch + p.batch
        if not self._structure_due(iteration):
            # development is over: no step will mask the drift of pruned synapses again,
            # so they stay at zero from here on and the network trains as it exports
            self.structure.apply_masks()
        elif every and iteration % every == 0:
            self.structure_step()

    def _end_epoch(self) -> None:
        p = self.position
        started = time.perf_counter()
        if not self.step_iterations and self._structure_due((p.epoch + 1) * self.batches_per_epoch):
            self.structure_step()
        structure_seconds = time.perf_counter() - started
        self.scheduler.step()
        started = time.perf_counter()
        with self._as_exported():
            test_accuracy, spike_rates = self._evaluate()
            report = self.structure.report(integer_weights(self.model))
        self.metrics.append(
            {
                "epoch": p.epoch + 1,
                "loss": p.loss_sum / p.seen,
                "train_accuracy": p.correct / p.seen,
                "test_accuracy": test_accuracy,
                "learning_rate": self.optimizer.param_groups[0]["lr"],
                "pruning_rate": [float((m == 0).float().mean()) for m in self.structure.masks],
                "paper_pruning_rate": report["paper_pruning_rate"],
                "structure_steps": self.structure.step_count,
                "pruned_neurons": report["pruned_neurons"],
                "regrown_synapses": report["regrown_synapses"],
                "regrown_unmasked": report["regrown_unmasked"],
                "regrown_exported": report.get("regrown_exported", []),
                "revived_neurons": report.get("revived_neurons", []),
                "prune_rate_percent": report["prune_rate_percent"],
                "spike_rate": spike_rates,
                "seconds": round(p.seconds, 3),
                "structure_seconds": round(structure_seconds, 4),
                "eval_seconds": round(time.perf_counter() - started, 3),
            }
        )
        self.position = Position(epoch=p.epoch + 1)
        if self.log and self.ranks.main:
            m = self.metrics[-1]
            self.log(
                f"epoch {m['epoch']}/{self.config.epochs}: loss {m['loss']:.4f}, train "
                f"{m['train_accuracy']:.4f}, test {m['test_accuracy']:.4f}, pruned "
                f"{self._pruned():.3f}, {m['seconds']:.1f} s"
            )
        improved = test_accuracy > self.best
        self.best = max(self.best, test_accuracy)
        self._checkpoint(LAST)
        if improved:
            self._checkpoint(BEST)
        if self.out is not None and self.ranks.main:
            lines = "".join(json.dumps(m) + "\n" for m in self.metrics)
            atomic_write_text(self.out / METRICS, lines)

    def _structure_due(self, iteration: int) -> bool:
        """Whether optimiser step ``iteration`` lies in the structure's part of the schedule."""
        total = self.config.epochs * self.batches_per_epoch
        return iteration <= self.structure.config.stop_fraction * total

    def structure_step(self) -> None:
        """One structure step on rank 0, copied to every rank, then checked identical."""
        # step 0 builds the state every rank needs to receive the broadcast into
        if self.ranks.main or self.structure.states is None:
            self.structure.step()
        tensors = [*self.model.parameters(), *train_state.structure_tensors(self.structure)]
        scalars = train_state.structure_scalars(self.structure)
        scalars = broadcast_from_main(self.ranks, tensors, scalars)
        if not self.ranks.main:
            train_state.load_structure_scalars(self.structure, scalars)
        tensors = [*self.model.parameters(), *train_state.structure_tensors(self.structure)]
        check_identical(self.ranks, tensors, "weights, masks and spine state")

    @contextmanager
    def _as_exported(self) -> Iterator[None]:
        """The model with its masks applied, as export reads it; the drift of the masked
        weights (what regeneration scores) comes back afterwards."""
        tensors = [*self.structure.weights, *(b for b in self.structure.biases if b is not None)]
        saved = [t.detach().clone() for t in tensors]
        self.structure.apply_masks()
        try:
            yield
        finally:
            with torch.no_grad():
                for tensor, value in zip(tensors, saved, strict=True):
                    tensor.copy_(value)

    @torch.no_grad()
    def _evaluate(self) -> tuple[float, list[float]]:
        """Test accuracy and each layer's spike rate (spikes per neuron and step)."""
        part = self.ranks.shard(len(self.test_spikes))
        spikes, labels = self.test_spikes[part], self.dataset.y_test[part]
        sums = [0.0] * (len(self.model.layers) + 1)
        for start in range(0, len(spikes), EVAL_BATCH):
            chunk = torch.from_numpy(spikes[start : start + EVAL_BATCH]).to(self.device)
            trace = Trace()
            counts = self.model(chunk.float(), trace=trace)
            hits = predict(counts).cpu().numpy() == labels[start : start + EVAL_BATCH]
            sums[0] += float(np.sum(hits))
            for i, layer_spikes in enumerate(trace.spikes):
                sums[i + 1] += float(layer_spikes.mean(dim=(1, 2)).sum())
        sums = all_sum(self.ranks, sums)
        n = len(self.test_spikes)
        return sums[0] / n, [s / n for s in sums[1:]]

    def _pruned(self) -> float:
        masks = self.structure.masks
        return float(sum(int((m == 0).sum()) for m in masks) / sum(m.numel() for m in masks))

    # -- checkpoints ----------------------------------------------------------------

    def _kept(self) -> str:
        if self.out is None or not (self.out / LAST).is_file():
            return ""
        return f"; {self.out / LAST} keeps the last good state"

    def _checkpoint(self, name: str) -> None:
        if self.out is None:
            return
        for param_name, param in self.model.named_parameters():
            if not bool(torch.isfinite(param).all()):
                p = self.position
                raise TrainingError(
                    f"non-finite weights in {param_name} (epoch {p.epoch + 1}, batch "
                    f"{p.batch}): training stopped{self._kept()}; try a lower "
                    "optimizer.learning_rate"
                )
        if not self.ranks.main:
            return
        p = self.position
        train_state.save(
            self.out / name,
            {
                "model": {k: v.cpu() for k, v in self.model.state_dict().items()},
                "network": asdict(self.model.config),
                "classes": self.dataset.n_classes,
                "config": self.config_toml,
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "structure": train_state.structure_state(self.structure),
                "rng": train_state.rng_state(self.generator),
                "position": {**asdict(p), "order": None if p.order is None else p.order.cpu()},
                "metrics": self.metrics,
                "best": self.best,
            },
        )

    def resume(self, saved: dict[str, Any]) -> None:
        """Continue from a checkpoint read by :func:`sdsnn_hw.train_state.load`."""
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        train_state.load_structure_state(self.structure, saved["structure"])
        train_state.load_rng_state(self.generator, saved["rng"])
        position = dict(saved["position"])
        if position["order"] is not None:
            position["order"] = position["order"].to(self.device)
        self.position = Position(**position)
        self.metrics = list(saved["metrics"])
        self.best = float(saved["best"])
