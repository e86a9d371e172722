import numpy as np
import pytest
import torch

from sdsnn_hw.model import NetworkConfig, SpikingMLP, Trace, lif_step_torch, predict
from sdsnn_hw.neuron import LifParams, lif_step
from tests.known_answers import CASES, KnownAnswer


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
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
