"""SD-SNN rules on hand-made tensors: each expected value is worked out from
sdsnn-method's equations in the comments, so a changed rule changes a number here."""

import math
from dataclasses import asdict, replace

import pytest
import torch

from sdsnn_hw.structure import (
    CONV,
    FC,
    LayerConstants,
    StructureConfig,
    StructureDevelopment,
    synapses,
)

# T_s = 2: streaks of two, so ">= T_s" and "> T_s" or "/ T_s" and "/ 1" differ
RANGES = StructureConfig(plasticity_steps=2)


def _development(
    weights: list[list], prunable: list[bool], config: StructureConfig, **kwargs
) -> StructureDevelopment:
    params = [torch.nn.Parameter(torch.tensor(w, dtype=torch.float32)) for w in weights]
    dev = StructureDevelopment(params, prunable, kwargs.pop("n_classes", 2), config, **kwargs)
    dev.step()  # t = 0: initial spine ranges
    return dev


def _step_with(dev: StructureDevelopment, layer: int, index: tuple, value: float) -> None:
    """Set one weight (as the gradient would have moved it), then run a structure step."""
    with torch.no_grad():
        dev.weights[layer][index] = value
    dev.step()


def test_defaults_are_the_fast_digits_constants() -> None:
    assert asdict(StructureConfig()) == {
        "plasticity_steps": 3, "shrink": 0.75, "regen_growth": 1.8, "regen_q_max": 99.0,
        "regen_q0": 60.0, "regen_steps": 2, "dead_synapses": 20, "prune_rate_init": 45.0,
        "rate_gain_tau": 1.0, "conv_regen_q0": 65.0, "conv_regen_steps": 3,
        "conv_dead_synapses": 10, "conv_prune_rate_init": 5.0, "conv_rate_gain_tau": 5.0,
        "prune_rate_max": 90.0, "rate_gain_steps": 4, "late_rate_gain": 0.00075,
        "step_iterations": 0, "stop_fraction": 1.0,
    }  # fmt: skip
    assert StructureConfig().development_start == 6


def test_constants_per_layer_type() -> None:
    config = StructureConfig(regen_q0=1, regen_steps=2, dead_synapses=3, prune_rate_init=4.0)
    config = replace(config, rate_gain_tau=5.0, conv_regen_q0=6, conv_regen_steps=7)
    config = replace(config, conv_dead_synapses=8, conv_prune_rate_init=9, conv_rate_gain_tau=10)
    assert config.constants(FC) == LayerConstants(1, 2, 3, 4.0, 5.0)
    assert config.constants(CONV) == LayerConstants(6, 7, 8, 9.0, 10.0)


def test_regeneration_percentile_schedule() -> None:
    config = StructureConfig(plasticity_steps=2, regen_growth=1.5, regen_q_max=95.0)
    # q_t = min(q0 + 1.5**(t - 2*2 - 1), 95)
    assert config.regen_percentile(60.0, 5) == 61.0
    assert config.regen_percentile(60.0, 7) == 62.25
    assert config.regen_percentile(65.0, 6) == 66.5
    assert config.regen_percentile(60.0, 15) == 95.0  # 60 + 57.7 is capped


def test_rate_gain_decays_and_fc_switches_relative_to_the_start() -> None:
    config = StructureConfig(plasticity_steps=2, rate_gain_tau=2.0, rate_gain_steps=3)
    config = replace(config, late_rate_gain=0.01, conv_rate_gain_tau=5.0)
    # fc: exp(-(t - 5) / 2) for t - 5 < 3, then 0.01; conv: exp(-(t - 5) / 5), no switch
    assert config.rate_gain(FC, 5) == 1.0
    assert config.rate_gain(FC, 7) == pytest.approx(math.exp(-1.0))
    assert config.rate_gain(FC, 8) == 0.01
    assert config.rate_gain(CONV, 6) == pytest.approx(math.exp(-0.2))
    assert config.rate_gain(CONV, 30) == pytest.approx(math.exp(-5.0))
    # the paper: T_s = 18, the exponential gain until step 60, 0.00075 from step 61
    paper = StructureConfig(plasticity_steps=18, rate_gain_steps=24)
    assert paper.rate_gain(FC, 60) == pytest.approx(math.exp(-23))
    assert paper.rate_gain(FC, 61) == 0.00075


