"""Lane balancing: the exporter's renumbering of hidden units is exact and saves words."""

import numpy as np
import pytest

from sdsnn_hw.export import balance_lanes
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.lane_balance import balanced_banks, bank_loads, unit_order
from sdsnn_hw.layouts import words_per_input
from sdsnn_hw.manifest import Manifest
from sdsnn_hw.netspec import CONV
from sdsnn_hw.regression import CI_GROUPS, draw_case
from tests.networks import write_network


def test_two_crowded_banks_are_evened_out_by_hand() -> None:
    # units 0 and 2 (bank 0) both reach input 0, units 1 and 3 (bank 1) input 1: each
    # input streams 2 words at P = 2; the first swap that helps, units 0 and 1, makes
    # it 1 word each
    slots = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    assert bank_loads(slots, np.arange(4) % 2, 2).max(axis=0).tolist() == [2, 2]
    banks = balanced_banks(slots, 2)
    assert banks.tolist() == [1, 0, 0, 1]
    assert bank_loads(slots, banks, 2).max(axis=0).tolist() == [1, 1]
    # new unit r * P + p is bank p's r-th unit in trained order
    assert unit_order(banks, 2).tolist() == [1, 0, 2, 3]


@pytest.mark.parametrize("lanes", [1, 2, 4, 8])
def test_banks_keep_their_unit_counts_and_never_stream_more(rng, lanes) -> None:
    for units in (1, 5, 13, 24):
        slots = rng.integers(0, 4, (units, 9)) * (rng.random((units, 9)) < 0.5)
        banks = balanced_banks(slots, lanes)
        assert (
            np.bincount(banks, minlength=lanes).tolist()
            == np.bincount(np.arange(units) % lanes, minlength=lanes).tolist()
        )
        before = bank_loads(slots, np.arange(units) % lanes, lanes).max(axis=0).sum()
        assert bank_loads(slots, banks, lanes).max(axis=0).sum() <= before
        assert sorted(unit_order(banks, lanes).tolist()) == list(range(units))


def _by_trained_index(result, manifest: Manifest) -> list[np.ndarray]:
    """Each layer's spikes and membranes with the neurons put back in trained order."""
    return [
        trace[:, :, np.argsort(layer.neuron_index)]
        for traces in (result.spikes, result.membranes)
        for trace, layer in zip(traces, manifest.layers, strict=True)
    ]


@pytest.mark.parametrize("seed", [g for g, group in enumerate(CI_GROUPS) if len(group.shapes) > 1])
def test_balanced_exports_compute_the_same_network(tmp_path, seed) -> None:
    """Every random network with a hidden layer (conv, pooled, biased ones too): the
    renumbered export gives every neuron the same spikes and membranes, and its list
    layouts stream no more words."""
    case = draw_case(seed)
    lanes = case.group.lanes
    balanced = balance_lanes(case.layers, lanes)
    traces = []
    for name, layers in (("plain", case.layers), ("balanced", balanced)):
        manifest, _ = write_network(tmp_path / name, layers, case.inputs, lanes=lanes)
        result = run_network(GoldenNetwork.from_export(tmp_path / name / "export"), case.inputs)
        traces.append((result, _by_trained_index(result, manifest)))
    (plain, plain_traces), (renumbered, renumbered_traces) = traces
    for a, b in zip(plain_traces, renumbered_traces, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(plain.counts, renumbered.counts)
    for before, after in zip(case.layers, balanced, strict=True):
        layout = "tap_list" if before.kind == CONV else "csr_fanout"
        words = [words_per_input(x.weights, layout, lanes).sum() for x in (before, after)]
        assert words[1] <= words[0]
