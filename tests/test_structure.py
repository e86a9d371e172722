import torch

from sdsnn_hw.structure import StructureConfig, StructureDevelopment

CONFIG = StructureConfig(plasticity_steps=1, regen_steps=1, prune_rate_init=30.0, dead_synapses=2)


def _development(weight: torch.Tensor, prunable: bool = True) -> StructureDevelopment:
    param = torch.nn.Parameter(weight.clone())
    dev = StructureDevelopment([param], [prunable], n_classes=2, config=CONFIG)
    dev.step()  # t = 0: initial spine ranges
    return dev


def test_initial_spine_range_is_the_layer_maximum() -> None:
    dev = _development(torch.tensor([[0.5, -0.9], [0.2, 0.1]]))
    assert torch.all(dev.states[0].r_plus == 0.5)
    assert torch.all(dev.states[0].r_minus == -0.5)


def test_a_sudden_excursion_is_clipped_to_the_spine_range_after_t_s() -> None:
    dev = _development(torch.tensor([[0.5, -0.2], [0.2, 0.1]]), prunable=False)
    with torch.no_grad():
        dev.weights[0][0, 1] = -0.9
    dev.step()  # t = 1: not yet constrained (t > T_s = 1 is needed)
    assert dev.weights[0][0, 1] == -0.9
    with torch.no_grad():
        dev.weights[0][0, 1] = -0.2
    dev.step()
    with torch.no_grad():
        dev.weights[0][0, 1] = -0.9
    dev.step()  # t = 3: below the range now but not one step before: clipped
    assert dev.weights[0][0, 1] == -0.5


def test_a_persistent_excursion_widens_the_spine_range() -> None:
    dev = _development(torch.tensor([[0.5, -0.2], [0.2, 0.1]]), prunable=False)
    with torch.no_grad():
        dev.weights[0][0, 1] = -0.9
    dev.step()
    dev.step()  # below at t = 1 and t = 2: r- moves by the overshoot -0.4 / T_s
    assert torch.isclose(dev.states[0].r_minus[0, 1], torch.tensor(-0.9))
    assert dev.states[0].r_minus[1, 1] == -0.5


def test_weakest_neurons_are_pruned_and_the_rate_grows() -> None:
    torch.manual_seed(0)
    weight = torch.randn(10, 6) * 0.1
    dev = _development(weight)
    for _ in range(3):  # t = 1, 2, 3: pruning starts after t > 2 T_s = 2
        with torch.no_grad():
            dev.weights[0][7] *= 0.5  # neuron 7 keeps weakening: its spine ranges shrink
        dev.step()
    state = dev.states[0]
    assert int(state.pruned.sum()) == int(10 * CONFIG.prune_rate_init / 100)
    assert bool(state.pruned[7])
    assert torch.all(dev.weights[0][state.pruned] == 0)
    assert torch.all(state.mask[state.pruned] == 0)
    assert state.prune_rate > CONFIG.prune_rate_init
    assert dev.report()["pruned_neurons"] == [3]


def test_a_pruned_synapse_that_keeps_growing_regenerates() -> None:
    torch.manual_seed(1)
    dev = _development(torch.randn(10, 6) * 0.1)
    for _ in range(3):
        dev.step()
    state = dev.states[0]
    row = int(torch.nonzero(state.pruned)[0])
    for _ in range(CONFIG.regen_steps + 1):
        with torch.no_grad():
            dev.weights[0][row, 0] = 1.0  # the gradient keeps pushing it up
        dev.step()
    assert state.mask[row, 0] == 1
    assert state.mask[row, 1:].sum() == 0
    assert dev.report()["regrown_synapses"] == [1]


def test_output_layers_are_never_neuron_pruned() -> None:
    dev = _development(torch.randn(4, 6), prunable=False)
    for _ in range(6):
        dev.step()
    assert int(dev.states[0].pruned.sum()) == 0
