"""Networks in the paper's notation: shapes of every layer, errors that name the token."""

import pytest

from sdsnn_hw.netspec import CONV, FC, LayerShape, NetSpecError, fc_spec, resolve


def test_the_papers_mnist_network_resolves_to_its_shapes() -> None:
    layers = resolve("15C3-AP2-40C3-AP2-FC300-FC10", (1, 28, 28), classes=10)
    assert [layer.kind for layer in layers] == [CONV, CONV, FC, FC]
    assert [layer.in_shape for layer in layers] == [
        (1, 28, 28), (15, 28, 28), (40, 14, 14), (300, 1, 1),
    ]  # fmt: skip
    assert [layer.pool for layer in layers] == [1, 2, 2, 1]
    assert [layer.out_shape for layer in layers] == [
        (15, 28, 28), (40, 14, 14), (300, 1, 1), (10, 1, 1),
    ]  # fmt: skip
    # the first fc layer reads the pooled 40x7x7 map, flattened
    assert layers[2].n_in == 1960 and layers[2].weight_shape == (300, 1960)
    assert layers[1].weight_shape == (40, 15, 3, 3) and layers[1].fan_in == 135
    assert [layer.n_out for layer in layers] == [11760, 7840, 300, 10]


def test_fully_connected_specs_and_lower_case() -> None:
    assert fc_spec((128, 10)) == "FC128-FC10"
    layers = resolve("fc128-fc10", (1, 8, 8), classes=10)
    assert [(layer.n_in, layer.n_out) for layer in layers] == [(64, 128), (128, 10)]
    conv = resolve("8c3-ap2-fc10", (1, 8, 8))
    assert conv[0] == LayerShape(CONV, (1, 8, 8), 1, 8, 3)
    assert conv[1] == LayerShape(FC, (8, 8, 8), 2, 10)


def test_pooling_may_come_first() -> None:
    (layer,) = resolve("AP4-FC10", (1, 8, 8), classes=10)
    assert (layer.pool, layer.n_in) == (4, 4)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("8C3-XP2-FC10", r"token 'XP2' is not <channels>C<kernel>, AP<k> or FC<n>"),
        ("8C3--FC10", r"token '' is not"),
        ("", r"empty; expected tokens"),
        ("8C2-FC10", r"token '8C2': the kernel must be odd"),
        ("FC0-FC10", r"token 'FC0': sizes must be >= 1"),
        ("AP1-FC10", r"token 'AP1': the pooling window must be >= 2"),
        ("8C3-AP2", r"token 'AP2' ends the network"),
        (
            "8C3-AP2-AP2-FC10",
            r"token 'AP2' follows another pooling; write one AP<k> \(AP2-AP2 is AP4",
        ),
        ("FC64-8C3-FC10", r"token '8C3' follows a fully connected layer"),
        ("8C3-AP3-FC10", r"token 'AP3': the 8x8 map is not divisible by 3"),
        ("8C3-AP2-4C3-AP2-4C3-AP2-4C3-AP2-FC10", r"token 'AP2': the 1x1 map is not divisible"),
        ("FC64-AP2-FC10", r"token 'AP2': the 1x1 map is not divisible by 2"),
        ("8C3-FC12", r"the last token 'FC12' must be FC10"),
        ("FC10-8C3", r"token '8C3' follows a fully connected layer"),
        ("8C3", r"the last token '8C3' must be FC10"),
    ],
)
def test_a_bad_spec_names_its_token(spec, message) -> None:
    with pytest.raises(NetSpecError, match=message):
        resolve(spec, (1, 8, 8), classes=10)
