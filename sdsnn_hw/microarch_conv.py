"""Cycle and memory-access model of the core's conv layers (contract section 7.1).

What the RTL core (``rtl_sim/hdl/lif_core.sv`` with ``CONV = 1``) spends, so that its
counters can be checked against these numbers exactly. Lanes run over output
channels: neuron ``(o, y, x)`` of an ``O x H x W`` output map lives in bank ``o % P``
at address ``(o // P) * H * W + y * W + x``; a bank holds ``D = ceil(O / P) * H * W``
neurons.

Every input spike is one *event*; behind an ``AP<k>`` every spike of a k x k window is
its own event at the pooled position, so the events at a position are the window's
count. An event at position ``(y, x)`` of input channel ``c`` streams the words of
``c`` (:func:`sdsnn_hw.layouts.words_per_input`); each word spends one cycle per kernel
tap ``(dy, dx)`` whose target ``(y + K//2 - dy, x + K//2 - dx)`` lies inside the map,
its ``P`` lanes adding that tap of ``P`` kernels to ``P`` neurons in ``P`` banks. Per
layer and time step, summed over the events::

    cycles      = sum words_c * taps_in(y, x) + D + OVERHEAD + TAP_STAGES
                  (tap_list: sum words_c + D + OVERHEAD + TAP_STAGES)
    synops      = sum (non-zero weights at in-bounds taps of c's kernels)
    ptr_reads   = 2 * (events of channels that own words)
    wrom_reads  = sum words_c                 (a word is read once, held for its taps)
    acc_reads   = acc_writes = synops + P * D
    mem_reads   = mem_writes = P * D
    bound B(P)  = sum ceil(synops_event / P) + D

With ``tap_list`` every slot holds one tap, so a word is one cycle with each lane on
its own tap; a lane whose tap falls outside the map idles in that cycle.

``OVERHEAD`` is the fc layers', :data:`sdsnn_hw.microarch.OVERHEAD`, read when
called; a conv layer adds :data:`TAP_STAGES`. The bias costs no cycle: the
accumulator restarts at it after the update pass reads it.
"""

from __future__ import annotations

import numpy as np

from sdsnn_hw import microarch
from sdsnn_hw.layer_math import tap_reach
from sdsnn_hw.layouts import REGISTRY, bank_depth, words_per_input
from sdsnn_hw.microarch import Costs

TAP_STAGES = 1
"""Stages a conv layer adds to the fc pipeline: between the weight word register and
the accumulator read, the tap stage that holds a word for each of its taps (and the
base address it needs, computed beside the word register)."""


def layer_costs(weights: np.ndarray, layout: str, lanes: int, events: np.ndarray) -> Costs:
    """Costs of one conv layer driven by ``events``.

    Args:
        weights: integer weights (out_channels, in_channels, K, K).
        layout: a conv layout (``dense_kernels``, ``kernel_list``, ``tap_list``).
        lanes: P.
        events: (samples, time, in_channels, H, W) input events per position: the
            spikes, or behind ``AP<k>`` the k x k window counts.
    """
    weights = np.asarray(weights)
    out_channels, in_channels, kernel, _ = weights.shape
    events = np.asarray(events, dtype=np.int64)
    if events.ndim != 5 or events.shape[2] != in_channels:
        raise ValueError(f"events must be (samples, time, {in_channels}, H, W), got {events.shape}")
    samples, steps, _, height, width = events.shape
    depth = bank_depth(out_channels, lanes) * height * width
    words = words_per_input(weights, layout, lanes)  # (C,)
    reach_y = tap_reach(height, kernel).astype(np.int64)  # (H, K)
    reach_x = tap_reach(width, kernel).astype(np.int64)  # (W, K)
    taps_in = np.outer(reach_y.sum(axis=1), reach_x.sum(axis=1))  # (H, W)
    # per event position (c, y, x): cycles, synaptic operations, words
    held = np.ones_like(taps_in) if REGISTRY[layout].per_tap else taps_in  # cycles per word
    cycles = (words[:, None, None] * held[None]).ravel()
    nonzero = (weights != 0).astype(np.int64)
    synops = np.einsum("ocab,ya,xb->cyx", nonzero, reach_y, reach_x).ravel()
    position_words = np.repeat(words, height * width)
    flat = events.reshape(samples, steps, -1)
    return microarch.event_costs(flat, cycles, synops, position_words, lanes, depth, TAP_STAGES)
