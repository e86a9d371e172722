"""Conv layers, pooling and biases: layouts, export, golden model, costs, QAT == golden."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from sdsnn_hw import microarch
from sdsnn_hw.export import IntegerLayer, export_model, remove_dead_neurons, write_export
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.layouts import decode, encode, encode_choice, words_per_input
from sdsnn_hw.manifest import Manifest, ManifestError, load_manifest
from sdsnn_hw.memfile import format_mem
from sdsnn_hw.microarch_conv import TAP_STAGES, layer_costs
from sdsnn_hw.model import (
    NetworkConfig,
    QuantizedLayer,
    SpikingNetwork,
    layer_current_torch,
    lif_step_torch,
)
from sdsnn_hw.netspec import CONV, LayerShape
from sdsnn_hw.neuron import LifParams
from tests.known_answers_conv import (
    DENSE_KERNELS_EXAMPLE,
    KERNEL_LIST_EXAMPLE,
    LAYOUT_EXAMPLE_WEIGHTS,
    POOLED_BIASED_CONV,
    TAP_LIST_EXAMPLE,
)
from tests.networks import write_network

CASE = POOLED_BIASED_CONV


def conv_layer(
    weights: np.ndarray,
    lif: LifParams,
    in_shape: tuple[int, int, int],
    pool: int = 1,
    bias: np.ndarray | None = None,
    weight_bits: int = 8,
    bias_bits: int = 12,
) -> IntegerLayer:
    weights = np.asarray(weights, dtype=np.int64)
    units = weights.shape[0] * (in_shape[1] // pool) * (in_shape[2] // pool)
    return IntegerLayer(
        weights, lif, weight_bits, 1.0, np.arange(units), CONV,
        None if bias is None else np.asarray(bias, dtype=np.int64),
        bias_bits if bias is not None else 0, pool, in_shape,
    )  # fmt: skip


def write_known(folder: Path) -> tuple[Manifest, np.ndarray]:
    """Export the hand-worked conv layer alone (its 8 neurons are the 'classes')."""
    layer = conv_layer(
        CASE.weights, CASE.lif, (1, 4, 4), CASE.pool, CASE.bias, CASE.weight_bits, CASE.bias_bits
    )
    manifest = write_export(
        folder / "export", [layer], 8, len(CASE.inputs), CASE.lanes, CASE.layout
    )
    return manifest, CASE.inputs.reshape(1, len(CASE.inputs), -1)


@pytest.mark.parametrize(
    ("layout", "example"),
    [
        ("kernel_list", KERNEL_LIST_EXAMPLE),
        ("dense_kernels", DENSE_KERNELS_EXAMPLE),
        ("tap_list", TAP_LIST_EXAMPLE),
    ],
)
def test_conv_layouts_are_the_contract_examples(layout, example) -> None:
    ptr, text, bits = example
    image = encode(LAYOUT_EXAMPLE_WEIGHTS, weight_bits=2, lanes=2, layout=layout)
    assert image.ptr.tolist() == ptr
    assert format_mem(image.words, image.word_bits) == text
    assert image.size_bits == bits
    np.testing.assert_array_equal(decode(image), LAYOUT_EXAMPLE_WEIGHTS)
    _, sizes = encode_choice(LAYOUT_EXAMPLE_WEIGHTS, 2, 2)
    assert sizes == {"dense_kernels": 153, "kernel_list": 120, "tap_list": 65}


@pytest.mark.parametrize("layout", ["kernel_list", "dense_kernels", "tap_list"])
@pytest.mark.parametrize("lanes", [1, 2, 4, 8])
def test_conv_layouts_round_trip_and_prune_zero_kernels(rng, layout, lanes) -> None:
    for shape, density in [((5, 3, 3, 3), 0.3), ((9, 2, 1, 1), 1.0), ((4, 4, 5, 5), 0.0)]:
        weights = rng.integers(-7, 8, size=shape) * (rng.random(shape) < density)
        weights[0, 0] = 0  # an all-zero kernel
        image = encode(weights, 4, lanes, layout)
        np.testing.assert_array_equal(decode(image), weights)
        kernels = np.any(weights != 0, axis=(2, 3))  # (O, C)
        if layout == "kernel_list":
            # each channel's words: its largest count of non-zero kernels in one bank
            padded = np.zeros((-(-shape[0] // lanes) * lanes, shape[1]), bool)
            padded[: shape[0]] = kernels
            expected = padded.reshape(-1, lanes, shape[1]).sum(axis=0).max(axis=0)
            assert words_per_input(weights, layout, lanes).tolist() == expected.tolist()
        if layout == "tap_list":
            # each channel's words: its largest count of non-zero weights in one bank
            taps = np.count_nonzero(weights, axis=(2, 3))  # (O, C)
            padded = np.zeros((-(-shape[0] // lanes) * lanes, shape[1]), np.int64)
            padded[: shape[0]] = taps
            expected = padded.reshape(-1, lanes, shape[1]).sum(axis=0).max(axis=0)
            assert words_per_input(weights, layout, lanes).tolist() == expected.tolist()


def test_a_tap_list_slot_that_is_not_canonical_is_refused() -> None:
    image = encode(LAYOUT_EXAMPLE_WEIGHTS, weight_bits=2, lanes=2, layout="tap_list")
    # an empty slot (weight 0) with a tap index; the same tap of a unit twice
    for words, message in [
        ((0x0191, 0x0061 | 0x04 << 7, *image.words[2:]), "empty tap_list slot must be all zero"),
        ((*image.words[:3], 0x45), "bad or repeated tap 1"),
    ]:
        with pytest.raises(ValueError, match=message):
            decode(replace(image, words=words))


def test_a_conv_layout_refuses_fc_weights_and_the_other_way() -> None:
    with pytest.raises(ValueError, match=r"layout kernel_list stores conv weights"):
        encode(np.ones((3, 2), np.int64), 4, 1, "kernel_list")
    with pytest.raises(ValueError, match=r"layout csr_fanout stores fc weights"):
        encode(np.ones((3, 2, 3, 3), np.int64), 4, 1, "csr_fanout")
    with pytest.raises(ValueError, match=r"'dense_rows' does not store conv layers"):
        encode_choice(np.ones((3, 2, 3, 3), np.int64), 4, 1, "dense_rows")


def test_golden_model_reproduces_the_pooled_biased_conv_by_hand(tmp_path) -> None:
    manifest, inputs = write_known(tmp_path)
    spec = manifest.layers[0]
    assert (spec.kind, spec.layout, spec.acc_bits) == ("conv", CASE.layout, CASE.acc_bits)
    assert (spec.n_in, spec.n_out, spec.bank_depth) == (4, 8, CASE.depth)
    assert (spec.kernel, spec.padding, spec.stride, spec.pool) == (3, 1, 1, 2)
    # bias memory: 6-bit two's complement, one word per output channel
    assert (tmp_path / "export" / "l0_bias.mem").read_text() == "3f\n02\n"
    result = run_network(GoldenNetwork.from_export(tmp_path / "export"), inputs)
    np.testing.assert_array_equal(result.spikes[0][0], CASE.spikes)
    np.testing.assert_array_equal(result.membranes[0][0], CASE.membranes)
    overhead = microarch.OVERHEAD + TAP_STAGES
    expected = [c + CASE.depth + overhead for c in CASE.words_cycles_per_step]
    assert result.step_cycles.tolist() == [expected]
    assert result.synaptic_ops.tolist() == [CASE.synops]
    assert result.costs.bound.tolist() == [CASE.bound]
    assert result.costs.ptr_reads.tolist() == [2 * CASE.events]
    assert result.costs.wrom_reads.tolist() == [CASE.events]
    bank_words = CASE.lanes * CASE.depth * len(CASE.inputs)
    assert result.costs.acc_reads.tolist() == [CASE.synops + bank_words]
    assert result.costs.mem_writes.tolist() == [bank_words]


def test_training_forward_reproduces_the_pooled_biased_conv_by_hand() -> None:
    shape = LayerShape(CONV, (1, 4, 4), CASE.pool, 2, 3)
    layer = QuantizedLayer(
        torch.tensor(CASE.weights, dtype=torch.float32),
        torch.tensor(CASE.bias, dtype=torch.float32),
        CASE.lif,
    )
    membrane = torch.zeros(1, 8)
    v_th = torch.tensor(float(CASE.lif.v_th))
    for t, spikes in enumerate(torch.tensor(CASE.inputs, dtype=torch.float32)):
        current = layer_current_torch(shape, layer, spikes.reshape(1, -1))
        out, membrane = lif_step_torch(current, membrane, v_th, CASE.lif)
        np.testing.assert_array_equal(out[0].numpy(), CASE.spikes[t])
        np.testing.assert_array_equal(membrane[0].numpy(), CASE.membranes[t])


def _events_brute_force(weights, layout, lanes, events):
    """The conv cost model of contract section 7.1, one event at a time."""
    out_channels, _, k, _ = weights.shape
    p = k // 2
    words = words_per_input(weights, layout, lanes)
    samples, steps, _, h, w = events.shape
    depth = -(-out_channels // lanes) * h * w
    cycles = np.zeros((samples, steps), np.int64)
    synops = np.zeros(samples, np.int64)
    bound = np.zeros(samples, np.int64)
    for n, t, c, y, x in np.argwhere(events > 0):
        count = events[n, t, c, y, x]
        inside = [
            (dy, dx)
            for dy in range(k)
            for dx in range(k)
            if 0 <= y + p - dy < h and 0 <= x + p - dx < w
        ]
        ops = sum(int(weights[o, c, dy, dx] != 0) for o in range(out_channels) for dy, dx in inside)
        cycles[n, t] += count * words[c] * len(inside)
        synops[n] += count * ops
        bound[n] += count * -(-ops // lanes)
    return cycles + depth + microarch.OVERHEAD + TAP_STAGES, synops, bound + steps * depth


@pytest.mark.parametrize(("layout", "lanes"), [("kernel_list", 2), ("dense_kernels", 4)])
def test_conv_cost_model_equals_one_event_at_a_time(rng, layout, lanes) -> None:
    weights = rng.integers(-3, 4, size=(5, 3, 3, 3)) * (rng.random((5, 3, 3, 3)) < 0.4)
    events = rng.integers(0, 5, size=(3, 2, 3, 4, 5)) * (rng.random((3, 2, 3, 4, 5)) < 0.5)
    costs = layer_costs(weights, layout, lanes, events)
    cycles, synops, bound = _events_brute_force(weights, layout, lanes, events)
    np.testing.assert_array_equal(costs.step_cycles, cycles)
    np.testing.assert_array_equal(costs.synops, synops)
    np.testing.assert_array_equal(costs.bound, bound)


def _conv_network(rng) -> list[IntegerLayer]:
    """3x6x6 -> 4C3 -> AP2 -> 5C3 -> FC6 with dead filters of every sort."""
    lif = LifParams(v_th=9, leak_shift=1, v_bits=10)
    w0 = rng.integers(-7, 8, size=(4, 3, 3, 3))
    w1 = rng.integers(-7, 8, size=(5, 4, 3, 3))
    w2 = rng.integers(-7, 8, size=(6, 5 * 3 * 3))
    b0, b1, b2 = np.array([3, -2, 0, 5]), np.array([1, -4, 0, 2, 6]), rng.integers(-3, 4, 6)
    w0[1] = 0  # filter 1: no input, negative bias: never fires, removed
    w0[3] = 0  # filter 3: no input but bias 5: fires on its bias, kept
    w1[:, 2] = 0  # channel 2 of layer 0: no outgoing kernel, removed
    w1[3] = 0  # filter 3 of layer 1: no input, bias 2 > 0, kept
    w2[:, 4 * 9 : 5 * 9] = 0  # channel 4 of layer 1: no outgoing weight, removed
    return [
        conv_layer(w0, lif, (3, 6, 6), 1, b0, 4, 4),
        conv_layer(w1, lif, (4, 6, 6), 2, b1, 4, 4),
        IntegerLayer(w2, lif, 4, 1.0, np.arange(6), "fc", b2, 4, 1, (5, 3, 3)),
    ]


def test_dead_filters_are_removed_without_changing_outputs(tmp_path, rng) -> None:
    layers = _conv_network(rng)
    kept = remove_dead_neurons(layers)
    assert [k.weights.shape for k in kept] == [(2, 3, 3, 3), (4, 2, 3, 3), (6, 36)]
    # layer 0 keeps filters 0 and 3, layer 1 filters 0, 1, 2 and 3
    assert kept[0].neuron_index.tolist() == [*range(0, 36), *range(108, 144)]
    assert kept[1].neuron_index.tolist() == list(range(0, 36))
    assert kept[1].in_shape == (2, 6, 6) and kept[2].in_shape == (4, 3, 3)
    assert kept[1].bias.tolist() == [1, -4, 0, 2]
    inputs = (rng.random((20, 6, 108)) < 0.4).astype(np.uint8)
    write_network(tmp_path / "full", layers, inputs)
    write_network(tmp_path / "kept", kept, inputs)
    full = run_network(GoldenNetwork.from_export(tmp_path / "full" / "export"), inputs)
    pruned = run_network(GoldenNetwork.from_export(tmp_path / "kept" / "export"), inputs)
    np.testing.assert_array_equal(full.spikes[-1], pruned.spikes[-1])
    np.testing.assert_array_equal(full.membranes[-1], pruned.membranes[-1])
    # kept neurons of the hidden layers behave exactly as before removal
    for i in range(2):
        index = kept[i].neuron_index
        np.testing.assert_array_equal(full.spikes[i][:, :, index], pruned.spikes[i])
    assert full.spikes[0][:, :, 108:].any(), "filter 3 should fire on its bias alone"


@pytest.fixture(scope="module")
def trained_conv(tmp_path_factory):
    """A small conv net trained briefly on digits, and its export."""
    from sdsnn_hw.data import encode_rate, load_dataset
    from sdsnn_hw.structure import StructureConfig
    from sdsnn_hw.train import TrainConfig, train

    dataset = load_dataset("digits")
    config = NetworkConfig(
        net="4C3-AP2-6C3-AP2-FC12-FC10", input_shape=(1, 8, 8), biases=True, time_steps=8
    )
    torch.manual_seed(0)
    model = SpikingNetwork(config)
    train(dataset, model, TrainConfig(epochs=3), StructureConfig(), progress=False)
    folder = tmp_path_factory.mktemp("conv")
    manifest = export_model(folder / "export", model, classes=10, lanes=4)
    spikes = encode_rate(dataset.x_test[:80], config.time_steps, seed=3)
    return model, manifest, folder, spikes


def test_qat_equals_golden_on_a_trained_conv_net(trained_conv) -> None:
    from sdsnn_hw.model import Trace

    model, manifest, folder, spikes = trained_conv
    assert [layer.kind for layer in manifest.layers] == ["conv", "conv", "fc", "fc"]
    assert [layer.pool for layer in manifest.layers] == [1, 2, 2, 1]
    assert all(layer.bias_bits == 12 for layer in manifest.layers)
    trace = Trace()
    with torch.no_grad():
        counts = model(torch.from_numpy(spikes).float(), trace=trace)
    golden = run_network(GoldenNetwork.from_export(folder / "export"), spikes)
    for i, layer in enumerate(manifest.layers):
        kept = np.asarray(layer.neuron_index)
        np.testing.assert_array_equal(trace.spikes[i].numpy()[:, :, kept], golden.spikes[i])
        np.testing.assert_array_equal(trace.membranes[i].numpy()[:, :, kept], golden.membranes[i])
    np.testing.assert_array_equal(torch.argmax(counts, dim=1).numpy(), golden.predictions)
    assert golden.spikes[1].any() and golden.spikes[-1].any(), "the test needs spikes"


def test_conv_export_is_byte_identical(trained_conv, tmp_path) -> None:
    model, _, folder, _ = trained_conv
    export_model(tmp_path / "again", model, classes=10, lanes=4)
    names = sorted(p.name for p in (folder / "export").iterdir())
    assert "l0_bias.mem" in names
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    for name in names:
        assert (folder / "export" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


def test_exported_biases_and_thresholds_use_the_pooled_unit(trained_conv) -> None:
    """Contract 3.2: V_TH = max(1, round(v_th * k*k / S)), b = clamp(round(beta * k*k / S)),
    with k the layer's pooling and S its weight scale, 12-bit narrow range."""
    model, manifest, folder, _ = trained_conv
    net = GoldenNetwork.from_export(folder / "export")
    for i, (spec, layer) in enumerate(zip(manifest.layers, net.layers, strict=True)):
        scale = model.layers[i].quant_weight().scale.detach()
        area = spec.pool**2
        assert spec.v_th == max(1, int(torch.round(model.config.v_th * area / scale)))
        per_unit = spec.out_height * spec.out_width
        units = np.asarray(spec.neuron_index[::per_unit]) // per_unit
        beta = model.layers[i].bias.detach()[units]
        expected = torch.clamp(torch.round(beta * area / scale), -2047, 2047)
        np.testing.assert_array_equal(layer.bias, expected.numpy().astype(np.int64))
    assert any(spec.pool == 2 for spec in manifest.layers)