def test_step_zero_sets_ranges_from_the_signed_layer_maximum() -> None:
    dev = _development([[[0.5, -0.9], [0.2, 0.1]]], [False], RANGES)
    state = dev.states[0]
    assert torch.all(state.r_plus == 0.5) and torch.all(state.r_minus == -0.5)
    assert torch.all(state.mask == 1) and dev.step_count == 1
    assert torch.equal(state.prev_abs, torch.tensor([[0.5, 0.9], [0.2, 0.1]]))
    assert dev.weights[0][0, 1] == -0.9  # step 0 changes no weight


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_bound_moves_by_the_summed_overshoot_over_t_s_then_clips(sign: float) -> None:
    dev = _development([[[0.5, 0.1 * sign, -0.5]]], [False], RANGES)
    state = dev.states[0]
    _step_with(dev, 0, (0, 1), 0.7 * sign)  # t = 1: beyond, but not at t = 0
    _step_with(dev, 0, (0, 1), 0.8 * sign)  # t = 2: streak 1, overshoot 0.3

    def streak() -> tuple[torch.Tensor, torch.Tensor]:
        return (state.n_plus, state.c_plus) if sign > 0 else (state.n_minus, state.c_minus)

    counts, sums = streak()
    assert counts[0, 1] == 1 and sums[0, 1] == pytest.approx(0.3 * sign)
    assert dev.weights[0][0, 1].item() == pytest.approx(0.8 * sign)  # t = T_s: not yet clipped
    assert state.n_plus[0, 0] == 1 and state.n_minus[0, 2] == 1  # w = r+- counts as beyond
    _step_with(dev, 0, (0, 1), 0.9 * sign)  # t = 3: streak 2 = T_s, overshoot 0.7
    bound = state.r_plus if sign > 0 else state.r_minus
    assert bound[0, 1].item() == pytest.approx(0.85 * sign)  # 0.5 + 0.7 / 2
    counts, sums = streak()
    assert counts[0, 1] == 0 and sums[0, 1] == 0
    assert dev.weights[0][0, 1].item() == pytest.approx(0.85 * sign)  # clipped, t > T_s
    other = state.r_minus if sign > 0 else state.r_plus
    assert torch.all(other[0, :2] == -0.5 * sign) and state.r_plus[0, 0] == 0.5


def test_ranges_shrink_by_e_after_t_s_consecutive_shrinking_steps() -> None:
    dev = _development([[[0.5, 0.4, 0.4]]], [False], RANGES)
    state = dev.states[0]
    for value, wobble in ((0.3, 0.3), (0.2, 0.35), (0.1, 0.3)):  # t = 1, 2, 3
        with torch.no_grad():
            dev.weights[0][0, 2] = wobble  # shrinks, grows, shrinks: no streak
        _step_with(dev, 0, (0, 1), value)
        if value == 0.2:
            assert state.n_zero[0, 1] == 1 and state.r_plus[0, 1] == 0.5
    assert state.r_plus[0, 1] == 0.375 and state.r_minus[0, 1] == -0.375  # 0.5 * E
    assert state.n_zero[0, 1] == 0
    assert torch.equal(state.r_plus[0, [0, 2]], torch.tensor([0.5, 0.5]))
    assert torch.equal(state.prev_abs, torch.tensor([[0.5, 0.1, 0.3]]))


# Regeneration: T_s = 1 (it runs from t = 3), T_g = 1, q_t = 74 + 1**k = 75 at every step
REGEN = StructureConfig(plasticity_steps=1, regen_steps=1, regen_q0=74.0, regen_growth=1.0)
# rows 1-3 hold ten -0.6 and five 0.4; with masked row 0 the sorted layer is
# -0.6 x10, 0 x2, 0.35, 0.4 x6, 0.45: its 75th percentile (index 14.25) is 0.4
DRIFTED = [0.45, 0.35, 0.4, 0.0, 0.0]


def _regeneration_layer() -> StructureDevelopment:
    weight = [[1.0, -1.0, 0, 0, 0], [-0.6] * 5, [-0.6] * 5, [0.4] * 5]
    dev = _development([weight], [False], REGEN)
    dev.states[0].mask[0] = 0.0  # neuron 0 pruned by hand
    dev.states[0].pruned[0] = True
    with torch.no_grad():
        dev.weights[0][0] = 0.0
    return dev


def _drift_and_step(dev: StructureDevelopment, row: list[float]) -> None:
    with torch.no_grad():
        dev.weights[0][0] = torch.tensor(row)
    dev.step()


