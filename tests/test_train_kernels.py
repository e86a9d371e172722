"""The training kernels against the step-by-step graph they replace, and the GPU's
float path run on the CPU."""

import numpy as np
import pytest
import torch

from sdsnn_hw.kernels import integer_matmul, lif_scan
from sdsnn_hw.model import NetworkConfig, SpikingNetwork, Trace, lif_step_torch
from sdsnn_hw.neuron import LifParams
from sdsnn_hw.rate_code import rate_spikes
from tests.known_answers import LAYER_CASES


def step_by_step(model: SpikingNetwork, spikes: torch.Tensor) -> tuple[torch.Tensor, Trace]:
    """The network one step at a time with autograd through :func:`lif_step_torch`."""
    from sdsnn_hw.model import layer_current_torch

    layers = [model.quantized_layer(i) for i in range(len(model.layers))]
    membranes = [spikes.new_zeros(len(spikes), shape.n_out) for shape in model.shapes]
    trace = Trace()
    per_layer: list[list] = [[] for _ in layers]
    counts = 0
    for t in range(spikes.shape[1]):
        x = spikes[:, t]
        for i, (shape, layer) in enumerate(zip(model.shapes, layers, strict=True)):
            v_th = x.new_tensor(float(layer.lif.v_th))
            current = layer_current_torch(shape, layer, x)
            x, membranes[i] = lif_step_torch(current, membranes[i], v_th, layer.lif)
            per_layer[i].append((x.detach(), membranes[i].detach()))
        counts = counts + x
    for steps in per_layer:
        trace.spikes.append(torch.stack([s for s, _ in steps], dim=1))
        trace.membranes.append(torch.stack([m for _, m in steps], dim=1))
    return counts, trace


CONFIGS = [
    NetworkConfig(sizes=(40, 64, 10), time_steps=10, leak_shift=2, v_bits=9, v_th=0.3),
    NetworkConfig(sizes=(30, 20, 5), leak_shift=0, v_th=0.1, weight_bits=8, biases=True),
    NetworkConfig(net="4C3-AP2-FC12-FC10", input_shape=(1, 8, 8), biases=True, v_th=0.2),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.net)
