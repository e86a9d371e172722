"""The cycle and memory-access model of the P-lane core, by hand and per sample."""

import numpy as np
import pytest

from sdsnn_hw.microarch import OVERHEAD, layer_costs, network_costs
from tests.known_answers import (
    THREE_LAYERS_CSR_P2,
    THREE_LAYERS_MIXED_P2,
    THREE_LAYERS_SAME_STEP,
    KnownCosts,
)

# 3 inputs, 3 neurons: neuron 0 <- input 2 (weight 1), neuron 1 <- input 0 (-2),
# neuron 2 <- input 0 (3); input 1 has no synapse.
HAND_WEIGHTS = np.array([[0, 0, 1], [-2, 0, 0], [3, 0, 0]])


def test_cycle_model_known_answers() -> None:
    # step 0: all three inputs spike; step 1: only input 2. P = 2, D = 2.
    spikes = np.array([[[1, 1, 1], [0, 0, 1]]])
    dense = layer_costs(HAND_WEIGHTS, "dense_rows", 2, spikes)
    # words per input: 2, 0, 2; cycles = words + D + OVERHEAD per step: W 4, then W 2
    assert dense.cycles.tolist() == [(4 + 2 + OVERHEAD) + (2 + 2 + OVERHEAD)]
    assert dense.step_cycles.tolist() == [[4 + 2 + OVERHEAD, 2 + 2 + OVERHEAD]]
    assert dense.synops.tolist() == [4]  # 2 + 1, then 1
    assert dense.ptr_reads.tolist() == [6]  # 2 per spiking input with words: 2 + 1 inputs
    assert dense.wrom_reads.tolist() == [6]
    assert dense.acc_reads.tolist() == dense.acc_writes.tolist() == [4 + 2 * 2 * 2]
    assert dense.mem_reads.tolist() == dense.mem_writes.tolist() == [8]
    # B = sum ceil(fanout / 2) + D per step: (1 + 0 + 1 + 2) + (1 + 2)
    assert dense.bound.tolist() == [7]
    banked = layer_costs(HAND_WEIGHTS, "csr_fanout", 2, spikes)
    # words per input: 1, 0, 1
    assert banked.cycles.tolist() == [(2 + 2 + OVERHEAD) + (1 + 2 + OVERHEAD)]
    assert banked.wrom_reads.tolist() == [3]
    assert banked.bound.tolist() == [7]
    both = network_costs([HAND_WEIGHTS] * 2, ["dense_rows", "csr_fanout"], 2, [spikes] * 2)
    # the two layers one after another: dense (W 4, 2) then banked (W 2, 1), D = 2
    assert both.cycles.tolist() == [(4 + 2) + (2 + 2) + (2 + 2) + (1 + 2) + 4 * OVERHEAD]


def test_cycle_model_is_per_sample() -> None:
    rng = np.random.default_rng(3)
    limit = 7
    weights = rng.integers(-limit, limit + 1, (10, 6)) * (rng.random((10, 6)) < 0.5)
    spikes = (rng.random((5, 4, 6)) < 0.5).astype(np.uint8)
    together = layer_costs(weights, "csr_fanout", 4, spikes)
    for n in range(5):
        alone = layer_costs(weights, "csr_fanout", 4, spikes[n : n + 1])
        assert alone.cycles[0] == together.cycles[n]
        assert alone.acc_reads[0] == together.acc_reads[n]


@pytest.mark.parametrize("costs", [THREE_LAYERS_CSR_P2, THREE_LAYERS_MIXED_P2])
def test_cycle_model_of_a_three_layer_known_answer(costs: KnownCosts) -> None:
    """The hand-worked costs of three_layers_same_step; each layer is driven by the
    hand-worked spikes of the layer before it (tests/known_answers.py)."""
    case = THREE_LAYERS_SAME_STEP
    layer_inputs = [case.inputs, *(layer.spikes for layer in case.layers[:-1])]
    weights = [layer.weights for layer in case.layers]
    total = network_costs(weights, list(costs.layouts), costs.lanes, layer_inputs)
    assert total.step_cycles.tolist() == [costs.step_cycles()]
    assert total.cycles.tolist() == [sum(costs.step_cycles())]
    assert total.synops.tolist() == [costs.synops]
    assert total.ptr_reads.tolist() == [costs.ptr_reads]
    assert total.wrom_reads.tolist() == [costs.wrom_reads]
    assert total.acc_reads.tolist() == total.acc_writes.tolist() == [costs.acc_accesses]
    assert total.mem_reads.tolist() == total.mem_writes.tolist() == [costs.mem_accesses]
    assert total.bound.tolist() == [costs.bound]
    # layer 0 alone: cycles = W + D + OVERHEAD with D = 2 at every one of the 4 steps
    first = layer_costs(weights[0], costs.layouts[0], costs.lanes, case.inputs)
    assert first.step_cycles.tolist() == [[w + 2 + OVERHEAD for w in costs.words[0]]]
