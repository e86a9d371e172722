import numpy as np
import pytest

from sdsnn_hw.golden import GoldenNetwork, run_network
from tests.known_answers import CASES, KnownAnswer
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
