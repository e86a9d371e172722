"""Style gates that run with the tests: ruff on Python, verilator -Wall on the RTL."""

import subprocess
import sys

import numpy as np

from sdsnn_hw.export import write_export
from sdsnn_hw.rtl import find_verilator, hdl_sources
from sdsnn_hw.rtl_top import TOP_MODULE, render_top
from tests.conftest import REPO
from tests.networks import integer_layer, random_network


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(REPO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _lint(tmp_path, layers) -> subprocess.CompletedProcess:
    manifest = write_export(tmp_path / "export", layers, layers[-1].weights.shape[0], 4)
    top = tmp_path / f"{TOP_MODULE}.sv"
    top.write_text(render_top(manifest))
    return subprocess.run(
        [
            str(find_verilator()),
            "--lint-only",
            "-Wall",
            "--top-module",
            TOP_MODULE,
            *map(str, hdl_sources()),
            str(top),
        ],
        capture_output=True,
        text=True,
    )


def test_verilator_lint_is_clean_for_a_deep_network(tmp_path, rng) -> None:
    layers = random_network(rng, (9, 17, 8, 3), weight_bits=5, v_bits=12, density=0.6)
    result = _lint(tmp_path, layers)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "%Warning" not in result.stderr


def test_verilator_lint_is_clean_for_degenerate_shapes(tmp_path) -> None:
    # one input, one neuron, no synapse at all: every width is at its minimum
    from sdsnn_hw.neuron import LifParams

    layer = integer_layer(np.zeros((1, 1), np.int64), LifParams(v_th=1, leak_shift=0, v_bits=2))
    result = _lint(tmp_path, [layer])
    assert result.returncode == 0, result.stdout + result.stderr