def test_regrowth_needs_more_than_t_g_consecutive_pairs_and_keeps_the_drift() -> None:
    dev = _regeneration_layer()
    state = dev.states[0]
    for _ in range(2):  # t = 1, 2: before 2 T_s nothing is counted
        _drift_and_step(dev, DRIFTED)
    assert torch.all(state.regen_streak == 0) and not state.regen_last.any()
    _drift_and_step(dev, DRIFTED)  # t = 3: first step above, streak 0
    assert state.regen_streak[0, 0] == 0 and state.regen_last[0].tolist() == [1, 0, 0, 0, 0]
    _drift_and_step(dev, DRIFTED)  # t = 4: streak 1, not > T_g
    assert state.regen_streak[0, 0] == 1 and state.mask[0, 0] == 0
    _drift_and_step(dev, DRIFTED)  # t = 5: streak 2 > T_g: regrown
    assert state.mask[0].tolist() == [1, 0, 0, 0, 0] and state.regen_streak[0, 0] == 0
    assert dev.weights[0][0].tolist() == pytest.approx([0.45, 0, 0, 0, 0])
    assert bool(state.regrown_ever[0, 0]) and int(state.regrown_ever.sum()) == 1
    report = dev.report()
    assert report["regrown_synapses"] == [1] and report["regrown_unmasked"] == [1]
    for step in (6, 7, 8):  # now (0, 1) drifts highest: regrown at t = 8
        _drift_and_step(dev, [0.45, 0.46, 0.4, 0, 0])
        assert state.mask[0, 1] == (step == 8)
    assert dev.report()["regrown_unmasked"] == [2] and int(state.regrown_ever.sum()) == 2
    assert dev.report()["regrown_synapses"] == [2]  # (0, 0), unmasked, is no candidate


def test_a_gap_restarts_the_regeneration_streak() -> None:
    dev = _regeneration_layer()
    low = [0.1, 0.35, 0.4, 0, 0]
    for row in (DRIFTED, DRIFTED, DRIFTED, DRIFTED, low, DRIFTED, DRIFTED):  # t = 1 .. 7
        _drift_and_step(dev, row)
    assert dev.states[0].mask[0, 0] == 0 and dev.states[0].regen_streak[0, 0] == 1
    _drift_and_step(dev, DRIFTED)  # t = 8: two pairs after the gap
    assert dev.states[0].mask[0, 0] == 1


def test_a_conv_synapse_is_a_kernel_scored_by_its_signed_sum() -> None:
    config = StructureConfig(plasticity_steps=1, regen_growth=1.0, conv_regen_steps=0)
    config = replace(config, conv_regen_q0=49.0, regen_q0=10.0)  # the fc q0 must not apply
    weight = torch.zeros(2, 2, 3, 3)
    weight[1, 1, 0, 0] = 1.0  # spine ranges [-1, 1]
    dev = _development([weight.tolist()], [False], config)
    dev.states[0].mask[0] = 0.0  # filter 0 pruned
    kernels = torch.zeros(2, 2, 3, 3)
    kernels[0, 0] = 0.1  # sum 0.9, largest weight 0.1
    kernels[0, 1, 0, 0], kernels[0, 1, 0, 1] = 0.8, -0.7  # sum 0.1, largest weight 0.8
    kernels[1, 0, 0, 0], kernels[1, 1, 0, 0] = 0.3, -0.5
    assert torch.allclose(synapses(kernels), torch.tensor([[0.9, 0.1], [0.3, -0.5]]))
    for _ in range(4):  # t = 1 .. 4; the median of the sums (0.2) splits them, q = 50
        with torch.no_grad():
            dev.weights[0].copy_(kernels)
        dev.step()
    mask = dev.states[0].mask
    assert torch.all(mask[0, 0] == 1) and torch.all(mask[0, 1] == 0)
    assert dev.report()["regrown_synapses"] == [1]
    assert torch.equal(dev.weights[0][0, 0], torch.full((3, 3), 0.1))


def _pruning_layers(n_classes: int, hidden_next: bool) -> StructureDevelopment:
    """Layer 0: four neurons of four synapses with hand-set spine ranges (weights zero,
    so the ranges never move), then an optional hidden layer and the output layer."""
    config = StructureConfig(plasticity_steps=1, dead_synapses=2, prune_rate_init=49.0)
    config = replace(config, rate_gain_tau=2.0)
    layers = [[[0.0] * 4] * 4] + ([[[0.0] * 4] * 3] if hidden_next else []) + [[[0.0] * 3] * 2]
    prunable = [True] + ([True] if hidden_next else []) + [False]
    dev = _development(layers, prunable, config, n_classes=n_classes)
    state = dev.states[0]
    # spine r+ + |r-| per neuron: 2, [5, 10, 10, 10], 10, 6; the layer's range is 2..10.
    # unit(): 0, [0.375, 1, 1, 1], 1, 0.5. Neuron 1 has only its first synapse unmasked:
    # activity D = 0, 0.375, 4, 2 (without the min-max shift D(1) = 0.625 < D(0) = 1)
    spine = torch.tensor([[2.0] * 4, [5.0, 10, 10, 10], [10.0] * 4, [6.0] * 4])
    state.r_plus, state.r_minus = spine / 2, -spine / 2
    state.mask[1, 1:] = 0.0
    for later in dev.states[1:]:
        later.r_plus, later.r_minus = later.r_plus + 1, later.r_minus - 1
    return dev


