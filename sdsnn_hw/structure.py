"""SD-SNN structural development: spine ranges, regeneration, neuronal pruning.

A first version of docs' sdsnn-method (section "Structural development") for fully
connected layers. One call of :meth:`StructureDevelopment.step` is one structure step
(here: one epoch). Weights are edited in place; masks live here and say which
synapses survive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class StructureConfig:
    """Constants of the structural development, in structure steps.

    Attributes:
        plasticity_steps: T_s, streak length that moves or shrinks a spine range.
        shrink: E, factor applied to both range bounds after a shrinking streak.
        regen_q0: q0, start percentile of the regeneration threshold.
        regen_growth: base of the percentile schedule q_t = q0 + growth**(t - 2T_s - 1).
        regen_steps: T_g, steps a pruned synapse must stay above the percentile.
        dead_synapses: theta, a neuron with fewer surviving synapses counts as dead.
        prune_rate_init: initial pruning rate p of each pruned layer, in percent.
        prune_rate_max: cap on p, in percent.
        rate_gain_until: last step of the exponential rate gain; a small constant after.
        late_rate_gain: alpha after ``rate_gain_until``.
    """

    plasticity_steps: int = 3
    shrink: float = 0.75
    regen_q0: float = 60.0
    regen_growth: float = 1.1
    regen_steps: int = 2
    dead_synapses: int = 20
    prune_rate_init: float = 45.0
    prune_rate_max: float = 90.0
    rate_gain_until: int = 60
    late_rate_gain: float = 0.00075

    @property
    def development_start(self) -> int:
        """First step after which regeneration and pruning run (t > 2 T_s)."""
        return 2 * self.plasticity_steps


class _LayerState:
    """Per-synapse and per-neuron state of one layer, shaped like its weight (out, in)."""

    def __init__(self, weight: torch.Tensor, prune_rate: float) -> None:
        top = weight.max().item()
        zeros = torch.zeros_like(weight)
        self.r_plus = torch.full_like(weight, top)
        self.r_minus = torch.full_like(weight, -top)
        self.n_plus, self.n_minus, self.n_zero = zeros.clone(), zeros.clone(), zeros.clone()
        self.c_plus, self.c_minus = zeros.clone(), zeros.clone()
        self.above = torch.zeros_like(weight, dtype=torch.bool)
        self.below = torch.zeros_like(weight, dtype=torch.bool)
        self.shrinking = torch.zeros_like(weight, dtype=torch.bool)
        self.prev_abs = weight.abs()
        self.mask = torch.ones_like(weight)
        self.regen_streak = zeros.clone()
        self.pruned = torch.zeros(weight.shape[0], dtype=torch.bool)
        self.prune_rate = prune_rate
        self.regrown = 0  # synapses regenerated so far


def _follow_streak(
    w: torch.Tensor,
    bound: torch.Tensor,
    streak: torch.Tensor,
    count: torch.Tensor,
    overshoot: torch.Tensor,
    steps: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Move a spine bound by the mean overshoot once a weight stays beyond it ``steps`` times.

    Returns the new bound, streak count and summed overshoot (both reset where it moved).
    """
    count = torch.where(streak, count + 1, 0.0)
    overshoot = torch.where(streak, overshoot + (w - bound), 0.0)
    moved = count >= steps
    bound = torch.where(moved, bound + overshoot / steps, bound)
    return bound, torch.where(moved, 0.0, count), torch.where(moved, 0.0, overshoot)


