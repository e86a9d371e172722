import numpy as np
import pytest

from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.microarch import OVERHEAD
from tests.known_answers import (
    LAYER_CASES,
    NETWORK_CASES,
    THREE_LAYERS_CSR_P2,
    THREE_LAYERS_SAME_STEP,
    THRESHOLD_FLOOR_SATURATE,
    KnownAnswer,
    KnownNetwork,
)
from tests.networks import integer_layer, random_network, write_known_network, write_network


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_golden_model_reproduces_known_answers_from_exported_files(
    tmp_path, case: KnownAnswer
) -> None:
    layer = integer_layer(case.weights, case.lif, case.weight_bits)
    manifest, _ = write_network(tmp_path, [layer], case.inputs[None])
    # the exporter's ACC_BITS is the hand-worked one: an accumulator one bit narrower
    # would wrap the currents of accumulator_exact_width
    assert manifest.layers[0].acc_bits == case.acc_bits
    result = run_network(GoldenNetwork.from_export(tmp_path / "export"), case.inputs[None])
    np.testing.assert_array_equal(result.spikes[0][0], case.spikes)
    np.testing.assert_array_equal(result.membranes[0][0], case.membranes)
    # one synaptic operation per stored synapse of every input that spiked
    fanout = np.count_nonzero(case.weights, axis=0)
    assert result.synaptic_ops[0] == int((case.inputs @ fanout).sum())


@pytest.mark.parametrize("case", NETWORK_CASES, ids=lambda c: c.name)
def test_golden_model_reproduces_known_networks_from_exported_files(
    tmp_path, case: KnownNetwork
) -> None:
    """Every layer's spikes and membranes at every step of every sample, as worked out."""
    manifest, _ = write_known_network(tmp_path, case)
    assert [spec.acc_bits for spec in manifest.layers] == [k.acc_bits for k in case.layers]
    result = run_network(GoldenNetwork.from_export(tmp_path / "export"), case.inputs)
    for i, known in enumerate(case.layers):
        np.testing.assert_array_equal(result.spikes[i], known.spikes, err_msg=f"layer {i}")
        np.testing.assert_array_equal(result.membranes[i], known.membranes, err_msg=f"layer {i}")
    assert result.predictions.tolist() == list(case.predictions)


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
    + D + OVERHEAD. One lane, csr_fanout: words = fan-out (3, 2, 0), D = 3 neurons."""
    case = THRESHOLD_FLOOR_SATURATE

    write_network(
        tmp_path, [integer_layer(case.weights, case.lif)], case.inputs[None], lanes=1,
        layout="csr_fanout",
    )  # fmt: skip
    result = run_network(GoldenNetwork.from_export(tmp_path / "export"), case.inputs[None])
    # inputs t0 [1,1,0]: 5 words; t1 [1,0,0]: 3; t2 [1,1,0]: 5; t3 [0,0,1]: 0 (empty)
    # OVERHEAD by name: the cycle model may change it, the hand-worked W and D stay
    per_step = 3 + OVERHEAD
    assert result.step_cycles.tolist() == [[5 + per_step, 3 + per_step, 5 + per_step, per_step]]
    assert result.cycles.tolist() == [13 + 4 * per_step]
    assert result.synaptic_ops.tolist() == [13]
    # pointer reads: 2 per spiking input that has words (input 2 has none)
    assert result.costs.ptr_reads.tolist() == [2 * 5]
    # the lane bound: ceil(fanout / 1) per spiking input + D per step
    assert result.costs.bound.tolist() == [13 + 4 * 3]


def test_costs_of_a_three_layer_known_answer_worked_by_hand(tmp_path) -> None:
    """Every counter of three_layers_same_step, P = 2, csr_fanout (worked out in
    tests/known_answers.py): cycles = W + D + OVERHEAD per layer step."""
    costs = THREE_LAYERS_CSR_P2
    write_known_network(tmp_path, THREE_LAYERS_SAME_STEP, costs.lanes, "csr_fanout")
    net = GoldenNetwork.from_export(tmp_path / "export")
    assert [layer.layout for layer in net.layers] == list(costs.layouts)
    result = run_network(net, THREE_LAYERS_SAME_STEP.inputs)
    assert result.step_cycles.tolist() == [costs.step_cycles()]
    assert result.cycles.tolist() == [sum(costs.step_cycles())]
    assert result.synaptic_ops.tolist() == [costs.synops]
    assert result.costs.ptr_reads.tolist() == [costs.ptr_reads]
    assert result.costs.wrom_reads.tolist() == [costs.wrom_reads]
    assert result.costs.acc_reads.tolist() == result.costs.acc_writes.tolist()
    assert result.costs.acc_reads.tolist() == [costs.acc_accesses]
    assert result.costs.mem_reads.tolist() == result.costs.mem_writes.tolist()
    assert result.costs.mem_reads.tolist() == [costs.mem_accesses]
    assert result.costs.bound.tolist() == [costs.bound]