def test_the_lowest_activity_neurons_are_pruned_cumulatively() -> None:
    dev = _pruning_layers(n_classes=2, hidden_next=False)
    state = dev.states[0]
    dev.step()  # t = 1
    dev.step()  # t = 2 = 2 T_s: nothing pruned yet
    assert not state.pruned.any() and state.prune_rate == 49.0
    dev.step()  # t = 3: k = int(4 * 0.49) = 1: neuron 0 (D = 0)
    assert state.pruned.tolist() == [True, False, False, False]
    assert torch.all(state.mask[0] == 0)
    # alive (>= 2 unmasked synapses): neurons 2 and 3; p += exp(0) * 2 / K = 1
    assert state.prune_rate == pytest.approx(50.0)
    dev.step()  # t = 4: k = 2, one more: neuron 1 (D = 0.375), not neuron 0 again
    assert state.pruned.tolist() == [True, True, False, False]
    assert state.prune_rate == pytest.approx(50.0 + math.exp(-0.5))  # tau = 2
    assert dev.report()["prune_rate_percent"] == [50.61, None]
    assert dev.report()["pruned_neurons"] == [2, 0]
    assert not dev.states[1].pruned.any()  # the output layer is never pruned


def test_a_hidden_layer_rate_grows_with_a_l_over_a_l_plus_1() -> None:
    dev = _pruning_layers(n_classes=5, hidden_next=True)
    for _ in range(3):  # t = 1, 2, 3
        dev.step()
    # layer 0: A_0 = 2 after its pruning, A_1 = 3 (layer 1 not yet pruned this step)
    assert dev.states[0].prune_rate == pytest.approx(49.0 + 2 / 3)
    # layer 1: k = int(3 * 0.49) = 1 pruned, A_1 = 2, followed by the K = 5 outputs
    assert int(dev.states[1].pruned.sum()) == 1
    assert dev.states[1].prune_rate == pytest.approx(49.0 + 2 / 5)
    # masked: 4 + 3 of 16, 4 of 12, none of the output's 6; the paper's rate: 11 / 28
    report = dev.report()
    assert report["masked_fraction"] == [0.4375, 0.3333, 0.0]
    assert report["paper_pruning_rate"] == 0.3929


def test_conv_filters_use_the_conv_constants() -> None:
    """A conv layer (2 filters of 2 x 3 x 3) before an fc layer: filter pruning with the
    conv initial rate, theta and gain exp(-(t - 2 T_s - 1) / 5)."""
    config = StructureConfig(plasticity_steps=1, conv_prune_rate_init=50.0, dead_synapses=19)
    config = replace(config, conv_dead_synapses=18, prune_rate_init=0.0, prune_rate_max=99.0)
    conv = torch.full((2, 2, 3, 3), 0.5)
    conv[1] = 0.2
    layers = [conv.tolist(), [[0.0] * 18] * 3, [[0.0] * 3] * 2]
    dev = _development(layers, [True, True, False], config)
    for value in (0.1, 0.05, 0.02):  # t = 1, 2, 3: filter 1 shrinks, so do its ranges
        with torch.no_grad():
            dev.weights[0][1] = value
        dev.step()
    conv_state, fc_state = dev.states[0], dev.states[1]
    assert conv_state.pruned.tolist() == [False, True]  # k = int(2 * 0.5) = 1
    assert torch.all(dev.weights[0][1] == 0) and torch.all(dev.weights[0][0] == 0.5)
    # A_conv = 1 (18 entries >= theta_conv = 18); A_fc = 0 (18 < theta_fc = 19) counts as 1
    assert conv_state.prune_rate == pytest.approx(51.0)
    dev.step()  # t = 4: k = int(2 * 0.51) = 1, nothing new; gain exp(-1 / 5)
    assert conv_state.prune_rate == pytest.approx(51.0 + math.exp(-0.2))
    assert fc_state.prune_rate == 0.0 and not fc_state.pruned.any()  # A_fc = 0: p += 0