class StructureDevelopment:
    """Adaptive sparse structure development over a list of weight matrices.

    Args:
        weights: the float weight parameters (out, in), first layer first.
        prunable: per layer, whether its neurons (rows) may be pruned.
        n_classes: K in the fully connected rate adaptation.
        config: the constants.
        biases: per layer its bias parameter (out,) or None; a pruned neuron's bias is
            zeroed with its synapses, so that it can neither fire nor survive export.
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
            raise ValueError("one prunable flag per weight matrix is needed")
        self.biases = biases or [None] * len(weights)
        if len(self.biases) != len(weights):
            raise ValueError("one bias (or None) per weight matrix is needed")
        self.weights = weights
        self.prunable = prunable
        self.n_classes = n_classes
        self.config = config
        self.states: list[_LayerState] | None = None
        self.step_count = 0

    def report(self) -> dict[str, list]:
        """Per layer: neurons pruned, synapses regenerated, final pruning rate p (%).

        Layers whose neurons are never pruned report ``None`` as their rate.
        """
        states = self.states or []
        return {
            "pruned_neurons": [int(s.pruned.sum()) for s in states],
            "regrown_synapses": [s.regrown for s in states],
            "prune_rate_percent": [
                round(s.prune_rate, 2) if prunable else None
                for s, prunable in zip(states, self.prunable, strict=True)
            ],
        }

    @property
    def masks(self) -> list[torch.Tensor]:
        if self.states is None:
            return [torch.ones_like(w) for w in self.weights]
        return [s.mask for s in self.states]

    @torch.no_grad()
    def apply_masks(self) -> None:
        """W <- W * M: pruned synapses back to exactly zero, pruned neurons' biases too."""
        for w, m in zip(self.weights, self.masks, strict=True):
            w.mul_(m)
        self._zero_pruned_biases()

    def _zero_pruned_biases(self) -> None:
        if self.states is None:
            return
        for bias, state in zip(self.biases, self.states, strict=True):
            if bias is not None:
                bias[state.pruned] = 0.0

    @torch.no_grad()
    def step(self) -> None:
        """Run one structure step on the current weights."""
        t = self.step_count
        self.step_count += 1
        if self.states is None:
            self.states = [
                _LayerState(w.detach().clone(), self.config.prune_rate_init) for w in self.weights
            ]
            return
        cfg = self.config
        for w, state, prunable in zip(self.weights, self.states, self.prunable, strict=True):
            self._range_dynamics(w * state.mask, state)
            if t > cfg.plasticity_steps:
                w.copy_(torch.maximum(torch.minimum(w, state.r_plus), state.r_minus))
            if t > cfg.development_start:
                self._regenerate(w, state, t)
                if prunable:
                    self._prune_neurons(state)
                    self._adapt_rate(state, t)
            w.mul_(state.mask)
        self._zero_pruned_biases()

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
        streak = shrinking & s.shrinking
        s.n_zero = torch.where(streak, s.n_zero + 1, 0.0)
        shrink = s.n_zero >= ts
        s.r_plus = torch.where(shrink, s.r_plus * self.config.shrink, s.r_plus)
        s.r_minus = torch.where(shrink, s.r_minus * self.config.shrink, s.r_minus)
        s.n_zero[shrink] = 0.0
        s.shrinking = shrinking
        s.prev_abs = magnitude

    def _regenerate(self, w: torch.Tensor, s: _LayerState, t: int) -> None:
        cfg = self.config
        q = min(cfg.regen_q0 + cfg.regen_growth ** (t - cfg.development_start - 1), 99.0)
        threshold = torch.quantile(w.flatten(), q / 100.0)
        eligible = (s.mask == 0) & (w > threshold)
        s.regen_streak = torch.where(eligible, s.regen_streak + 1, 0.0)
        regrow = s.regen_streak > cfg.regen_steps
        s.mask[regrow] = 1.0
        s.regen_streak[regrow] = 0.0
        s.regrown += int(regrow.sum())

    def _prune_neurons(self, s: _LayerState) -> None:
        n_neurons = s.mask.shape[0]
        target = int(n_neurons * s.prune_rate / 100.0)
        missing = target - int(s.pruned.sum())
        if missing <= 0:
            return
        spine = s.r_plus + s.r_minus.abs()
        spread = (spine.max() - spine.min()).clamp(min=1e-12)
        activity = ((spine - spine.min()) / spread * s.mask).sum(dim=1)
        activity[s.pruned] = math.inf
        victims = torch.argsort(activity, stable=True)[:missing]
        s.pruned[victims] = True
        s.mask[victims] = 0.0

    def _adapt_rate(self, s: _LayerState, t: int) -> None:
        cfg = self.config
        alive = int(((s.mask > 0).sum(dim=1) >= cfg.dead_synapses).sum())
        if t <= cfg.rate_gain_until:
            alpha = math.exp(-(t - cfg.development_start - 1))
        else:
            alpha = cfg.late_rate_gain
        s.prune_rate = min(s.prune_rate + alpha * alive / self.n_classes, cfg.prune_rate_max)
