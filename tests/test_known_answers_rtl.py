"""The hand-worked known answers of tests/known_answers.py on the RTL.

tests/test_rtl.py runs the first single-layer cases (``CASES``); this file runs the
later ones and the multi-layer, multi-sample cases, on the simulation top (widest
widths, configuration through ports) with Verilator and Icarus, and on the synthesis
top, which has the export's exact widths (``W_BITS``, ``V_BITS``, ``ACC_BITS``), so
that an accumulator one bit too narrow would show. The simulations compare with the
golden model; each test also checks the golden model against the literal answers, so
the RTL is held to the numbers worked out by hand.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import sdsnn_hw.rtl as rtl
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.rtl import SIMULATORS, RtlReport
from sdsnn_hw.rtl_top import TOP_MODULE, render_top
from tests.conftest import require_simulator
from tests.known_answers import (
    ACCUMULATOR_EXACT_WIDTH,
    LEAK_SHIFT_2,
    LEAK_SHIFT_3,
    SAMPLES_BACK_TO_BACK,
    THREE_LAYERS_CSR_P2,
    THREE_LAYERS_SAME_STEP,
    KnownCosts,
    KnownNetwork,
)
from tests.networks import known_layers, write_known_network
from tests.test_rtl import _assert_exact, _run

# case, lanes, layout, hand-worked costs (or None): lane counts and layouts vary so the
# cases reach different paths of the core (several words per input, D = 1 banks); the
# three-layer case runs where its costs were worked out by hand.
ACCUMULATOR = (ACCUMULATOR_EXACT_WIDTH.network(), 1, "csr_fanout", None)
THREE_LAYERS = (
    THREE_LAYERS_SAME_STEP,
    THREE_LAYERS_CSR_P2.lanes,
    "csr_fanout",
    THREE_LAYERS_CSR_P2,
)
BACK_TO_BACK = (SAMPLES_BACK_TO_BACK, 4, "dense_rows", None)
RTL_CASES = [
    (LEAK_SHIFT_2.network(), 8, "auto", None),
    (LEAK_SHIFT_3.network(), 8, "auto", None),
    ACCUMULATOR,
    THREE_LAYERS,
    BACK_TO_BACK,
]
# what the synthesis top's exact widths matter for: ACC_BITS 5 (the accumulator case),
# W_BITS 4 and mixed V_BITS (three layers), W_BITS 3 and first_step reaching every layer
SYNTH_CASES = [ACCUMULATOR, THREE_LAYERS, BACK_TO_BACK]
SYNTH_BUILD_ARGS = {"verilator": ["-O2", "--output-split", "0"], "icarus": []}


def _assert_golden_is_the_known_answer(export: Path, case: KnownNetwork) -> None:
    """The golden model, run from the exported files, gives the hand-worked numbers."""
    golden = run_network(GoldenNetwork.from_export(export), case.inputs)
    for i, known in enumerate(case.layers):
        np.testing.assert_array_equal(golden.spikes[i], known.spikes, err_msg=f"layer {i}")
        np.testing.assert_array_equal(golden.membranes[i], known.membranes, err_msg=f"layer {i}")
    assert golden.predictions.tolist() == list(case.predictions)


def _run_known(tmp_path: Path, case: KnownNetwork, lanes: int, layout: str, **options) -> RtlReport:
    """Simulate ``case`` on the simulation top, after checking golden against it."""
    report = _run(tmp_path, known_layers(case), case.inputs, lanes=lanes, layout=layout, **options)
    _assert_golden_is_the_known_answer(tmp_path / "export", case)
    return report


def _ids(cases: list) -> list[str]:
    return [case.name for case, *_ in cases]


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize(("case", "lanes", "layout", "costs"), RTL_CASES, ids=_ids(RTL_CASES))
def test_rtl_reproduces_more_known_answers(
    tmp_path, case: KnownNetwork, lanes: int, layout: str, costs: KnownCosts | None,
    simulator: str,
) -> None:  # fmt: skip
    require_simulator(simulator)
    report = _run_known(tmp_path, case, lanes, layout, simulator=simulator)
    # every spike and membrane of every layer, step and sample, and every counter
    _assert_exact(tmp_path, report, case.inputs)
    assert report.samples == len(case.inputs)
    assert report.predictions == list(case.predictions)
    if costs is None:
        return
    # the core's counters are the costs worked out by hand (cycles = W + D + OVERHEAD)
    assert report.cycles == [sum(costs.step_cycles())]
    assert report.synops == [costs.synops]
    assert report.ptr_reads == [costs.ptr_reads]
    assert report.wrom_reads == [costs.wrom_reads]
    assert report.acc_reads == report.acc_writes == [costs.acc_accesses]
    assert report.mem_reads == report.mem_writes == [costs.mem_accesses]
    assert report.bound == [costs.bound]


def _run_synthesis_top(
    tmp_path: Path,
    case: KnownNetwork,
    lanes: int,
    layout: str,
    simulator: str,
    edit: Callable[[str], str] = lambda text: text,
) -> tuple[int, str]:
    """Build the synthesis top of ``case`` (``edit`` may break it) and run
    rtl_sim.tb_synth_top, which checks the last layer's spikes and the cycles of every
    sample against golden. Returns the failed test count and the simulation log."""
    from cocotb_tools.runner import get_results, get_runner

    manifest, stimulus = write_known_network(tmp_path, case, lanes, layout)
    export = (tmp_path / "export").resolve()
    _assert_golden_is_the_known_answer(export, case)
    # the ROM file parameters default to the manifest's names: point them at the export
    text = render_top(manifest, "synth")
    for layer in manifest.layers:
        for memory in (layer.ptr, layer.weights):
            text = text.replace(f'"{memory.file}"', f'"{export / memory.file}"')
    top = tmp_path / f"{TOP_MODULE}.sv"
    top.write_text(edit(text))
    rtl.find_simulator(simulator)
    runner = get_runner(simulator)
    runner.build(
        sources=[*rtl.hdl_sources(), top], hdl_toplevel=TOP_MODULE,
        build_dir=tmp_path / "build", build_args=SYNTH_BUILD_ARGS[simulator],
        timescale=rtl.TIMESCALE, log_file=tmp_path / "build.log",
    )  # fmt: skip
    results = (tmp_path / "results.xml").resolve()
    # the runner exits when a cocotb test fails; results.xml says which
    with contextlib.suppress(SystemExit):
        runner.test(
            test_module="rtl_sim.tb_synth_top", hdl_toplevel=TOP_MODULE,
            hdl_toplevel_lang="verilog", build_dir=tmp_path / "build", test_dir=tmp_path,
            results_xml=str(results), log_file=tmp_path / "sim.log",
            extra_env={"SDSNN_EXPORT_DIR": str(export), "SDSNN_STIMULUS": str(stimulus.resolve())},
        )  # fmt: skip
    tests, failed = get_results(results)
    assert tests == 1
    return failed, (tmp_path / "sim.log").read_text()


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize(("case", "lanes", "layout", "costs"), SYNTH_CASES, ids=_ids(SYNTH_CASES))
def test_synthesis_top_at_exact_widths_reproduces_known_answers(
    tmp_path, case: KnownNetwork, lanes: int, layout: str, costs: KnownCosts | None,
    simulator: str,
) -> None:  # fmt: skip
    require_simulator(simulator)
    failed, log = _run_synthesis_top(tmp_path, case, lanes, layout, simulator)
    assert failed == 0, log[-3000:]


def test_an_accumulator_one_bit_narrower_fails_the_exact_width_case(tmp_path) -> None:
    """accumulator_exact_width's currents reach both ends of ACC_BITS = 5: with 4 bits,
    15 wraps to -1 and n0 stays silent at step 0 (the case's comment works it out)."""
    case, lanes, layout, _ = ACCUMULATOR

    def narrower(text: str) -> str:
        assert ".ACC_BITS(5)" in text
        return text.replace(".ACC_BITS(5)", ".ACC_BITS(4)")

    failed, log = _run_synthesis_top(tmp_path, case, lanes, layout, "verilator", narrower)
    assert failed == 1
    assert "sample 0, step 0: spikes [0, 0] != [1, 0]" in log


def _patched_hdl(tmp_path: Path, monkeypatch, name: str, old: str, new: str) -> None:
    """Build from a copy of HDL file ``name`` with ``old`` replaced by ``new``."""
    sources = rtl.hdl_sources()
    original = next(p for p in sources if p.name == name)
    text = original.read_text()
    assert old in text
    patched = tmp_path / "hdl" / name
    patched.parent.mkdir()
    patched.write_text(text.replace(old, new))
    monkeypatch.setattr(
        rtl, "hdl_sources", lambda: [patched if p == original else p for p in sources]
    )


def test_a_core_that_ignores_first_step_fails_the_back_to_back_case(tmp_path, monkeypatch) -> None:
    """Membranes carried from one sample into the next: sample 1 already differs at
    step 0 in layer 0 (-4 instead of -3, worked out beside the case)."""
    _patched_hdl(
        tmp_path, monkeypatch, "lif_update.sv", "assign u_old = first_i ? '0 : u_i;",
        "assign u_old = first_i ? u_i : u_i;",  # still reads first_i: -Wall stays quiet
    )  # fmt: skip
    case, lanes, layout, _ = BACK_TO_BACK
    report = _run_known(tmp_path, case, lanes, layout)
    assert report.mismatched_samples == [1, 2]
    mismatch = report.first_mismatch
    assert (mismatch["sample"], mismatch["step"], mismatch["layer"]) == (1, 0, 0)
    assert mismatch["rtl_membranes"][0] == -4 and mismatch["golden_membranes"][0] == -3


def test_a_top_that_starts_only_layer_0_afresh_fails_the_back_to_back_case(
    tmp_path, monkeypatch
) -> None:
    """first_step must reach every layer: with layer 1 carrying its membranes, k0 at
    sample 1, step 0 is -1 - 1 = -2 instead of -1."""
    real_render = rtl.render_top

    def only_layer_0(manifest, target):
        text = real_render(manifest, target)
        assert ".first_step_i(first_q)" in text
        return text.replace(".first_step_i(first_q)", ".first_step_i(1'b0)")

    monkeypatch.setattr(rtl, "render_top", only_layer_0)
    case, lanes, layout, _ = BACK_TO_BACK
    report = _run_known(tmp_path, case, lanes, layout)
    assert report.mismatched_samples == [1, 2]
    mismatch = report.first_mismatch
    assert (mismatch["sample"], mismatch["step"], mismatch["layer"]) == (1, 0, 1)
    assert mismatch["rtl_membranes"][0] == -2 and mismatch["golden_membranes"][0] == -1
