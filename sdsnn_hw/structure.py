"""SD-SNN structural development: spine ranges, regeneration, neuronal pruning.

The rules of docs' sdsnn-method (section "Structural development") for fully connected
layers, weights (out, in), and convolutions, weights (out, in, k, k). In a convolution a
synapse is one k x k kernel, scored by its signed sum, and a neuron is a filter. One
call of :meth:`StructureDevelopment.step` is one structure step; the first one only
sets the spine ranges. Weights are edited in place; masks live here and say which
weights survive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

FC, CONV = "fc", "conv"


@dataclass(frozen=True)
class LayerConstants:
    """The constants that differ between fully connected and convolution layers.

    Attributes:
        regen_q0: q0, start percentile of the regeneration threshold.
        regen_steps: T_g, a masked synapse regrows after more than T_g consecutive
            steps above the percentile (counted from its second step there).
        dead_synapses: theta, a neuron with fewer surviving mask entries counts as dead.
        prune_rate_init: initial pruning rate p of the layer, in percent.
        rate_gain_tau: the rate gain decays as exp(-(t - 2 T_s - 1) / tau).
    """

    regen_q0: float
    regen_steps: int
    dead_synapses: int
    prune_rate_init: float
    rate_gain_tau: float


@dataclass(frozen=True)
class StructureConfig:
    """Constants of the structural development, in structure steps.

    The defaults are the ``fast-digits`` preset; ``paper-*`` presets hold the official
    values. Unprefixed constants of one layer type are the fully connected ones.

    Attributes:
        plasticity_steps: T_s, streak length that moves or shrinks a spine range.
        shrink: E, factor applied to both range bounds after a shrinking streak.
        regen_growth: base of the percentile schedule q_t = q0 + growth**(t - 2T_s - 1).
        regen_q_max: cap of that schedule, in percent.
        regen_q0, regen_steps, dead_synapses, prune_rate_init, rate_gain_tau: fully
            connected :class:`LayerConstants`.
        conv_regen_q0, conv_regen_steps, conv_dead_synapses, conv_prune_rate_init,
            conv_rate_gain_tau: the same for convolution layers.
        prune_rate_max: cap on every layer's p, in percent.
        rate_gain_steps: fully connected layers: steps after 2 T_s with the exponential
            gain (the paper's switch at step 60 with T_s = 18 is 24); late_rate_gain after.
        late_rate_gain: fully connected rate gain after ``rate_gain_steps``.
        step_iterations: optimiser steps between structure steps; 0: one per epoch.
        stop_fraction: structure steps run in this first fraction of the schedule's
            optimiser steps; the rest trains the final structure (1: to the end). What
            a step changes at a learning rate near zero is never made up for.
    """

    plasticity_steps: int = 3
    shrink: float = 0.75
    regen_growth: float = 1.8
    regen_q_max: float = 99.0
    regen_q0: float = 60.0
    regen_steps: int = 2
    dead_synapses: int = 20
    prune_rate_init: float = 45.0
    rate_gain_tau: float = 1.0
    conv_regen_q0: float = 65.0
    conv_regen_steps: int = 3
    conv_dead_synapses: int = 10
    conv_prune_rate_init: float = 5.0
    conv_rate_gain_tau: float = 5.0
    prune_rate_max: float = 90.0
    rate_gain_steps: int = 4
    late_rate_gain: float = 0.00075
    step_iterations: int = 0
    stop_fraction: float = 1.0

    @property
    def development_start(self) -> int:
        """Regeneration and pruning run at steps t > 2 T_s."""
        return 2 * self.plasticity_steps

    def regen_percentile(self, q0: float, t: int) -> float:
        """q_t = min(q0 + growth**(t - 2 T_s - 1), q_max), in percent."""
        return min(q0 + self.regen_growth ** (t - self.development_start - 1), self.regen_q_max)

    def rate_gain(self, kind: str, t: int) -> float:
        """The gain of the rate update at step t: exp(-(t - 2 T_s - 1) / tau); a fully
        connected layer switches to ``late_rate_gain`` ``rate_gain_steps`` steps in."""
        since = t - self.development_start - 1
        if kind == FC and since >= self.rate_gain_steps:
            return self.late_rate_gain
        return math.exp(-since / self.constants(kind).rate_gain_tau)

    def constants(self, kind: str) -> LayerConstants:
        """The constants of a layer of ``kind`` (:data:`FC` or :data:`CONV`)."""
        if kind == CONV:
            return LayerConstants(
                self.conv_regen_q0,
                self.conv_regen_steps,
                self.conv_dead_synapses,
                self.conv_prune_rate_init,
                self.conv_rate_gain_tau,
            )
        return LayerConstants(
            self.regen_q0,
            self.regen_steps,
            self.dead_synapses,
            self.prune_rate_init,
            self.rate_gain_tau,
        )


def synapses(x: torch.Tensor) -> torch.Tensor:
    """Per synapse (out, in): ``x`` itself (fc), or its sum over each kernel (conv)."""
    return x.sum(dim=(2, 3)) if x.dim() == 4 else x


def layer_kind(weight: torch.Tensor) -> str:
    return CONV if weight.dim() == 4 else FC


class _LayerState:
    """Per-weight spine state and mask (shaped like the weight), per-synapse regeneration
    state (out, in) and per-neuron pruning state (out,) of one layer."""

    def __init__(self, weight: torch.Tensor, prune_rate: float) -> None:
        top = weight.max().item()
        zeros = torch.zeros_like(weight)
        per_synapse = torch.zeros_like(synapses(weight))
        self.r_plus = torch.full_like(weight, top)
        self.r_minus = torch.full_like(weight, -top)
        self.n_plus, self.n_minus, self.n_zero = zeros.clone(), zeros.clone(), zeros.clone()
        self.c_plus, self.c_minus = zeros.clone(), zeros.clone()
        self.above = torch.zeros_like(weight, dtype=torch.bool)
        self.below = torch.zeros_like(weight, dtype=torch.bool)
        self.shrinking = torch.zeros_like(weight, dtype=torch.bool)
        self.prev_abs = weight.abs()
        self.mask = torch.ones_like(weight)
        self.regen_streak = per_synapse.clone()
        self.regen_last = torch.zeros_like(per_synapse, dtype=torch.bool)
        self.regrown_ever = torch.zeros_like(per_synapse, dtype=torch.bool)
        self.pruned = torch.zeros(weight.shape[0], dtype=torch.bool, device=weight.device)
        self.prune_rate = prune_rate
        self.regrown = 0  # regrowth events so far


def _follow_streak(
    w: torch.Tensor,
    bound: torch.Tensor,
    streak: torch.Tensor,
    count: torch.Tensor,
    overshoot: torch.Tensor,
    steps: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Move a spine bound by the summed overshoot / ``steps`` once a weight stayed beyond
    it ``steps`` times in a row.

    Returns the new bound, streak count and summed overshoot (both reset where it moved).
    """
    count = torch.where(streak, count + 1, 0.0)
    overshoot = torch.where(streak, overshoot + (w - bound), 0.0)
    moved = count >= steps
    bound = torch.where(moved, bound + overshoot / steps, bound)
    return bound, torch.where(moved, 0.0, count), torch.where(moved, 0.0, overshoot)


class StructureDevelopment:
    """Adaptive sparse structure development over a network's weight tensors.

    Args:
        weights: the float weight parameters, first layer first: (out, in) for fully
            connected layers, (out, in, k, k) for convolutions.
        prunable: per layer, whether its neurons may be pruned (not the output layer's).
        n_classes: K, the rate adaptation's denominator after the last pruned layer.
        config: the constants.
        biases: per layer its bias parameter (out,) or None; the bias of a neuron without
            a surviving synapse is zeroed, so that it can neither fire nor survive export.
    """

    def __init__(
        self,
        weights: list[torch.nn.Parameter],
        prunable: list[bool],
        n_classes: int,
        config: StructureConfig,
        biases: list[torch.nn.Parameter | None] | None = None,
    ) -> None:
        if len(weights) != len(prunable):
            raise ValueError("one prunable flag per weight tensor is needed")
        self.biases = biases or [None] * len(weights)
        if len(self.biases) != len(weights):
            raise ValueError("one bias (or None) per weight tensor is needed")
        self.weights = weights
        self.prunable = prunable
        self.n_classes = n_classes
        self.config = config
        self.rules = [config.constants(layer_kind(w)) for w in weights]
        self.states: list[_LayerState] | None = None
        self.step_count = 0

    @property
    def masks(self) -> list[torch.Tensor]:
        if self.states is None:
            return [torch.ones_like(w) for w in self.weights]
        return [s.mask for s in self.states]

    def report(self, integers: list[torch.Tensor] | None = None) -> dict:
        """Per layer: neurons pruned, regrowth events, rate p (%, None where no neuron
        is prunable), masked fraction of the weights; the paper's pruning rate (masked
        / all weights of the pruned layers); regrown synapses still unmasked.

        With the exported ``integers`` of every layer's weights also: regrown synapses
        with a non-zero integer weight, and pruned neurons that got one back.
        """
        states, masks = self.states or [], self.masks
        masked = [int((m == 0).sum()) for m in masks]
        pruned_layers = [i for i, p in enumerate(self.prunable) if p]
        total = sum(masks[i].numel() for i in pruned_layers)
        paper_rate = sum(masked[i] for i in pruned_layers) / total if total else 0.0
        report = {
            "pruned_neurons": [int(s.pruned.sum()) for s in states],
            "regrown_synapses": [s.regrown for s in states],
            "prune_rate_percent": [
                round(s.prune_rate, 2) if self.prunable[i] else None for i, s in enumerate(states)
            ],
            "masked_fraction": [round(n / masks[i].numel(), 4) for i, n in enumerate(masked)],
            "paper_pruning_rate": round(paper_rate, 4),
            "regrown_unmasked": [
                int((s.regrown_ever & (synapses(s.mask) > 0)).sum()) for s in states
            ],
        }
        if integers is not None and states:
            # integers come from the export path, on the CPU; the state may be on a GPU
            alive = [(integers[i].to(s.mask.device) * s.mask).abs() for i, s in enumerate(states)]
            report["regrown_exported"] = [
                int((s.regrown_ever & (synapses(alive[i]) > 0)).sum()) for i, s in enumerate(states)
            ]
            report["revived_neurons"] = [
                int((s.pruned & (alive[i].flatten(1).sum(dim=1) > 0)).sum())
                for i, s in enumerate(states)
            ]
        return report

    def apply_masks(self) -> None:
        """W <- W * M: masked weights back to exactly zero, dead neurons' biases too."""
        apply_masks(self.weights, self.masks, self.biases)

    @torch.no_grad()
    def step(self) -> None:
        """Run one structure step on the current weights."""
        t = self.step_count
        self.step_count += 1
        if self.states is None:
            self.states = [
                _LayerState(w.detach().clone(), rule.prune_rate_init)
                for w, rule in zip(self.weights, self.rules, strict=True)
            ]
            return
        cfg = self.config
        for index, (w, state) in enumerate(zip(self.weights, self.states, strict=True)):
            self._range_dynamics(w * state.mask, state)
            if t > cfg.plasticity_steps:
                w.copy_(torch.maximum(torch.minimum(w, state.r_plus), state.r_minus))
            if t > cfg.development_start:
                self._regenerate(w, state, self.rules[index], t)
                if self.prunable[index]:
                    self._prune_neurons(state)
                    self._adapt_rate(index, t)
            w.mul_(state.mask)
        _zero_dead_biases(self.masks, self.biases)

    def _range_dynamics(self, w: torch.Tensor, s: _LayerState) -> None:
        ts = self.config.plasticity_steps
        above = w >= s.r_plus
        s.r_plus, s.n_plus, s.c_plus = _follow_streak(
            w, s.r_plus, above & s.above, s.n_plus, s.c_plus, ts
        )
        s.above = above
        below = w <= s.r_minus  # the mirror image: the lower bound moves down
        s.r_minus, s.n_minus, s.c_minus = _follow_streak(
            w, s.r_minus, below & s.below, s.n_minus, s.c_minus, ts
        )
        s.below = below

        magnitude = w.abs()
        shrinking = magnitude < s.prev_abs
        s.n_zero = torch.where(shrinking & s.shrinking, s.n_zero + 1, 0.0)
        shrink = s.n_zero >= ts
        s.r_plus = torch.where(shrink, s.r_plus * self.config.shrink, s.r_plus)
        s.r_minus = torch.where(shrink, s.r_minus * self.config.shrink, s.r_minus)
        s.n_zero = torch.where(shrink, 0.0, s.n_zero)
        s.shrinking = shrinking
        s.prev_abs = magnitude

    def _regenerate(self, w: torch.Tensor, s: _LayerState, rule: LayerConstants, t: int) -> None:
        q = self.config.regen_percentile(rule.regen_q0, t)
        score = synapses(w)
        threshold = torch.quantile(score.flatten(), q / 100.0)
        eligible = (synapses(s.mask) == 0) & (score > threshold)
        # a streak grows only while a synapse stays eligible from one step to the next
        s.regen_streak = torch.where(eligible & s.regen_last, s.regen_streak + 1, 0.0)
        s.regen_last = eligible
        regrow = s.regen_streak > rule.regen_steps
        s.mask[regrow] = 1.0  # (out, in) selects whole kernels; W keeps its drifted value
        s.regen_streak = torch.where(regrow, 0.0, s.regen_streak)
        s.regrown_ever |= regrow
        s.regrown += int(regrow.sum())

    def _prune_neurons(self, s: _LayerState) -> None:
        target = int(s.mask.shape[0] * s.prune_rate / 100.0)
        missing = max(target - int(s.pruned.sum()), 0)
        spine = s.r_plus + s.r_minus.abs()
        # D_j = sum of unit(spine) * M; unit()'s division by the layer's spread is left
        # out: a positive factor for the whole layer changes no ranking
        activity = ((spine - spine.min()) * s.mask).flatten(1).sum(dim=1)
        activity[s.pruned] = math.inf  # cumulative: never picked a second time
        victims = torch.argsort(activity, stable=True)[:missing]
        s.pruned[victims] = True
        s.mask[victims] = 0.0

    def _alive(self, index: int) -> int:
        """A_l: neurons of layer ``index`` with at least theta surviving mask entries."""
        mask = self.states[index].mask
        return int((mask.flatten(1).sum(dim=1) >= self.rules[index].dead_synapses).sum())

    def _adapt_rate(self, index: int, t: int) -> None:
        """p_l += gain(t) * A_l / A_{l+1}, with A_{l+1} = K after the last pruned layer."""
        cfg, s = self.config, self.states[index]
        gain = cfg.rate_gain(layer_kind(s.mask), t)
        nxt = index + 1
        last = nxt == len(self.weights) or not self.prunable[nxt]
        following = self.n_classes if last else self._alive(nxt)
        ratio = self._alive(index) / max(following, 1)
        s.prune_rate = min(s.prune_rate + gain * ratio, cfg.prune_rate_max)


@torch.no_grad()
def apply_masks(
    weights: list[torch.Tensor], masks: list[torch.Tensor], biases: list[torch.Tensor | None]
) -> None:
    """W <- W * M in place, and the bias of each neuron with no synapse left to 0.

    Between structure steps masked weights drift with training; a run ends, and a
    training checkpoint is exported, with this applied.
    """
    for w, m in zip(weights, masks, strict=True):
        w.mul_(m)
    _zero_dead_biases(masks, biases)


@torch.no_grad()
def _zero_dead_biases(masks: list[torch.Tensor], biases: list[torch.Tensor | None]) -> None:
    for mask, bias in zip(masks, biases, strict=True):
        if bias is not None:
            bias[mask.flatten(1).sum(dim=1) == 0] = 0.0
