"""network.nir reads back with ``nir.read``; its parameters map to the integer neuron as
contract section 6.2 says, enough to rerun the golden model's spikes from the graph."""

import math
from itertools import pairwise

import nir
import numpy as np

from sdsnn_hw.export import IntegerLayer, write_export
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.layer_math import conv_same, sum_pool
from sdsnn_hw.neuron import LifParams

STEPPED = ["l0_synapses", "l0_neurons", "l1_pool", "l1_flatten", "l1_synapses", "l1_neurons"]


def _network(rng) -> list[IntegerLayer]:
    conv = IntegerLayer(
        rng.integers(-3, 4, size=(3, 1, 3, 3)), LifParams(3, 0, 8), 3, 1.0, np.arange(48),
        "conv", np.array([1, 0, -1]), 4, 1, (1, 4, 4),
    )  # fmt: skip
    fc = IntegerLayer(
        rng.integers(-3, 4, size=(4, 12)), LifParams(4, 1, 10), 3, 1.0, np.arange(4), "fc",
        None, 0, 2, (3, 4, 4),
    )  # fmt: skip
    return [conv, fc]


def _graph(tmp_path, rng):
    layers = _network(rng)
    write_export(tmp_path / "export", layers, 4, 6, formats=("nir",))
    return nir.read(tmp_path / "export" / "network.nir"), layers


def test_the_graph_reads_back_with_every_node_and_edge(tmp_path, rng) -> None:
    graph, layers = _graph(tmp_path, rng)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert kinds == {
        "input": "Input", "l0_synapses": "Conv2d", "l0_neurons": "IF", "l1_pool": "SumPool2d",
        "l1_flatten": "Flatten", "l1_synapses": "Affine", "l1_neurons": "LIF", "output": "Output",
    }  # fmt: skip
    chain = ["input", "l0_synapses", "l0_neurons", "l1_pool", "l1_flatten", "l1_synapses"]
    chain += ["l1_neurons", "output"]
    assert sorted(graph.edges) == sorted(pairwise(chain))
    np.testing.assert_array_equal(graph.nodes["l0_synapses"].weight, layers[0].weights)
    np.testing.assert_array_equal(graph.nodes["l0_synapses"].bias, [1, 0, -1])
    np.testing.assert_array_equal(graph.nodes["l1_synapses"].weight, layers[1].weights)
    np.testing.assert_array_equal(graph.nodes["l1_synapses"].bias, np.zeros(4))
    np.testing.assert_array_equal(graph.nodes["l1_pool"].kernel_size, [2, 2])
    assert graph.nodes["l0_neurons"].metadata["v_th"] == 3


def test_the_neuron_mapping_of_the_contract(tmp_path, rng) -> None:
    graph, _ = _graph(tmp_path, rng)
    lif = graph.nodes["l1_neurons"]  # LEAK_SHIFT 1, V_TH 4
    np.testing.assert_allclose(1 - 1 / lif.tau, 0.5)  # decay 2**-LEAK_SHIFT per dt = 1
    np.testing.assert_allclose(lif.r / lif.tau, 1.0)
    np.testing.assert_array_equal(lif.v_threshold, np.full(4, 3.5))  # v > 3.5 iff v >= 4
    np.testing.assert_array_equal(lif.v_leak, 0)
    np.testing.assert_array_equal(lif.v_reset, 0)
    if_node = graph.nodes["l0_neurons"]
    assert if_node.v_threshold.shape == (3, 4, 4)
    np.testing.assert_array_equal(if_node.r, 1.0)


def test_the_graph_alone_reproduces_the_golden_spikes(tmp_path, rng) -> None:
    """A tiny stepper of the read graph: NIR's Euler step with dt = 1 plus the integer
    rules the contract says NIR lacks (floor of the leak, saturation, metadata v_bits)."""
    graph, _ = _graph(tmp_path, rng)
    spikes = (rng.random((25, 6, 16)) < 0.5).astype(np.uint8)
    golden = run_network(GoldenNetwork.from_export(tmp_path / "export"), spikes)
    state: dict[str, np.ndarray] = {}
    for t in range(spikes.shape[1]):
        x = spikes[:, t].reshape(-1, 1, 4, 4).astype(np.int64)
        for name in STEPPED:
            node = graph.nodes[name]
            if isinstance(node, nir.Conv2d):
                x = (
                    conv_same(x, node.weight.astype(np.int64))
                    + node.bias.astype(np.int64)[:, None, None]
                )
            elif isinstance(node, nir.SumPool2d):
                x = sum_pool(x, int(node.kernel_size[0]))
            elif isinstance(node, nir.Flatten):
                x = x.reshape(len(x), -1)
            elif isinstance(node, nir.Affine):
                x = x @ node.weight.T.astype(np.int64) + node.bias.astype(np.int64)
            else:
                meta = node.metadata
                u = state.get(name, np.zeros(x.shape, np.int64))
                decay = 1.0 if isinstance(node, nir.IF) else 1 - 1 / node.tau
                leak = round(-math.log2(float(np.ravel(decay)[0])))
                assert leak == meta["leak_shift"]
                v_max = (1 << (int(meta["v_bits"]) - 1)) - 1
                v = np.clip((u >> leak) + x, -v_max - 1, v_max)
                fire = v > node.v_threshold
                state[name] = np.where(fire, 0, v)
                x = fire.astype(np.int64)
                layer = int(name[1])
                np.testing.assert_array_equal(x.reshape(len(x), -1), golden.spikes[layer][:, t])
    assert golden.spikes[1].any()


def test_the_nir_file_is_deterministic(tmp_path, rng) -> None:
    layers = _network(rng)
    write_export(tmp_path / "a", layers, 4, 6, formats=("nir",))
    write_export(tmp_path / "b", layers, 4, 6, formats=("nir",))
    assert (tmp_path / "a" / "network.nir").read_bytes() == (
        tmp_path / "b" / "network.nir"
    ).read_bytes()
