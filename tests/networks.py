"""Small integer networks for tests: hand-made known answers and random ones."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

from sdsnn_hw.export import IntegerLayer, write_export
from sdsnn_hw.layouts import AUTO, DEFAULT_LANES
from sdsnn_hw.manifest import Manifest
from sdsnn_hw.neuron import LifParams
from sdsnn_hw.stimulus import Stimulus, save_stimulus
from tests.known_answers import KnownNetwork


def integer_layer(weights: np.ndarray, lif: LifParams, weight_bits: int = 8) -> IntegerLayer:
    weights = np.asarray(weights, dtype=np.int64)
    return IntegerLayer(weights, lif, weight_bits, 1.0, np.arange(weights.shape[0]))


def known_layers(case: KnownNetwork) -> list[IntegerLayer]:
    """The layers of a hand-worked case, each at its own weight width."""
    return [integer_layer(layer.weights, layer.lif, layer.weight_bits) for layer in case.layers]


def random_network(
    rng: np.random.Generator,
    sizes: tuple[int, ...],
    weight_bits: int,
    v_bits: int,
    density: float,
) -> list[IntegerLayer]:
    """Random sparse layers; thresholds and leaks drawn so that neurons fire sometimes."""
    limit = (1 << (weight_bits - 1)) - 1
    layers = []
    for n_in, n_out in pairwise(sizes):
        weights = rng.integers(-limit, limit + 1, size=(n_out, n_in))
        weights *= rng.random((n_out, n_in)) < density
        v_max = (1 << (v_bits - 1)) - 1
        v_th = int(rng.integers(1, min(v_max, 2 * limit) + 1))
        lif = LifParams(v_th=v_th, leak_shift=int(rng.integers(0, 4)), v_bits=v_bits)
        layers.append(integer_layer(weights, lif, weight_bits))
    return layers


def write_network(
    folder: Path,
    layers: list[IntegerLayer],
    inputs: np.ndarray,
    time_steps: int | None = None,
    lanes: int = DEFAULT_LANES,
    layout: str = AUTO,
) -> tuple[Manifest, Path]:
    """Export ``layers`` to ``folder/export`` and ``inputs`` (samples, time, n_in) beside it."""
    manifest = write_export(
        folder / "export",
        layers,
        layers[-1].weights.shape[0],
        time_steps or inputs.shape[1],
        lanes,
        layout,
    )
    stimulus = folder / "stimulus.npz"
    save_stimulus(stimulus, Stimulus(inputs.astype(np.uint8), np.zeros(len(inputs), np.int64)))
    return manifest, stimulus


def write_known_network(
    folder: Path, case: KnownNetwork, lanes: int = DEFAULT_LANES, layout: str = AUTO
) -> tuple[Manifest, Path]:
    """Export a hand-worked case to ``folder/export`` and its inputs beside it."""
    return write_network(folder, known_layers(case), case.inputs, lanes=lanes, layout=layout)
