import numpy as np
import pytest

from sdsnn_hw.sparse import decode_fanout, encode_fanout


def test_roundtrip_of_a_random_sparse_matrix(rng: np.random.Generator) -> None:
    weights = rng.integers(-31, 32, size=(37, 23)) * (rng.random((37, 23)) < 0.3)
    layout = encode_fanout(weights, weight_bits=6)
    assert layout.nnz == np.count_nonzero(weights)
    assert len(layout.ptr) == 24 and layout.ptr[-1] == layout.nnz
    decoded = decode_fanout(layout.ptr, layout.syn, 37, layout.index_bits, 6)
    np.testing.assert_array_equal(decoded, weights)


def test_word_layout_puts_the_weight_low_and_the_target_high() -> None:
    # input 0 -> neurons 1 (w=-2) and 2 (w=3); input 1 -> nothing; input 2 -> neuron 0 (w=1)
    weights = np.array([[0, 0, 1], [-2, 0, 0], [3, 0, 0]])
    layout = encode_fanout(weights, weight_bits=4)
    assert layout.ptr.tolist() == [0, 2, 2, 3]
    assert layout.index_bits == 2
    # {post, weight}: (1 << 4) | 0b1110, (2 << 4) | 0b0011, (0 << 4) | 0b0001
    assert layout.syn.tolist() == [0x1E, 0x23, 0x01]


def test_an_empty_layer_keeps_one_filler_word() -> None:
    layout = encode_fanout(np.zeros((3, 2), np.int64), weight_bits=4)
    assert layout.nnz == 0 and layout.syn.tolist() == [0] and layout.ptr.tolist() == [0, 0, 0]


def test_weights_outside_the_narrow_range_are_refused() -> None:
    with pytest.raises(ValueError, match="narrow 4-bit range"):
        encode_fanout(np.array([[-8]]), weight_bits=4)


@pytest.mark.parametrize(
    ("ptr", "syn", "message"),
    [
        ([0, 2, 1], [0x10, 0x11], "monotone"),
        ([0, 1, 3], [0x10, 0x11], "monotone"),
        ([0, 1], [0x70], "outside"),
        ([0, 2], [0x11, 0x11], "strictly ascending"),
    ],
)
def test_corrupt_layouts_are_detected(ptr: list, syn: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_fanout(np.array(ptr), np.array(syn), n_out=4, index_bits=3, weight_bits=4)