def test_output_layers_are_never_pruned_but_their_ranges_move() -> None:
    dev = _development([[[0.5, 0.1]]], [False], replace(REGEN, prune_rate_init=90.0))
    for value in (0.7, 0.8, 0.9, 0.9):  # t = 1 .. 4
        _step_with(dev, 0, (0, 1), value)
    assert not dev.states[0].pruned.any() and dev.states[0].prune_rate == 90.0
    assert dev.states[0].r_plus[0, 1] > 0.5
    assert dev.report()["prune_rate_percent"] == [None]


def test_dead_neurons_lose_their_bias_and_regrown_ones_keep_it() -> None:
    bias = torch.nn.Parameter(torch.tensor([0.7, 0.7, 0.7, 0.7]))
    dev = _regeneration_layer()
    dev.biases = [bias]
    for _ in range(4):  # t = 1 .. 4
        _drift_and_step(dev, DRIFTED)
    assert bias.tolist() == pytest.approx([0.0, 0.7, 0.7, 0.7])
    with torch.no_grad():
        bias.fill_(0.5)  # the gradient moves it again before the next step
    dev.apply_masks()
    assert bias.tolist() == [0.0, 0.5, 0.5, 0.5]
    with torch.no_grad():
        dev.weights[0][0, 1] = 0.3
    dev.apply_masks()
    assert dev.weights[0][0, 1] == 0
    _drift_and_step(dev, DRIFTED)  # t = 5: neuron 0 regrows a synapse
    with torch.no_grad():
        bias.fill_(0.5)
    dev.apply_masks()
    assert bias.tolist() == [0.5, 0.5, 0.5, 0.5]


def test_report_rates_and_regrown_synapses_that_survive_quantization() -> None:
    dev = _regeneration_layer()
    output = torch.nn.Parameter(torch.ones(2, 4))
    dev.weights.append(output)
    dev.prunable = [True, False]
    dev.biases = [None, None]
    dev.rules.append(dev.rules[0])
    dev.states.append(type(dev.states[0])(output.detach(), 0.0))
    for _ in range(5):  # t = 1 .. 5: (0, 0) regrows at t = 5
        _drift_and_step(dev, DRIFTED)
    integers = [torch.ones(4, 5), torch.ones(2, 4)]
    integers[0][0, 0] = 0.0  # quantised to zero: not exported
    report = dev.report(integers)
    assert report["masked_fraction"] == [0.2, 0.0]  # 4 of 20, 0 of 8
    assert report["paper_pruning_rate"] == 0.2  # over the pruned layers only
    assert report["regrown_unmasked"] == [1, 0] and report["regrown_exported"] == [0, 0]
    assert report["revived_neurons"] == [0, 0] and report["pruned_neurons"] == [1, 0]
    integers[0][0, 0] = -1.0
    integers[0][0, 1] = 3.0  # masked: does not count
    report = dev.report(integers)
    assert report["regrown_exported"] == [1, 0] and report["revived_neurons"] == [1, 0]
    dev.states[0].mask[0, 0] = 0.0  # masked again: no longer counted
    report = dev.report(integers)
    assert report["regrown_unmasked"] == [0, 0] and report["regrown_exported"] == [0, 0]
    assert report["prune_rate_percent"] == [45.0, None]  # fc p0; no neuron has theta = 20


def test_report_before_the_first_step_and_bad_arguments() -> None:
    weight = torch.nn.Parameter(torch.ones(3, 4))
    dev = StructureDevelopment([weight], [True], 2, StructureConfig())
    assert dev.report() == {
        "pruned_neurons": [], "regrown_synapses": [], "prune_rate_percent": [],
        "masked_fraction": [0.0], "paper_pruning_rate": 0.0, "regrown_unmasked": [],
    }  # fmt: skip
    assert dev.report([torch.ones(3, 4)]) == dev.report()
    with pytest.raises(ValueError) as error:
        StructureDevelopment([weight], [True, False], 2, StructureConfig())
    assert str(error.value) == "one prunable flag per weight tensor is needed"
    with pytest.raises(ValueError) as error:
        StructureDevelopment([weight], [True], 2, StructureConfig(), biases=[None, None])
    assert str(error.value) == "one bias (or None) per weight tensor is needed"
    empty = StructureDevelopment([weight], [False], 2, StructureConfig())
    assert empty.report()["paper_pruning_rate"] == 0.0  # no pruned layer