def _edit(folder, edit) -> None:
    from sdsnn_hw.fileio import sha256_bytes
    from sdsnn_hw.manifest import _canonical

    raw = json.loads((folder / "manifest.json").read_text())
    edit(raw)
    body = {k: v for k, v in raw.items() if k != "manifest_sha256"}
    raw["manifest_sha256"] = sha256_bytes(_canonical(body))
    (folder / "manifest.json").write_text(json.dumps(raw))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kernel", 2, r"'layers\[0\]\.kernel' must be odd, got 2"),
        ("padding", 0, r"'layers\[0\]\.padding' must be 1 \(derived"),
        ("stride", 2, r"'layers\[0\]\.stride' must be 1 \(derived"),
        ("out_height", 4, r"'layers\[0\]\.out_height' must be 2 \(derived"),
        ("pool", 3, r"'layers\[0\]\.pool' must divide the 4x4 input map, got 3"),
        ("bank_depth", 2, r"'layers\[0\]\.bank_depth' must be 4 \(derived"),
        ("acc_bits", 5, r"'layers\[0\]\.acc_bits' must be 6 \(derived from the weights"),
        ("bias_bits", 0, r"'layers\[0\]\.bias' must be null when 'bias_bits' is 0"),
        ("kernel", None, r"'layers\[0\]\.kernel' must be int, got NoneType"),
    ],
)
def test_a_resealed_conv_field_is_refused(tmp_path, field, value, message) -> None:
    write_known(tmp_path)
    _edit(tmp_path / "export", lambda raw: raw["layers"][0].update({field: value}))
    with pytest.raises(ManifestError, match=message):
        GoldenNetwork.from_export(tmp_path / "export")


