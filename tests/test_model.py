import numpy as np
import pytest
import torch

from sdsnn_hw.model import NetworkConfig, SpikingMLP, Trace, lif_step_torch, predict
from sdsnn_hw.neuron import LifParams, lif_step
from tests.known_answers import LAYER_CASES, KnownAnswer


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_training_neuron_reproduces_known_answers(case: KnownAnswer) -> None:
    weights = torch.tensor(case.weights, dtype=torch.float32)
    v_th = torch.tensor(float(case.lif.v_th))
    membrane = torch.zeros(case.weights.shape[0])
    for t, x in enumerate(torch.tensor(case.inputs, dtype=torch.float32)):
        spikes, membrane = lif_step_torch(weights @ x, membrane, v_th, case.lif)
        np.testing.assert_array_equal(spikes.numpy(), case.spikes[t])
        np.testing.assert_array_equal(membrane.numpy(), case.membranes[t])


def test_training_neuron_equals_golden_step_on_random_integers(rng: np.random.Generator) -> None:
    params = LifParams(v_th=37, leak_shift=3, v_bits=10)
    membrane = rng.integers(params.v_min, params.v_th, size=5000)
    current = rng.integers(-900, 900, size=5000)
    spikes_np, after_np = lif_step(current, membrane, params)
    spikes_t, after_t = lif_step_torch(
        torch.tensor(current, dtype=torch.float32),
        torch.tensor(membrane, dtype=torch.float32),
        torch.tensor(37.0),
        params,
    )
    np.testing.assert_array_equal(spikes_t.numpy(), spikes_np)
    np.testing.assert_array_equal(after_t.numpy().astype(np.int64), after_np)


def test_integer_weights_are_brevitas_integers() -> None:
    torch.manual_seed(0)
    model = SpikingMLP(NetworkConfig(sizes=(6, 5, 3), weight_bits=4))
    for layer in model.layers:
        expected = layer.quant_weight().int().to(torch.float32)
        torch.testing.assert_close(model.quantized(layer)[0], expected, rtol=0, atol=0)
        assert expected.abs().max() <= 7


def test_surrogate_gradient_reaches_every_layer() -> None:
    torch.manual_seed(0)
    model = SpikingMLP(NetworkConfig(sizes=(8, 16, 4), time_steps=6))
    spikes = torch.bernoulli(torch.full((32, 6, 8), 0.6))
    model(spikes).sum().backward()
    for layer in model.layers:
        assert layer.weight.grad is not None
        assert layer.weight.grad.abs().sum() > 0


def test_trace_records_every_layer_and_step() -> None:
    torch.manual_seed(0)
    model = SpikingMLP(NetworkConfig(sizes=(8, 16, 4), time_steps=5))
    trace = Trace()
    counts = model(torch.ones(3, 5, 8), trace=trace)
    assert [s.shape for s in trace.spikes] == [(3, 5, 16), (3, 5, 4)]
    torch.testing.assert_close(trace.spikes[-1].sum(dim=1), counts)


def test_prediction_ties_go_to_the_lowest_class() -> None:
    counts = torch.tensor([[3.0, 5.0, 5.0], [0.0, 0.0, 0.0]])
    assert predict(counts).tolist() == [1, 0]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"v_bits": 25}, r"v_bits must be in 2\.\.24 \(training runs membranes in float32"),
        ({"sizes": (140_000, 10), "weight_bits": 8}, "float32 training stops being exact"),
        ({"leak_shift": 16}, r"leak_shift must be in 0\.\.15"),
    ],
)
def test_configurations_training_cannot_run_exactly_are_refused(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        NetworkConfig(**changes)


def test_a_network_spec_fills_in_the_sizes_and_round_trips() -> None:
    from dataclasses import asdict

    config = NetworkConfig(net="8C3-AP2-FC64-FC10", input_shape=(1, 8, 8))
    assert config.sizes == (64, 512, 64, 10)
    assert NetworkConfig(**asdict(config)) == config
    mlp = NetworkConfig(sizes=(6, 5, 3))
    assert (mlp.net, mlp.input_shape) == ("FC5-FC3", (6, 1, 1))
    assert NetworkConfig().sizes == (64, 128, 10)
    with pytest.raises(ValueError, match=r"sizes \(64, 500, 64, 10\) contradict network"):
        NetworkConfig(sizes=(64, 500, 64, 10), net="8C3-AP2-FC64-FC10", input_shape=(1, 8, 8))


def test_pooling_counts_in_the_float32_exactness_limit() -> None:
    """fan-in 600 * 9 * 9 = 48,600 at 127: 6.2 M fits 2**24, four times that (AP2) not."""
    NetworkConfig(net="2C9-FC10", input_shape=(600, 8, 8), weight_bits=8)
    with pytest.raises(ValueError, match=r"a fan-in of 48600 .* float32 training stops"):
        NetworkConfig(net="AP2-2C9-FC10", input_shape=(600, 8, 8), weight_bits=8)


def _conv_model(**changes) -> SpikingMLP:
    torch.manual_seed(0)
    config = {"net": "3C3-AP2-FC5-FC4", "input_shape": (2, 4, 4), "biases": True, **changes}
    return SpikingMLP(NetworkConfig(**config))


def test_conv_weights_are_brevitas_integers_and_thresholds_use_the_pooled_unit() -> None:
    model = _conv_model(weight_bits=3)
    conv, fc = model.layers[0], model.layers[1]
    assert tuple(conv.weight.shape) == (3, 2, 3, 3)
    for layer in (conv, fc):
        expected = layer.quant_weight().int().to(torch.float32)
        torch.testing.assert_close(model.quantized(layer)[0], expected, rtol=0, atol=0)
    # the fc layer behind AP2 counts in quarter weight steps: V_TH = round(0.5 * 4 / S)
    scale = fc.quant_weight().scale.detach()
    assert model.quantized(fc)[1].v_th == int(torch.round(0.5 * 4 / scale))
    scale = conv.quant_weight().scale.detach()
    assert model.quantized(conv)[1].v_th == int(torch.round(0.5 / scale))


def test_biases_are_quantized_to_their_grid_and_range_straight_through() -> None:
    model = _conv_model(bias_bits=4)
    fc = model.layers[1]
    scale = fc.quant_weight().scale.detach()
    with torch.no_grad():
        fc.bias.copy_(torch.tensor([100.0, -100.0, 1.4, -1.6, 0.0]) * scale / 4)
    bias = model.quantized_layer(1).bias
    # units of S / 4 behind AP2; 4-bit narrow range -7..7
    assert bias.tolist() == [7.0, -7.0, 1.0, -2.0, 0.0]
    bias.sum().backward()
    # the rounding passes the gradient straight through, the clamp stops it outside
    step = 4 / scale.item()
    assert fc.bias.grad.tolist() == pytest.approx([0.0, 0.0, step, step, step])


def test_surrogate_gradient_reaches_conv_weights_and_biases() -> None:
    model = _conv_model(v_th=0.2, time_steps=8)
    spikes = torch.bernoulli(torch.full((16, 8, 32), 0.6))
    model(spikes).sum().backward()
    for layer in model.layers:
        assert layer.weight.grad.abs().sum() > 0
        assert layer.bias.grad.abs().sum() > 0