def test_layer_by_layer_equals_step_by_step(config: NetworkConfig) -> None:
    """Spikes and membranes bit for bit (saturating membranes included), gradients to
    float rounding."""
    torch.manual_seed(0)
    model = SpikingNetwork(config)
    spikes = torch.bernoulli(torch.full((24, config.time_steps, config.sizes[0]), 0.5))
    fast, reference = Trace(), None
    counts = model(spikes, trace=fast)
    grad_out = torch.randn_like(counts)
    (counts * grad_out).sum().backward()
    fast_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    expected, reference = step_by_step(model, spikes)
    (expected * grad_out).sum().backward()
    torch.testing.assert_close(counts, expected, rtol=0, atol=0)
    for a, b in zip(
        fast.spikes + fast.membranes, reference.spikes + reference.membranes, strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for fast_grad, param in zip(fast_grads, model.parameters(), strict=True):
        assert param.grad.abs().sum() > 0
        torch.testing.assert_close(fast_grad, param.grad, rtol=1e-4, atol=1e-3)


def test_the_scan_saturates_and_stops_gradients_like_the_clamp() -> None:
    lif = LifParams(v_th=5, leak_shift=1, v_bits=4)  # membranes -8..7
    current = torch.tensor([[9.0, -20.0], [3.0, 2.0], [-1.0, 6.0]])[:, None, :]
    current.requires_grad_(True)
    spikes, membranes = lif_scan(current, lif)
    np.testing.assert_array_equal(spikes[:, 0].detach(), [[1, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(membranes[:, 0], [[0, -8], [3, -2], [0, 0]])
    step_current = current.detach().clone().requires_grad_(True)
    membrane, outs = torch.zeros(2), []
    for t in range(3):
        out, membrane = lif_step_torch(step_current[t, 0], membrane, torch.tensor(5.0), lif)
        outs.append(out)
    weights = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (spikes[:, 0] * weights).sum().backward()
    (torch.stack(outs) * weights).sum().backward()
    torch.testing.assert_close(current.grad, step_current.grad)


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_the_scan_reproduces_the_known_answers(case) -> None:
    current = (
        torch.tensor(case.inputs, dtype=torch.float32)
        @ torch.tensor(case.weights, dtype=torch.float32).t()
    )
    spikes, membranes = lif_scan(current[:, None, :], case.lif)
    np.testing.assert_array_equal(spikes[:, 0].numpy(), case.spikes)
    np.testing.assert_array_equal(membranes[:, 0].numpy(), case.membranes)


def test_int8_and_float_products_agree_exactly_at_the_extremes() -> None:
    """The CPU's int8 product and the GPU's float32 product (run here on the CPU)."""
    x = torch.ones(3, 700)
    w = torch.full((4, 700), 127.0)
    w[1] = -127.0
    w[2, ::2] = -127.0
    big = integer_matmul(x, w, use_int8=True)
    np.testing.assert_array_equal(big.numpy(), (x.double() @ w.double().t()).numpy())
    np.testing.assert_array_equal(big.numpy(), integer_matmul(x, w, use_int8=False).numpy())
    assert big.dtype == torch.float32 and big.max() == 700 * 127


def test_the_float_path_of_gpus_trains_the_same_model_on_the_cpu(monkeypatch) -> None:
    """With the int8 product off (as on a GPU), forward results are identical."""
    import sdsnn_hw.model as model_module

    torch.manual_seed(0)
    model = SpikingNetwork(CONFIGS[0])
    spikes = torch.bernoulli(torch.full((16, 10, 40), 0.4))
    expected = Trace()
    model(spikes, trace=expected)
    monkeypatch.setattr(model_module, "int8_exact", lambda *_: False)
    trace = Trace()
    model(spikes, trace=trace)
    for a, b in zip(
        trace.spikes + trace.membranes, expected.spikes + expected.membranes, strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_bfloat16_gradients_stay_close_and_forward_stays_exact() -> None:
    torch.manual_seed(0)
    model = SpikingNetwork(CONFIGS[0])
    spikes = torch.bernoulli(torch.full((32, 10, 40), 0.5))
    counts = model(spikes)
    counts.sum().backward()
    exact = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.grad_dtype = torch.bfloat16
    torch.testing.assert_close(model(spikes), counts, rtol=0, atol=0)
    model(spikes).sum().backward()
    for grad, param in zip(exact, model.parameters(), strict=True):
        assert torch.nn.functional.cosine_similarity(grad.flatten(), param.grad.flatten(), 0) > 0.99


@pytest.mark.parametrize("bits", [2, 4, 6, 8])
def test_integer_weights_and_their_gradient_are_brevitas(bits: int) -> None:
    torch.manual_seed(bits)
    model = SpikingNetwork(NetworkConfig(sizes=(30, 20, 5), weight_bits=bits))
    layer = model.layers[0]
    upstream = torch.randn(20, 30)
    quant = layer.quant_weight()
    (quant.value / quant.scale * upstream).sum().backward()
    expected = layer.weight.grad.clone()
    layer.weight.grad = None
    weights = model.quantized_layer(0).weights
    torch.testing.assert_close(weights, quant.int().float(), rtol=0, atol=0)
    (weights * upstream).sum().backward()
    torch.testing.assert_close(layer.weight.grad, expected, rtol=1e-5, atol=1e-6 * bits**3)
    for scale in (0.05, 1.0, 300.0):  # any magnitude, integers exactly Brevitas'
        with torch.no_grad():
            layer.weight.mul_(scale)
        expected_ints = layer.quant_weight().int().float()
        torch.testing.assert_close(model.quantized_layer(0).weights, expected_ints, rtol=0, atol=0)
        with torch.no_grad():
            layer.weight.div_(scale)


def test_rate_code_probabilities() -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.tensor([[0.0, 1.0, 0.5, 0.1, 0.9]])
    spikes = rate_spikes(x, 100_000, generator)
    assert spikes.dtype == torch.uint8 and spikes.shape == (100_000, 1, 5)
    rates = spikes.double().mean(dim=(0, 1))
    assert rates[0] == 0 and rates[1] == 1
    np.testing.assert_allclose(rates[2:].numpy(), [0.5, 0.1, 0.9], atol=0.006)
    again = rate_spikes(x, 7, torch.Generator().manual_seed(3))
    torch.testing.assert_close(again, rate_spikes(x, 7, torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("bits", range(2, 9))
def test_hand_quantization_is_brevitas_bit_for_bit(bits: int) -> None:
    """Scale and integers at every width and magnitude, all-zero weights included."""
    from sdsnn_hw.model import brevitas_integers

    levels = (1 << (bits - 1)) - 1
    torch.manual_seed(bits)
    model = SpikingNetwork(NetworkConfig(sizes=(64, 33, 10), weight_bits=bits))
    layer = model.layers[0]
    for magnitude in (1e-4, 1e-2, 1.0, 1e3, 0.0):
        with torch.no_grad():
            layer.weight.copy_(torch.randn(33, 64) * magnitude)
            quant = layer.quant_weight()
            scale, integers, top = brevitas_integers(layer.weight, levels)
        assert torch.equal(scale.view(()), quant.scale.view(()))
        assert torch.equal(integers, quant.int().float())
        assert layer.weight.abs().view(-1)[top] == layer.weight.abs().max()
