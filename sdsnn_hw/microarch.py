"""Cycle and memory-access model of the P-lane core (docs/microarchitecture.md).

The one place that says how many cycles, synaptic operations and memory accesses the
``rtl_sim/lanes`` core spends; its counters must equal these numbers exactly. Per layer
and time step, with ``x_j`` the input spikes, ``words_j`` the weight-ROM words of input
``j`` (:func:`sdsnn_hw.layouts.words_per_input`), ``fanout_j`` its non-zero weights and
``D = ceil(N_OUT / P)``::

    cycles      = sum_j x_j * words_j + D + OVERHEAD        (OVERHEAD = 8)
    synops      = sum_j x_j * fanout_j
    ptr_reads   = 2 * sum_j x_j * [words_j > 0]
    wrom_reads  = sum_j x_j * words_j
    acc_reads   = acc_writes = synops + P * D
    mem_reads   = mem_writes = P * D
    bound B(P)  = sum_j x_j * ceil(fanout_j / P) + D

A network step runs its layers one after another, so its cycles are the layers' sum.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sdsnn_hw.layouts import bank_depth, words_per_input

OVERHEAD = 8
"""Cycles per layer step beyond words and update addresses: accept, three spike-queue
stages, queue-to-pointer, weight-ROM-to-accumulator-read, and the last update write
(see the doc, section 5)."""


@dataclass(frozen=True)
class Costs:
    """Per-sample totals, each an int64 array (samples,) summed over the time steps.

    Attributes:
        step_cycles: core cycles of each step, (samples, time).
        cycles: core cycles from each step's accept to its done (docs, section 5).
        synops: non-zero weights accumulated.
        ptr_reads, wrom_reads: pointer-ROM and weight-ROM words read.
        acc_reads, acc_writes: accumulator bank words read and written (all banks).
        mem_reads, mem_writes: membrane bank words read and written (all banks).
        bound: B(P), the ideal lane-limited cycle count.
    """

    step_cycles: np.ndarray
    cycles: np.ndarray
    synops: np.ndarray
    ptr_reads: np.ndarray
    wrom_reads: np.ndarray
    acc_reads: np.ndarray
    acc_writes: np.ndarray
    mem_reads: np.ndarray
    mem_writes: np.ndarray
    bound: np.ndarray

    def __add__(self, other: Costs) -> Costs:
        names = [f.name for f in fields(self)]
        return Costs(**{name: getattr(self, name) + getattr(other, name) for name in names})

    def as_dict(self) -> dict[str, list[int]]:
        """Plain lists, e.g. for a JSON report."""
        return {f.name: getattr(self, f.name).tolist() for f in fields(self)}


def layer_costs(weights: np.ndarray, layout: str, lanes: int, spikes: np.ndarray) -> Costs:
    """Costs of one layer driven by ``spikes`` (samples, time, n_in) of 0/1.

    Args:
        weights: dense integer weights (n_out, n_in).
        layout: ``dense_rows`` or ``csr_fanout``.
        lanes: P.
        spikes: the layer's input spikes per sample and step.
    """
    weights = np.asarray(weights)
    n_out, n_in = weights.shape
    spikes = np.asarray(spikes, dtype=np.int64)
    if spikes.ndim != 3 or spikes.shape[2] != n_in:
        raise ValueError(f"spikes must be (samples, time, {n_in}), got {spikes.shape}")
    depth = bank_depth(n_out, lanes)
    words = words_per_input(weights, layout, lanes)
    fanout = np.count_nonzero(weights, axis=0).astype(np.int64)
    return event_costs(spikes, words, fanout, words, lanes, depth)


def event_costs(
    events: np.ndarray,
    cycles: np.ndarray,
    synops: np.ndarray,
    words: np.ndarray,
    lanes: int,
    depth: int,
    extra_stages: int = 0,
) -> Costs:
    """Costs of a layer from what one event at each input position spends.

    Args:
        events: (samples, time, positions) events per position and step.
        cycles, synops, words: per position, the issue cycles, non-zero weights and
            weight-memory words one event spends.
        lanes: P.
        depth: D, bank words per lane.
        extra_stages: pipeline stages the layer kind adds to :data:`OVERHEAD`.
    """
    steps = events.shape[1]
    per_sample = events.sum(axis=1)  # (samples, positions)
    step_cycles = events @ cycles + depth + OVERHEAD + extra_stages
    total_synops = per_sample @ synops
    bank_words = steps * lanes * depth
    return Costs(
        step_cycles=step_cycles,
        cycles=step_cycles.sum(axis=1),
        synops=total_synops,
        ptr_reads=2 * (per_sample @ (words > 0).astype(np.int64)),
        wrom_reads=per_sample @ words,
        acc_reads=total_synops + bank_words,
        acc_writes=total_synops + bank_words,
        mem_reads=np.full_like(total_synops, bank_words),
        mem_writes=np.full_like(total_synops, bank_words),
        bound=per_sample @ (-(-synops // lanes)) + steps * depth,
    )


def network_costs(
    weights: list[np.ndarray], layouts: list[str], lanes: int, layer_inputs: list[np.ndarray]
) -> Costs:
    """Sum of :func:`layer_costs` over layers; ``layer_inputs[l]`` drives layer ``l``."""
    parts = [
        layer_costs(w, layout, lanes, x)
        for w, layout, x in zip(weights, layouts, layer_inputs, strict=True)
    ]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
