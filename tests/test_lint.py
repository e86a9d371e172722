"""Style gates that run with the tests: ruff on Python, verilator -Wall on the RTL."""

import subprocess
import sys

import numpy as np
import pytest

from rtl_sim import LINT_WAIVERS
from sdsnn_hw.export import write_export
from sdsnn_hw.neuron import LifParams
from sdsnn_hw.regression import CI_GROUPS, draw_case
from sdsnn_hw.rtl import find_verilator, hdl_sources
from sdsnn_hw.rtl_top import TARGETS, TOP_MODULE, render_top
from tests.conftest import REPO
from tests.networks import integer_layer, random_network


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(REPO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _lint(tmp_path, layers, target: str, lanes: int, layout: str) -> None:
    """verilator --lint-only -Wall on the generated top of ``target`` and the core.

    The synthesis top is read as FPGA tools read it, with ``SYNTHESIS`` defined.
    """
    manifest = write_export(
        tmp_path / "export", layers, layers[-1].weights.shape[0], 4, lanes, layout
    )
    top = tmp_path / f"{TOP_MODULE}.sv"
    top.write_text(render_top(manifest, target))
    defines = ["-DSYNTHESIS"] if target == "synth" else []
    result = subprocess.run(
        [str(find_verilator()), "--lint-only", "-Wall", *defines, "--top-module", TOP_MODULE,
         str(LINT_WAIVERS), *map(str, hdl_sources()), str(top)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "%Warning" not in result.stderr


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("lanes", "layout"), [(8, "csr_fanout"), (1, "dense_rows"),
                                               (4, "dense_rows"), (2, "csr_fanout")])  # fmt: skip
def test_verilator_lint_is_clean_for_a_deep_network(tmp_path, rng, target, lanes, layout) -> None:
    layers = random_network(rng, (9, 17, 8, 3), weight_bits=5, v_bits=12, density=0.6)
    _lint(tmp_path, layers, target, lanes, layout)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("layout", ["csr_fanout", "dense_rows"])
def test_verilator_lint_is_clean_for_degenerate_shapes(tmp_path, target, layout) -> None:
    # one input, one neuron, no synapse at all: every width is at its minimum
    layer = integer_layer(np.zeros((1, 1), np.int64), LifParams(v_th=1, leak_shift=0, v_bits=2))
    _lint(tmp_path, [layer], target, 4, layout)


def test_the_synthesis_top_has_no_simulation_ports_and_loads_the_export(tmp_path, rng) -> None:
    layers = random_network(rng, (6, 5, 3), weight_bits=5, v_bits=12, density=0.6)
    manifest = write_export(tmp_path / "export", layers, 3, 4, 4, "csr_fanout")
    synth, sim = render_top(manifest, "synth"), render_top(manifest, "sim")
    assert 'parameter L0_WEIGHTS_FILE = "l0_weights.mem"' in synth
    assert 'parameter L1_PTR_FILE = "l1_ptr.mem"' in synth
    for text in ("l0_membranes_o", "layers_busy_o", "l0_v_th_i", "update_collector", "PLUSARG"):
        assert text not in synth
        assert text in sim
    assert "_FILE" not in sim  # the simulation ROMs load by plusarg only
    for top in (synth, sim):  # later layers read their map from the update stream
        assert top.count(".MAP_IN(1)") == 1
        assert ".map_valid_i(l0_upd_valid)" in top
        assert ".spikes_i(5'd0)" in top  # layer 1's vector input is unused


MAP_GROUPS = [i for i, group in enumerate(CI_GROUPS) if group.input_shape[1:] != (1, 1)]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("group", MAP_GROUPS, ids=[CI_GROUPS[i].net for i in MAP_GROUPS])
def test_verilator_lint_is_clean_for_conv_pooled_and_biased_networks(
    tmp_path, target, group
) -> None:
    case = draw_case(group)  # seed = group index: the group's first case
    _lint(tmp_path, case.layers, target, case.group.lanes, case.group.layout)


@pytest.mark.parametrize("target", TARGETS)
def test_verilator_lint_is_clean_for_a_wide_input_layer(tmp_path, rng, target) -> None:
    # Fashion-MNIST's 784 inputs: the spike queue's encoder is 1,024 x 10 bits wide
    layers = random_network(rng, (784, 16, 10), weight_bits=6, v_bits=16, density=0.3)
    _lint(tmp_path, layers, target, 8, "dense_rows")
