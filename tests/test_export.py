import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sdsnn_hw.export import export_model, integer_layers, remove_dead_neurons
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.model import NetworkConfig, SpikingMLP
from sdsnn_hw.neuron import LifParams, accumulator_bits
from tests.networks import integer_layer, random_network, write_network


def test_dead_neurons_are_removed_without_changing_outputs(tmp_path, rng) -> None:
    lif = LifParams(v_th=20, leak_shift=1, v_bits=12)
    hidden = rng.integers(-15, 16, size=(6, 5))
    hidden[1] = 0  # no input: can never fire
    out = rng.integers(-15, 16, size=(3, 6))
    out[:, 4] = 0  # no output: reaches nothing
    layers = [integer_layer(hidden, lif), integer_layer(out, lif)]
    kept = remove_dead_neurons(layers)
    assert kept[0].neuron_index.tolist() == [0, 2, 3, 5]
    assert kept[1].weights.shape == (3, 4)

    inputs = (rng.random((40, 8, 5)) < 0.5).astype(np.uint8)
    _, _ = write_network(tmp_path / "full", layers, inputs)
    _, _ = write_network(tmp_path / "kept", kept, inputs)
    full = run_network(GoldenNetwork.from_export(tmp_path / "full" / "export"), inputs)
    pruned = run_network(GoldenNetwork.from_export(tmp_path / "kept" / "export"), inputs)
    np.testing.assert_array_equal(full.spikes[-1], pruned.spikes[-1])
    np.testing.assert_array_equal(full.membranes[-1], pruned.membranes[-1])


def test_accumulator_bits_cover_the_worst_row() -> None:
    weights = np.array([[127, 127, -1], [-127, -127, -127]])
    # worst sums: +254 needs 9 signed bits, -381 needs 10
    assert accumulator_bits(weights, weight_bits=8) == 10
    assert accumulator_bits(np.array([[1, -1]]), weight_bits=8) == 8


def test_export_of_the_same_model_is_byte_identical(tmp_path) -> None:
    torch.manual_seed(3)
    model = SpikingMLP(NetworkConfig(sizes=(10, 12, 4)))
    export_model(tmp_path / "a", model, classes=4)
    export_model(tmp_path / "b", model, classes=4)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert "manifest.json" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_exported_thresholds_and_weights_come_from_the_model(tmp_path) -> None:
    torch.manual_seed(4)
    model = SpikingMLP(NetworkConfig(sizes=(10, 12, 4), weight_bits=5))
    manifest = export_model(tmp_path / "e", model, classes=4)
    layers = integer_layers(model)
    for spec, layer, lif in zip(manifest.layers, layers, model.lif_params(), strict=True):
        assert spec.v_th == lif.v_th
        assert spec.weight_bits == 5
        assert np.abs(layer.weights).max() <= 15


def test_failed_export_leaves_the_previous_one_intact(tmp_path, rng) -> None:
    lif = LifParams(v_th=5, leak_shift=0, v_bits=8)
    good = random_network(rng, (4, 3), weight_bits=4, v_bits=8, density=1.0)
    write_network(tmp_path, good, np.ones((1, 2, 4)))
    before = (tmp_path / "export" / "manifest.json").read_bytes()
    bad = [integer_layer(np.array([[100, 0, 0, 0]] * 3), lif, weight_bits=4)]  # exceeds 4 bits
    with pytest.raises(ValueError, match=r"outside -7\.\.7"):
        write_network(tmp_path, bad, np.ones((1, 2, 4)))
    assert (tmp_path / "export" / "manifest.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _conv_and_fc(rng) -> list:
    from sdsnn_hw.export import IntegerLayer

    lif = LifParams(v_th=5, leak_shift=0, v_bits=8)
    conv = IntegerLayer(
        rng.integers(-3, 4, size=(4, 1, 3, 3)), lif, 4, 1.0, np.arange(64), "conv",
        np.array([1, 0, -2, 3]), 6, 1, (1, 4, 4),
    )  # fmt: skip
    fc = IntegerLayer(
        rng.integers(-3, 4, size=(3, 16)), lif, 4, 1.0, np.arange(3), "fc",
        np.array([0, 1, 2]), 6, 2, (4, 4, 4),
    )  # fmt: skip
    return [conv, fc]


def test_a_forced_layout_applies_to_the_layers_of_its_kind(tmp_path, rng) -> None:
    layers = _conv_and_fc(rng)
    manifest, _ = write_network(tmp_path / "a", layers, np.ones((1, 2, 16)), layout="kernel_list")
    assert manifest.layers[0].layout == "kernel_list"
    assert manifest.layers[1].layout in ("dense_rows", "csr_fanout")
    manifest, _ = write_network(tmp_path / "b", layers, np.ones((1, 2, 16)), layout="csr_fanout")
    conv_sizes = manifest.layers[0].layout_bits
    assert manifest.layers[0].layout == min(conv_sizes, key=conv_sizes.get)  # auto
    assert manifest.layers[1].layout == "csr_fanout"
    with pytest.raises(ValueError, match=r"unknown layout 'dense'"):
        write_network(tmp_path / "c", layers, np.ones((1, 2, 16)), layout="dense")


def test_a_bias_outside_its_narrow_range_is_refused(tmp_path, rng) -> None:
    from dataclasses import replace

    conv, fc = _conv_and_fc(rng)
    bad = replace(fc, bias=np.array([0, 32, 0]))  # 6 bits: -31..31
    with pytest.raises(ValueError, match=r"a bias is outside -31\.\.31 \(6 bits\)"):
        write_network(tmp_path, [conv, bad], np.ones((1, 2, 16)))


def test_a_pooled_biased_layer_widens_the_accumulator(tmp_path, rng) -> None:
    """ACC_BITS holds pool**2 times the weight sums plus the bias (contract section 3)."""
    from dataclasses import replace

    from sdsnn_hw.layer_math import acc_bits

    conv, fc = _conv_and_fc(rng)
    weights = np.array([[7] * 16, [-7] * 16, [0] * 16])
    fc = replace(fc, weights=weights, bias=np.array([0, -31, 31]))
    manifest, _ = write_network(tmp_path, [conv, fc], np.ones((1, 2, 16)))
    # AP2 counts reach 4: 4 * 7 * 16 = 448 and 4 * -7 * 16 - 31 = -479 need 10 bits
    assert manifest.layers[1].acc_bits == 10
    # without pooling: 112 and -143 need 9 bits; without bias either, -112..112 need 8
    assert acc_bits(weights, 4, 1, fc.bias) == 9
    assert acc_bits(weights, 4) == accumulator_bits(weights, 4) == 8


REFERENCE = Path(__file__).resolve().parents[1] / "export" / "digits"


def test_the_reference_export_re_exports_byte_identically_and_verifies(tmp_path, capsys) -> None:
    """export/digits/export is `sdsnn export` of export/digits/checkpoint.pt, every file."""
    from sdsnn_hw.cli import main

    again = tmp_path / "export"
    assert main(["export", str(REFERENCE / "checkpoint.pt"), str(again)]) == 0
    names = sorted(p.name for p in (REFERENCE / "export").iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert {"network.onnx", "network.nir", "l0_weights.coe", "l0_weights.mif"} <= set(names)
    for name in names:
        assert (REFERENCE / "export" / name).read_bytes() == (again / name).read_bytes(), name
    capsys.readouterr()
    assert main(["verify", str(REFERENCE / "export"), "--dataset", "digits"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == 360 and report["accuracy"] == 0.9639
    assert report["onnx_samples"] == 64 + 360 and report["disagreements"] == []
