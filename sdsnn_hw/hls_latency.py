"""Latency model of the HLS core, from its loop structure (``hls/sdsnn_layer.h``).

A layer step runs three loops one after another, each pipelined at II = 1:

- SCAN, one iteration per spike-queue word: ``ceil(N_RAW / QUEUE_BITS)`` for the
  ``N_RAW`` input positions of the map before pooling;
- ISSUE, one iteration per weight word of every event and in-bounds kernel tap: the
  RTL's issue count, ``sum over events of words * taps_in`` (fc and ``tap_list``: one
  iteration per word);
- UPDATE, one iteration per bank address (``D``).

A pipelined loop of ``N`` iterations at II = 1 and depth ``d`` takes ``N + d - 1``
cycles plus one to enter, so a layer step costs ``ceil(N_RAW / QUEUE_BITS) + issue + D
+ SCAN_DEPTH + ISSUE_DEPTH + UPDATE_DEPTH`` cycles; the word width and the depths are
read from the C++ header, the one place they are stated. Layers run one after another
within a step, as in the RTL.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from sdsnn_hw.golden import GoldenNetwork
from sdsnn_hw.hls_config import HLS_DIR
from sdsnn_hw.layer_math import layer_inputs, tap_reach
from sdsnn_hw.layouts import REGISTRY, bank_depth, words_per_input
from sdsnn_hw.netspec import CONV

II = 1
"""Initiation interval of every loop."""
DEPTH_NAMES = ("SCAN_DEPTH", "ISSUE_DEPTH", "UPDATE_DEPTH")
QUEUE_NAME = "QUEUE_BITS"


@dataclass(frozen=True)
class LoopTrips:
    """Iterations of one layer's loops per sample, summed over the steps (samples,)."""

    scan: np.ndarray
    issue: np.ndarray
    update: np.ndarray
    steps: int


def _header_constant(name: str) -> int:
    path = HLS_DIR / "sdsnn_layer.h"
    found = re.search(rf"\b{name} = (\d+)", path.read_text())
    if found is None:
        raise ValueError(f"{path}: no {name}")
    return int(found.group(1))


def pipeline_depths() -> dict[str, int]:
    """The loops' pipeline depths as ``hls/sdsnn_layer.h`` states them."""
    return {name: _header_constant(name) for name in DEPTH_NAMES}


def queue_bits() -> int:
    """Input positions the SCAN loop takes per iteration (``hls/sdsnn_layer.h``)."""
    return _header_constant(QUEUE_NAME)


def layer_trips(net: GoldenNetwork, index: int, spikes: np.ndarray) -> LoopTrips:
    """Loop iterations of layer ``index`` driven by ``spikes`` (samples, time, inputs)."""
    layer = net.layers[index]
    shape = layer.shape
    samples, steps = spikes.shape[:2]
    conv = layer.kind == CONV
    events = layer_inputs(spikes.reshape(samples * steps, -1), shape.in_shape, shape.pool, conv)
    events = np.asarray(events, dtype=np.int64).reshape(samples, steps, -1)
    words = words_per_input(layer.weights, layer.layout, net.lanes)
    out_c, out_h, out_w = shape.out_shape
    # iterations per event at each position (c, y, x): a word per in-bounds tap, or one
    taps_in = np.outer(
        tap_reach(out_h, shape.kernel).sum(axis=1), tap_reach(out_w, shape.kernel).sum(axis=1)
    )
    if not conv or REGISTRY[layer.layout].per_tap:
        taps_in = np.ones_like(taps_in)
    per_event = (words[:, None, None] * taps_in[None]).ravel()
    depth = bank_depth(out_c, net.lanes) * out_h * out_w
    scan = -(-math.prod(shape.in_shape) // queue_bits())
    return LoopTrips(
        scan=np.full(samples, scan * steps, np.int64),
        issue=events.sum(axis=1) @ per_event,
        update=np.full(samples, depth * steps, np.int64),
        steps=steps,
    )


def trips_cycles(trips: LoopTrips) -> np.ndarray:
    """Cycles of a layer's loops, per sample."""
    fill = sum(pipeline_depths().values())
    return (trips.scan + trips.issue + trips.update) * II + fill * trips.steps


def network_cycles(net: GoldenNetwork, layer_spikes: list[np.ndarray]) -> np.ndarray:
    """Modelled HLS cycles per sample; ``layer_spikes[l]`` drives layer ``l`` (the
    network input, then each layer's output spikes)."""
    total = None
    for index, spikes in enumerate(layer_spikes):
        cycles = trips_cycles(layer_trips(net, index, spikes))
        total = cycles if total is None else total + cycles
    return total
