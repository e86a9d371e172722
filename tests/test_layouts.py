"""Memory layouts: the contract's worked examples, round trips and the size choice."""

import numpy as np
import pytest

from sdsnn_hw.layouts import (
    CYCLE_SLACK,
    LANE_CHOICES,
    LAYOUTS,
    REGISTRY,
    decode,
    encode,
    encode_choice,
    event_cycles,
    layouts_for,
)
from sdsnn_hw.memfile import format_mem


def test_csr_fanout_at_one_lane_is_the_contract_example() -> None:
    # contract section 5: input 0 -> neuron 1 (-2) and neuron 2 (3), input 1 nothing,
    # input 2 -> neuron 0 (1); W_BITS 4, a 2-bit neuron address above each weight
    weights = np.array([[0, 0, 1], [-2, 0, 0], [3, 0, 0]])
    image = encode(weights, weight_bits=4, lanes=1, layout="csr_fanout")
    assert image.ptr.tolist() == [0, 2, 2, 3]
    assert format_mem(image.words, image.word_bits) == "1e\n23\n01\n"


def test_dense_rows_example() -> None:
    # 2 lanes, 3 neurons: D = 2 words per non-empty input, slot p = neuron 2r + p
    weights = np.array([[1, 0], [-1, 0], [2, 0]])
    image = encode(weights, weight_bits=4, lanes=2, layout="dense_rows")
    assert image.ptr.tolist() == [0, 2, 2]
    # word 0: neuron 1 (-1 = 0xf) in slot 1, neuron 0 (1) in slot 0; word 1: neuron 2
    assert format_mem(image.words, image.word_bits) == "f1\n02\n"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("lanes", LANE_CHOICES)
def test_every_layout_round_trips(rng, layout, lanes) -> None:
    for shape, density in [((1, 1), 1.0), ((13, 7), 0.4), ((9, 20), 0.0), ((5, 3), 1.0)]:
        weights = rng.integers(-31, 32, size=shape) * (rng.random(shape) < density)
        image = encode(weights, 6, lanes, layout)
        np.testing.assert_array_equal(decode(image), weights)
        assert len(image.words) >= 1


def test_auto_keeps_the_smallest_and_reports_every_size(rng) -> None:
    dense = rng.integers(1, 8, size=(16, 10))
    sparse = dense * (rng.random((16, 10)) < 0.1)
    for weights, winner in [(dense, "dense_rows"), (sparse, "csr_fanout")]:
        image, sizes = encode_choice(weights, 4, 4)
        assert set(sizes) == set(LAYOUTS)
        assert image.layout == winner == min(sizes, key=sizes.get)


def test_a_weight_outside_the_narrow_range_is_refused() -> None:
    with pytest.raises(ValueError, match=r"outside -7\.\.7"):
        encode(np.array([[-8]]), 4, 1, "csr_fanout")


def test_csr_fanout_with_two_lanes_by_hand() -> None:
    # input 0: bank 0 holds neuron 2 (address 1, weight 3), bank 1 neuron 1 (0, -2);
    # input 2: bank 0 neuron 0 (address 0, weight 1); 1-bit addresses above 4-bit weights
    weights = np.array([[0, 0, 1], [-2, 0, 0], [3, 0, 0]])
    image = encode(weights, weight_bits=4, lanes=2, layout="csr_fanout")
    slot0, slot1 = (1 << 4) | 3, (0 << 4) | 0xE
    assert image.ptr.tolist() == [0, 1, 1, 2]
    assert list(image.words) == [(slot1 << 5) | slot0, 0x001]
    assert (image.ptr_bits, image.word_bits, image.addr_bits) == (2, 10, 1)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_all_zero_layer_stores_one_filler_word(layout) -> None:
    image = encode(np.zeros((5, 3), np.int64), 4, 4, layout)
    assert image.ptr.tolist() == [0, 0, 0, 0]
    assert image.words == (0,)
    np.testing.assert_array_equal(decode(image), np.zeros((5, 3)))


def test_the_registry_lists_each_kinds_layouts_dense_first() -> None:
    assert layouts_for("fc") == LAYOUTS == ("dense_rows", "csr_fanout")
    assert layouts_for("conv") == ("dense_kernels", "kernel_list", "tap_list")
    conv = [REGISTRY[name] for name in layouts_for("conv")]
    assert [(layout.addressed, layout.per_tap) for layout in conv] == [
        (False, False),
        (True, False),
        (True, True),
    ]


def test_auto_trades_bits_for_cycles_only_beyond_the_slack(rng) -> None:
    # 24 neurons at P = 8: a full input streams 3 words in both layouts; an input with
    # one weight in each bank 3 in dense_rows (64-bit words), 1 in csr_fanout (80-bit)
    def layer(full: int, spread: int) -> np.ndarray:
        weights = np.zeros((24, full + spread), np.int64)
        weights[:, :full] = rng.integers(1, 128, (24, full))
        weights[:8, full:] = rng.integers(1, 128, (8, spread))
        return weights

    faster = layer(4, 1)  # csr: 13 of dense's 15 cycles, beyond the slack
    assert event_cycles(faster, "csr_fanout", 8) * CYCLE_SLACK < 3.0
    assert event_cycles(faster, "dense_rows", 8) == 3.0
    image, sizes = encode_choice(faster, 8, 8)
    assert sizes["dense_rows"] < sizes["csr_fanout"]
    assert image.layout == "csr_fanout"
    close = layer(8, 1)  # csr: 25 of 27 cycles, within the slack: the smaller one
    assert event_cycles(close, "csr_fanout", 8) * CYCLE_SLACK > 3.0
    assert encode_choice(close, 8, 8)[0].layout == "dense_rows"
    conv = np.ones((8, 1, 3, 3), np.int64)
    conv[:, :, 0] = 0  # 6 of 9 taps: tap_list streams 6 words, kernel layouts 9 cycles
    assert event_cycles(conv, "tap_list", 8) == 6.0 < CYCLE_SLACK * 6
    assert event_cycles(conv, "dense_kernels", 8) == 9.0
    assert encode_choice(conv, 4, 8)[0].layout == "tap_list"


@pytest.mark.parametrize(
    ("fc", "conv"), [("csr_fanout", "kernel_list"), ("dense_rows", "dense_kernels")]
)
@pytest.mark.parametrize("lanes", LANE_CHOICES)
def test_an_fc_layout_is_its_conv_layout_with_one_by_one_kernels(rng, fc, conv, lanes) -> None:
    weights = rng.integers(-7, 8, size=(11, 6)) * (rng.random((11, 6)) < 0.5)
    flat, kernels = encode(weights, 4, lanes, fc), encode(weights[:, :, None, None], 4, lanes, conv)
    assert flat.words == kernels.words and flat.ptr.tolist() == kernels.ptr.tolist()
    assert flat.word_bits == kernels.word_bits
