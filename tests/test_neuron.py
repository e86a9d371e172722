import numpy as np
import pytest

from sdsnn_hw.layer_math import acc_bits
from sdsnn_hw.neuron import LifParams, lif_step, signed_bits_for, unsigned_bits_for
from tests.known_answers import LAYER_CASES, KnownAnswer
from tests.test_formats import contract_table


def _matrix(text: str) -> np.ndarray:
    """A contract table matrix: rows separated by ``;``, values by spaces."""
    return np.array([[int(v) for v in row.split()] for row in text.split(";")], np.int64)


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_lif_step_matches_hand_worked_answers(case: KnownAnswer) -> None:
    membrane = np.zeros(case.weights.shape[0], np.int64)
    for t, x in enumerate(case.inputs):
        spikes, membrane = lif_step(case.weights @ x, membrane, case.lif)
        np.testing.assert_array_equal(spikes, case.spikes[t], err_msg=f"spikes, step {t}")
        np.testing.assert_array_equal(membrane, case.membranes[t], err_msg=f"membrane, step {t}")


@pytest.mark.parametrize("row", contract_table("neuron-examples"), ids=lambda row: row[0])
def test_the_contract_neuron_examples_hold(row) -> None:
    """Contract section 3's table, run through the neuron step from the table alone; the
    table holds the cases every implementation's tests run (tests/known_answers.py)."""
    name, v_bits, leak, v_th, w_bits, acc, weights, inputs, spikes, membranes = row
    lif = LifParams(v_th=int(v_th), leak_shift=int(leak), v_bits=int(v_bits))
    weights, inputs = _matrix(weights), _matrix(inputs)
    assert acc_bits(weights, int(w_bits)) == int(acc)
    membrane = np.zeros(len(weights), np.int64)
    found_spikes, found_membranes = [], []
    for x in inputs:
        fired, membrane = lif_step(weights @ x, membrane, lif)
        found_spikes.append(fired)
        found_membranes.append(membrane)
    np.testing.assert_array_equal(found_spikes, _matrix(spikes))
    np.testing.assert_array_equal(found_membranes, _matrix(membranes))
    case = next(case for case in LAYER_CASES if case.name == name)
    assert (case.lif, case.weight_bits, case.acc_bits) == (lif, int(w_bits), int(acc))
    for known, table in [(case.weights, weights), (case.inputs, inputs)]:
        np.testing.assert_array_equal(known, table)
    np.testing.assert_array_equal(case.spikes, _matrix(spikes))
    np.testing.assert_array_equal(case.membranes, _matrix(membranes))


def test_leak_is_an_arithmetic_shift_rounding_down() -> None:
    params = LifParams(v_th=100, leak_shift=2, v_bits=16)
    _, after = lif_step(np.zeros(4, np.int64), np.array([-5, -4, 5, 7]), params)
    np.testing.assert_array_equal(after, [-2, -1, 1, 1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"v_th": 0, "leak_shift": 1, "v_bits": 8}, "v_th"),
        ({"v_th": 128, "leak_shift": 1, "v_bits": 8}, "v_th"),
        ({"v_th": 5, "leak_shift": 8, "v_bits": 8}, "leak_shift"),
        ({"v_th": 5, "leak_shift": 1, "v_bits": 1}, "v_bits"),
    ],
)
def test_invalid_parameters_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LifParams(**kwargs)


def test_bit_width_helpers() -> None:
    assert signed_bits_for(-128, 127) == 8
    assert signed_bits_for(-129, 0) == 9
    assert signed_bits_for(0, 128) == 9
    assert unsigned_bits_for(0) == 1
    assert unsigned_bits_for(255) == 8
    assert unsigned_bits_for(256) == 9