def test_a_bias_with_the_unused_code_is_refused(tmp_path) -> None:
    from sdsnn_hw.fileio import sha256_file

    write_known(tmp_path)
    export = tmp_path / "export"
    (export / "l0_bias.mem").write_text("20\n02\n")  # -32: the unused 6-bit code
    digest = sha256_file(export / "l0_bias.mem")
    _edit(export, lambda raw: raw["layers"][0]["bias"].update(sha256=digest))
    with pytest.raises(ManifestError, match=r"l0_bias\.mem: a bias is the unused code -32"):
        GoldenNetwork.from_export(export)
    assert load_manifest(export).layers[0].bias.depth == 2


def test_golden_in_chunks_equals_golden_at_once(tmp_path, rng, monkeypatch) -> None:
    import sdsnn_hw.golden as golden

    layers = _conv_network(rng)
    inputs = (rng.random((9, 4, 108)) < 0.4).astype(np.uint8)
    write_network(tmp_path, layers, inputs)
    net = GoldenNetwork.from_export(tmp_path / "export")
    whole = run_network(net, inputs)
    neurons = sum(layer.n_out for layer in net.layers)
    monkeypatch.setattr(golden, "TRACE_BUDGET", 2 * neurons * 4)  # two samples a chunk
    parts = list(golden.run_in_chunks(net, inputs))
    assert [part.stop - part.start for part, _ in parts] == [2, 2, 2, 2, 1]
    costs = golden.concat_costs([result.costs for _, result in parts])
    np.testing.assert_array_equal(costs.step_cycles, whole.costs.step_cycles)
    np.testing.assert_array_equal(costs.bound, whole.costs.bound)
    predictions = np.concatenate([result.predictions for _, result in parts])
    np.testing.assert_array_equal(predictions, whole.predictions)
    for part, result in parts:
        np.testing.assert_array_equal(result.membranes[1], whole.membranes[1][part])


def test_a_pruned_neuron_loses_its_bias() -> None:
    """Conv networks have biases; structure development zeroes a pruned neuron's bias
    with its synapses, or a positive one would keep it firing and alive at export."""
    from sdsnn_hw.structure import StructureConfig, StructureDevelopment

    config = StructureConfig(plasticity_steps=1, regen_steps=1, prune_rate_init=30.0)
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.rand(10, 6))
    bias = torch.nn.Parameter(torch.full((10,), 0.7))
    dev = StructureDevelopment([weight], [True], 2, config, biases=[bias])
    for _ in range(4):  # t = 0 .. 3: pruning starts after 2 T_s
        dev.step()
    pruned = dev.states[0].pruned
    assert int(pruned.sum()) == 3
    assert torch.all(bias[pruned] == 0) and torch.all(bias[~pruned] == 0.7)
    with torch.no_grad():
        bias.fill_(0.5)  # the gradient moves it again during the next epoch
    dev.apply_masks()
    assert torch.all(bias[pruned] == 0) and torch.all(bias[~pruned] == 0.5)
