"""network.onnx in onnxruntime equals the golden model on every spike and membrane;
the Brevitas QONNX and QCDQ exports of the trained layers load and run."""

from dataclasses import replace

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from sdsnn_hw.data import encode_rate, load_dataset
from sdsnn_hw.export import IntegerLayer, export_model
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.model import NetworkConfig, SpikingNetwork
from sdsnn_hw.neuron import LifParams
from sdsnn_hw.onnx_export import onnx_bytes
from tests.known_answers_conv import POOLED_BIASED_CONV
from tests.networks import random_network, write_network


def run_onnx(model: bytes, spikes: np.ndarray) -> dict[str, np.ndarray]:
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"spikes": spikes}), strict=True))


def assert_equals_golden(folder, spikes: np.ndarray) -> None:
    """Every layer's spikes and membranes, the counts and predictions, from the export."""
    net = GoldenNetwork.from_export(folder)
    outputs = run_onnx((folder / "network.onnx").read_bytes(), spikes)
    golden = run_network(net, spikes)
    for i in range(len(net.layers)):
        np.testing.assert_array_equal(outputs[f"l{i}_spikes"], golden.spikes[i])
        np.testing.assert_array_equal(outputs[f"l{i}_membranes"], golden.membranes[i])
    np.testing.assert_array_equal(outputs["counts"], golden.counts)
    np.testing.assert_array_equal(outputs["predictions"], golden.predictions)
    assert golden.spikes[0].any() and golden.spikes[-1].any(), "the test needs spikes"


def test_the_known_conv_answer_without_the_golden_model() -> None:
    """Contract 3.3's worked example, literal spikes and membranes, straight from ONNX."""
    case = POOLED_BIASED_CONV
    layer = IntegerLayer(
        case.weights, case.lif, case.weight_bits, 1.0, np.arange(8), "conv", case.bias,
        case.bias_bits, case.pool, (1, 4, 4),
    )  # fmt: skip
    spikes = case.inputs.reshape(1, 2, 16).astype(np.uint8)
    outputs = run_onnx(onnx_bytes([layer], 2), spikes)
    np.testing.assert_array_equal(outputs["l0_spikes"][0], case.spikes)
    np.testing.assert_array_equal(outputs["l0_membranes"][0], case.membranes)


@pytest.mark.parametrize("seed", range(4))
def test_random_fc_networks_in_onnxruntime_equal_golden(tmp_path, seed) -> None:
    rng = np.random.default_rng(seed)
    layers = random_network(rng, (24, 16, 12, 5), weight_bits=int(rng.integers(2, 9)),
                            v_bits=int(rng.integers(6, 12)), density=0.6)  # fmt: skip
    if seed % 2:  # biases, some saturating the narrow membranes
        layers = [
            replace(layer, bias=rng.integers(-20, 21, layer.weights.shape[0]), bias_bits=6)
            for layer in layers
        ]
    layers = [replace(layer, lif=replace(layer.lif, v_th=1 + seed)) for layer in layers]
    spikes = (rng.random((40, 7, 24)) < rng.random((40, 1, 1))).astype(np.uint8)
    write_network(tmp_path, layers, spikes)
    from sdsnn_hw.export import write_export

    write_export(tmp_path / "export", layers, 5, 7, formats=("onnx",))
    assert_equals_golden(tmp_path / "export", spikes)


def test_a_conv_pooled_biased_network_in_onnxruntime_equals_golden(tmp_path, rng) -> None:
    from sdsnn_hw.export import write_export

    conv = IntegerLayer(
        rng.integers(-3, 4, size=(4, 2, 3, 3)), LifParams(4, 1, 8), 3, 1.0, np.arange(4 * 16),
        "conv", rng.integers(-3, 4, size=4), 4, 2, (2, 8, 8),
    )  # fmt: skip
    conv2 = IntegerLayer(
        rng.integers(-3, 4, size=(3, 4, 5, 5)), LifParams(3, 0, 10), 3, 1.0, np.arange(3 * 16),
        "conv", np.array([1, -1, 0]), 3, 1, (4, 4, 4),
    )  # fmt: skip
    fc = IntegerLayer(
        rng.integers(-3, 4, size=(5, 12)), LifParams(2, 2, 8), 3, 1.0, np.arange(5), "fc",
        np.array([0, 1, 2, -3, 1]), 4, 2, (3, 4, 4),
    )  # fmt: skip
    spikes = (rng.random((30, 6, 128)) < 0.4).astype(np.uint8)
    write_export(tmp_path / "export", [conv, conv2, fc], 5, 6, formats=("onnx",))
    assert_equals_golden(tmp_path / "export", spikes)


def test_a_conv_network_on_the_digits_test_split(tmp_path) -> None:
    """Every spike of the digits test split, on an export of a (fresh) conv model."""
    torch.manual_seed(0)
    config = NetworkConfig(net="4C3-AP2-FC10", input_shape=(1, 8, 8), time_steps=6,
                           biases=True, v_th=0.05)  # fmt: skip
    export_model(tmp_path / "export", SpikingNetwork(config), 10, formats=("onnx",))
    data = load_dataset("digits")
    assert_equals_golden(tmp_path / "export", encode_rate(data.x_test, 6, 1234))


def test_a_conv_too_wide_for_float32_is_refused(rng) -> None:
    big = np.full((1, 1, 3, 3), 127)
    layer = IntegerLayer(big, LifParams(1, 0, 32), 8, 1.0, np.arange(1), "conv",
                         in_shape=(1, 1, 1), pool=1)  # fmt: skip
    assert onnx_bytes([layer], 1)  # 9 * 127 fits easily
    wide = replace(layer, weights=np.full((1, 20000, 3, 3), 127), in_shape=(20000, 1, 1))
    with pytest.raises(ValueError, match=r"layer l0: its conv sums need 26 bits"):
        onnx_bytes([wide], 1)


def test_onnx_export_is_deterministic_and_valid(rng) -> None:
    layers = random_network(rng, (10, 6, 3), weight_bits=5, v_bits=10, density=0.5)
    first = onnx_bytes(layers, 4)
    assert first == onnx_bytes(layers, 4)
    model = onnx.load_from_string(first)
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["spikes"]
    assert [o.name for o in model.graph.output][-2:] == ["counts", "predictions"]


def test_brevitas_qonnx_and_qcdq_exports_of_the_trained_layers(tmp_path) -> None:
    torch.manual_seed(1)
    model = SpikingNetwork(NetworkConfig(net="2C3-AP2-FC4", input_shape=(1, 4, 4)))
    export_model(tmp_path / "e", model, 4, formats=("onnx",))
    qonnx = onnx.load(tmp_path / "e" / "l0_qonnx.onnx")
    assert "Quant" in [node.op_type for node in qonnx.graph.node]
    for i, example in ((0, torch.rand(1, 1, 4, 4)), (1, torch.rand(1, 8))):
        # onnxruntime's default optimizations fuse DequantizeLinear + MatMul into a
        # kernel that quantizes the float input too: only the plain graph is exact
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = onnxruntime.InferenceSession(
            str(tmp_path / "e" / f"l{i}_qcdq.onnx"), options, providers=["CPUExecutionProvider"]
        )
        (found,) = session.run(None, {session.get_inputs()[0].name: example.numpy()})
        with torch.no_grad():
            expected = model.layers[i](example)
        np.testing.assert_allclose(found, expected.numpy(), rtol=1e-5, atol=1e-6)
