"""The cycle and memory-access model of the P-lane core, by hand and per sample."""

import numpy as np

from sdsnn_hw.microarch import OVERHEAD, layer_costs, network_costs

# 3 inputs, 3 neurons: neuron 0 <- input 2 (weight 1), neuron 1 <- input 0 (-2),
# neuron 2 <- input 0 (3); input 1 has no synapse.
HAND_WEIGHTS = np.array([[0, 0, 1], [-2, 0, 0], [3, 0, 0]])


def test_cycle_model_known_answers() -> None:
    # step 0: all three inputs spike; step 1: only input 2. P = 2, D = 2.
    spikes = np.array([[[1, 1, 1], [0, 0, 1]]])
    dense = layer_costs(HAND_WEIGHTS, "dense_rows", 2, spikes)
    # words per input: 2, 0, 2; cycles = words + D + 4 per step: (4+6) + (2+6)
    assert dense.cycles.tolist() == [18]
    assert dense.step_cycles.tolist() == [[10, 8]]
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
    assert both.cycles.tolist() == [33]


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
