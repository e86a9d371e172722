import numpy as np
import pytest

from sdsnn_hw.golden import GoldenNetwork, run_network
from tests.known_answers import CASES, THRESHOLD_FLOOR_SATURATE, KnownAnswer
from tests.networks import integer_layer, random_network, write_network


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_golden_model_reproduces_known_answers_from_exported_files(
    tmp_path, case: KnownAnswer
) -> None:
    write_network(tmp_path, [integer_layer(case.weights, case.lif)], case.inputs[None])
    result = run_network(GoldenNetwork.from_export(tmp_path / "export"), case.inputs[None])
    np.testing.assert_array_equal(result.spikes[0][0], case.spikes)
    np.testing.assert_array_equal(result.membranes[0][0], case.membranes)
    # one synaptic operation per stored synapse of every input that spiked
    fanout = np.count_nonzero(case.weights, axis=0)
    assert result.synaptic_ops[0] == int((case.inputs @ fanout).sum())


def test_layers_feed_each_other_within_the_same_step(tmp_path, rng) -> None:
    layers = random_network(rng, (5, 4, 3), weight_bits=6, v_bits=10, density=0.7)
    inputs = (rng.random((6, 7, 5)) < 0.5).astype(np.uint8)
    write_network(tmp_path, layers, inputs)
    result = run_network(GoldenNetwork.from_export(tmp_path / "export"), inputs)
    # the second layer's current at step t comes from the first layer's spikes at step t
    hidden = result.spikes[0].astype(np.int64)
    first = layers[1].weights @ hidden[:, 0].T
    leaked_from_zero = np.clip(first.T, -512, 511)
    expected_fire = leaked_from_zero >= layers[1].lif.v_th
    np.testing.assert_array_equal(result.spikes[1][:, 0], expected_fire.astype(np.uint8))
    assert result.counts.shape == (6, 3)
    np.testing.assert_array_equal(result.predictions, np.argmax(result.counts, axis=1))


def test_costs_of_a_known_answer_worked_by_hand(tmp_path) -> None:
    """docs/microarchitecture.md: per layer step, cycles = words of the spiking inputs
    + D + 4. One lane, csr_fanout: words = fan-out (3, 2, 0), D = 3 neurons."""
    case = THRESHOLD_FLOOR_SATURATE

    write_network(
        tmp_path, [integer_layer(case.weights, case.lif)], case.inputs[None], lanes=1,
        layout="csr_fanout",
    )  # fmt: skip
    result = run_network(GoldenNetwork.from_export(tmp_path / "export"), case.inputs[None])
    # inputs t0 [1,1,0]: 5 words; t1 [1,0,0]: 3; t2 [1,1,0]: 5; t3 [0,0,1]: 0 (empty)
    assert result.step_cycles.tolist() == [[5 + 7, 3 + 7, 5 + 7, 0 + 7]]
    assert result.cycles.tolist() == [41]
    assert result.synaptic_ops.tolist() == [13]
    # pointer reads: 2 per spiking input that has words (input 2 has none)
    assert result.costs.ptr_reads.tolist() == [2 * 5]
    # the lane bound: ceil(fanout / 1) per spiking input + D per step
    assert result.costs.bound.tolist() == [13 + 4 * 3]
