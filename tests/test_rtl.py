"""The P-lane network RTL, built by Verilator (or Icarus) and driven by cocotb, against golden.

Builds are keyed by shapes, lane count and layouts only (weights, thresholds and leaks
reach the simulation at run time), so the cases below share a handful of builds, and
exports of one shape can run in one simulator start.
"""

import re

import numpy as np
import pytest

from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.manifest import ManifestError
from sdsnn_hw.neuron import LifParams
from sdsnn_hw.rtl import SIMULATORS, RtlReport, SimCase, ToolError, simulate, simulate_cases
from sdsnn_hw.rtl_top import SIM_RUN_STEPS
from sdsnn_hw.stimulus import StimulusError, load_stimulus
from tests.conftest import require_simulator
from tests.known_answers import CASES, KnownAnswer
from tests.networks import integer_layer, random_network, write_network

COUNTER_NAMES = (
    "cycles", "synops", "ptr_reads", "wrom_reads", "acc_reads", "acc_writes", "mem_reads",
    "mem_writes",
)  # fmt: skip


def _run(tmp_path, layers, inputs, lanes=8, layout="auto", **options) -> RtlReport:
    """Export ``layers`` in ``tmp_path``, simulate ``inputs`` and return the report."""
    write_network(tmp_path, layers, inputs, lanes=lanes, layout=layout)
    return simulate(
        tmp_path / "export", tmp_path / "stimulus.npz", tmp_path / "rtl", progress=False,
        **options,
    )  # fmt: skip


def _assert_exact(tmp_path, report: RtlReport, inputs: np.ndarray) -> None:
    """Every spike, membrane, prediction and counter equals the golden model's."""
    golden = run_network(GoldenNetwork.from_export(tmp_path / "export"), inputs)
    assert report.hang is None, report.hang
    assert report.mismatched_samples == [], report.first_mismatch
    assert report.predictions == golden.predictions.tolist()
    for name in COUNTER_NAMES:
        assert getattr(report, name) == getattr(golden.costs, name).tolist(), name
    assert report.bound == golden.costs.bound.tolist()
    assert report.counters_match_golden and report.agrees
    assert report.cycles_vs_bound >= 1.0


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rtl_reproduces_known_answers(tmp_path, case: KnownAnswer, simulator: str) -> None:
    require_simulator(simulator)
    inputs = case.inputs[None]
    report = _run(tmp_path, [integer_layer(case.weights, case.lif)], inputs, simulator=simulator)
    _assert_exact(tmp_path, report, inputs)
    assert report.predictions == [int(np.argmax(case.spikes.sum(axis=0)))]
    fanout = np.count_nonzero(case.weights, axis=0)
    assert report.synops == [int((case.inputs @ fanout).sum())]


RANDOM_NETWORKS = [
    # simulator, sizes, weight bits, membrane bits, density, samples, steps
    ("verilator", (12, 9, 5), 6, 10, 0.5, 12, 8),
    ("verilator", (7, 16, 6, 4), 4, 6, 0.7, 10, 6),  # narrow membranes: frequent saturation
    ("verilator", (20, 3), 8, 12, 0.2, 8, 10),
    ("icarus", (7, 16, 6, 4), 4, 6, 0.7, 4, 6),
]


@pytest.mark.parametrize(
    ("simulator", "sizes", "weight_bits", "v_bits", "density", "samples", "steps"),
    RANDOM_NETWORKS,
    ids=lambda v: str(v),
)
def test_random_networks_match_golden_spike_for_spike(
    tmp_path, rng, simulator, sizes, weight_bits, v_bits, density, samples, steps
) -> None:
    require_simulator(simulator)
    layers = random_network(rng, sizes, weight_bits, v_bits, density)
    inputs = (rng.random((samples, steps, sizes[0])) < 0.4).astype(np.uint8)
    report = _run(tmp_path, layers, inputs, simulator=simulator)
    assert report.samples == samples
    _assert_exact(tmp_path, report, inputs)
    golden = run_network(GoldenNetwork.from_export(tmp_path / "export"), inputs)
    # the network produced some activity, so the comparison had something to compare
    assert sum(int(s.sum()) for s in golden.spikes) > 0


# One network shape (12 -> 9 -> 5) for the lane and layout sweep: one build per pair.
LANE_LAYOUTS = [(1, "dense_rows"), (2, "csr_fanout"), (4, "dense_rows"), (8, "csr_fanout"),
                (4, "csr_fanout")]  # fmt: skip


@pytest.mark.parametrize(("lanes", "layout"), LANE_LAYOUTS)
def test_every_lane_count_and_layout_matches_golden(tmp_path, rng, lanes, layout) -> None:
    for case, (w_bits, v_bits, density) in enumerate([(8, 16, 0.6), (4, 5, 0.8)]):
        layers = random_network(rng, (12, 9, 5), w_bits, v_bits, density)
        inputs = (rng.random((4, 6, 12)) < 0.4).astype(np.uint8)
        report = _run(tmp_path / f"case{case}", layers, inputs, lanes=lanes, layout=layout)
        _assert_exact(tmp_path / f"case{case}", report, inputs)


@pytest.mark.parametrize(("lanes", "layout"), [(2, "csr_fanout"), (8, "csr_fanout")])
def test_same_address_back_to_back_is_forwarded(tmp_path, rng, lanes, layout) -> None:
    """Consecutive weight words hit the same bank addresses: the forwarding path."""
    w0 = np.zeros((9, 12), np.int64)
    w0[4] = rng.integers(1, 8, 12)
    w0[5, ::2] = -3
    w1 = np.zeros((5, 9), np.int64)
    w1[2] = 5
    layers = [
        integer_layer(w0, LifParams(60, 1, 10)),
        integer_layer(w1, LifParams(9, 0, 10)),
    ]
    inputs = (rng.random((3, 6, 12)) < 0.7).astype(np.uint8)
    report = _run(tmp_path, layers, inputs, lanes=lanes, layout=layout)
    _assert_exact(tmp_path, report, inputs)


def test_saturation_threshold_equality_and_an_all_pruned_layer(tmp_path) -> None:
    w0 = np.zeros((9, 12), np.int64)
    w0[0, :6] = 7  # up to +42 per step into a 4-bit membrane: saturates at +7 = v_th
    w0[1, 6:] = -7  # down to -42: saturates at -8
    w0[2, 0], w0[2, 1] = 3, 4  # threshold equality: 3 + 4 = 7 = v_th
    w0[3, 2] = 7  # exactly v_th alone
    lif = LifParams(v_th=7, leak_shift=0, v_bits=4)
    rng = np.random.default_rng(5)
    inputs = (rng.random((3, 8, 12)) < 0.5).astype(np.uint8)
    inputs[0, 0] = 0
    inputs[0, 0, [0, 1]] = 1
    layers = [integer_layer(w0, lif), integer_layer(np.ones((5, 9), np.int64), lif)]
    report = _run(tmp_path / "a", layers, inputs, lanes=4, layout="csr_fanout")
    _assert_exact(tmp_path / "a", report, inputs)
    golden = run_network(GoldenNetwork.from_export(tmp_path / "a" / "export"), inputs)
    assert golden.spikes[0][0, 0, 2] == 1  # the equality case is exercised
    assert golden.membranes[0].min() == -8  # and the negative saturation
    # a layer whose every weight is pruned, feeding a live one
    pruned = [integer_layer(np.zeros((9, 12), np.int64), lif), layers[1]]
    report = _run(tmp_path / "b", pruned, inputs, lanes=4, layout="csr_fanout")
    _assert_exact(tmp_path / "b", report, inputs)


def test_one_neuron_layers(tmp_path, rng) -> None:
    """3 -> 1 (dense_rows) -> 4 neurons with P = 4: every bank is one address deep."""
    layers = [
        integer_layer(np.array([[3, 2, -5]]), LifParams(v_th=5, leak_shift=1, v_bits=8), 6),
        integer_layer(np.array([[4], [0], [-3], [9]]), LifParams(v_th=4, leak_shift=0, v_bits=8)),
    ]
    inputs = (rng.random((4, 7, 3)) < 0.6).astype(np.uint8)
    report = _run(tmp_path, layers, inputs, lanes=4, layout="dense_rows")
    _assert_exact(tmp_path, report, inputs)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_a_start_raised_while_busy_waits(tmp_path, rng, simulator) -> None:
    """Every next step's start is raised while the network is busy; results stay exact."""
    require_simulator(simulator)
    layers = random_network(rng, (12, 9, 5), 6, 10, 0.5)
    inputs = (rng.random((3, 5, 12)) < 0.4).astype(np.uint8)
    report = _run(tmp_path, layers, inputs, lanes=4, layout="dense_rows", simulator=simulator)
    _assert_exact(tmp_path, report, inputs)
    # the driver raised each next start right after the previous step was taken: it
    # waited through every cycle of every step but the last, except the accept cycle
    cycles = run_network(GoldenNetwork.from_export(tmp_path / "export"), inputs).step_cycles
    assert report.start_waits == cycles.sum() - cycles[-1, -1] - (cycles.size - 1)


def test_a_stimulus_longer_than_a_run_is_played_in_runs(tmp_path, rng) -> None:
    """More steps than the driver's memory holds: several runs, samples cut between two
    of them (membranes carry over the pause), every step exact."""
    layers = random_network(rng, (6, 3), weight_bits=5, v_bits=8, density=0.8)
    inputs = (rng.random((3, 500, 6)) < 0.3).astype(np.uint8)
    assert inputs.shape[0] * inputs.shape[1] > 1.4 * SIM_RUN_STEPS
    report = _run(tmp_path, layers, inputs, lanes=2, layout="dense_rows")
    _assert_exact(tmp_path, report, inputs)


def _cases_of_one_shape(tmp_path, rng, count: int) -> list[SimCase]:
    """``count`` exports of one shape (12 -> 9 -> 5, P = 4, csr_fanout) with different
    weights, thresholds, membrane widths and sample counts."""
    cases = []
    for k in range(count):
        layers = random_network(rng, (12, 9, 5), 6, [6, 12, 9][k % 3], 0.3 + 0.3 * (k % 3))
        inputs = (rng.random((k + 1, 6, 12)) < 0.5).astype(np.uint8)
        write_network(tmp_path / f"case{k}", layers, inputs, lanes=4, layout="csr_fanout")
        cases.append(
            SimCase(tmp_path / f"case{k}" / "export", tmp_path / f"case{k}" / "stimulus.npz")
        )
    return cases


def _golden(case: SimCase):
    inputs = load_stimulus(case.stimulus).spikes
    return run_network(GoldenNetwork.from_export(case.export_dir), inputs)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_many_exports_of_a_shape_run_in_one_simulator_start(tmp_path, rng, simulator) -> None:
    """ROMs reloaded, configuration set and a reset between cases: each case as exact as
    if it ran alone, though the cases' answers differ (so a stale ROM would show)."""
    require_simulator(simulator)
    cases = _cases_of_one_shape(tmp_path, rng, 3)
    reports = simulate_cases(cases, tmp_path / "rtl", simulator, log=lambda _: None)
    for case, report in zip(cases, reports, strict=True):
        _assert_exact(case.export_dir.parent, report, load_stimulus(case.stimulus).spikes)
    assert len({report.log_file for report in reports}) == 1  # one simulation
    first, second = _golden(cases[0]), _golden(cases[1])
    assert not np.array_equal(first.membranes[0][0], second.membranes[0][0])


def test_a_top_that_does_not_reload_its_roms_fails_the_next_case(
    tmp_path, rng, monkeypatch
) -> None:
    import sdsnn_hw.rtl as rtl

    real_render = rtl.render_top

    def without_reload(manifest, target):
        text = real_render(manifest, target)
        assert ".reload();" in text
        return re.sub(r"\n *u_l\d+\.\w+\.\w+\.reload\(\);", "", text)

    monkeypatch.setattr(rtl, "render_top", without_reload)
    cases = _cases_of_one_shape(tmp_path, rng, 2)
    first, second = simulate_cases(cases, tmp_path / "rtl", log=lambda _: None)
    assert first.agrees  # the images it loaded at the start
    assert second.mismatched_samples  # the first case's weights with the second's inputs


def test_a_hang_ends_its_case_and_the_next_case_runs(tmp_path, rng, monkeypatch) -> None:
    """The driver's own limit per step ends a run that never finishes; the next case
    starts after a reset."""
    _patched_core(tmp_path, monkeypatch, "if (uaddr_q == AW'(DEPTH - 1)) begin", "if (1'b0) begin")
    reports = simulate_cases(_cases_of_one_shape(tmp_path, rng, 2), tmp_path / "rtl", log=print)
    for report in reports:
        assert report.hang.startswith("sample 0, step 0, layer 0: no done_o within"), report.hang
        assert report.mismatched_samples == [0]


def test_a_corrupted_rom_is_never_simulated(tmp_path, rng) -> None:
    layers = random_network(rng, (4, 3), weight_bits=6, v_bits=10, density=1.0)
    write_network(tmp_path, layers, np.ones((1, 2, 4)))
    rom = tmp_path / "export" / "l0_weights.mem"
    text = rom.read_text()
    rom.write_text(("1" if text[0] != "1" else "2") + text[1:])
    with pytest.raises(ManifestError, match="sha256 does not match"):
        simulate(tmp_path / "export", tmp_path / "stimulus.npz", tmp_path / "rtl", progress=False)
    assert not (tmp_path / "rtl" / "sim.log").exists()


def test_a_hardware_bug_is_caught(tmp_path, rng, monkeypatch) -> None:
    """Build the top with layer 0's threshold off by one: the comparison must notice."""
    import sdsnn_hw.rtl as rtl

    layers = random_network(rng, (10, 8, 4), weight_bits=6, v_bits=10, density=0.8)
    inputs = (rng.random((6, 8, 10)) < 0.5).astype(np.uint8)
    _, stimulus = write_network(tmp_path, layers, inputs)
    real_render = rtl.render_top

    def off_by_one(manifest, target):
        text = real_render(manifest, target)
        assert ".v_th_i(l0_v_th_q)" in text
        return text.replace(".v_th_i(l0_v_th_q)", ".v_th_i(l0_v_th_q + 1'b1)")

    monkeypatch.setattr(rtl, "render_top", off_by_one)
    report = simulate(tmp_path / "export", stimulus, tmp_path / "rtl", progress=False)
    # with these seeded inputs some layer-0 membrane reaches V_TH exactly, so the bug shows
    assert report.mismatched_samples
    assert report.first_mismatch["layer"] == 0
    assert report.first_mismatch["neurons"]


def test_a_stimulus_of_the_wrong_width_is_refused(tmp_path, rng) -> None:
    layers = random_network(rng, (4, 3), weight_bits=6, v_bits=10, density=1.0)
    write_network(tmp_path, layers, np.ones((1, 2, 4)))
    wrong = tmp_path / "wrong"
    write_network(wrong, random_network(rng, (5, 3), 6, 10, 1.0), np.ones((1, 2, 5)))
    with pytest.raises(StimulusError, match=r"stimulus\.npz: field 'shape' gives 5 inputs, "):
        simulate(tmp_path / "export", wrong / "stimulus.npz", tmp_path / "rtl", progress=False)
    assert not (tmp_path / "rtl").exists()


def test_a_stimulus_of_the_wrong_length_is_refused(tmp_path, rng) -> None:
    layers = random_network(rng, (4, 3), weight_bits=6, v_bits=10, density=1.0)
    write_network(tmp_path, layers, np.ones((1, 2, 4)), time_steps=3)
    with pytest.raises(StimulusError, match="gives 2 time steps, the export's 'time_steps' is 3"):
        simulate(tmp_path / "export", tmp_path / "stimulus.npz", tmp_path / "rtl", progress=False)


def _patched_core(tmp_path, monkeypatch, old: str, new: str) -> None:
    """Build from a copy of the core with ``old`` replaced by ``new``: a hardware bug."""
    import sdsnn_hw.rtl as rtl

    sources = rtl.hdl_sources()
    core = next(p for p in sources if p.name == "lif_core.sv")
    text = core.read_text()
    assert old in text
    patched = tmp_path / "hdl" / core.name
    patched.parent.mkdir()
    patched.write_text(text.replace(old, new))
    monkeypatch.setattr(rtl, "hdl_sources", lambda: [patched if p == core else p for p in sources])


def test_a_core_that_never_finishes_fails_with_sample_layer_and_step(
    tmp_path, rng, monkeypatch
) -> None:
    """The testbench waits for done_o at most twice the cycle model's prediction."""
    layers = random_network(rng, (5, 4, 3), weight_bits=6, v_bits=10, density=1.0)
    _, stimulus = write_network(tmp_path, layers, np.ones((2, 3, 5), np.uint8), lanes=2)
    # the update pass never reaches its last address: layer 0 stays busy for ever
    _patched_core(tmp_path, monkeypatch, "if (uaddr_q == AW'(DEPTH - 1)) begin", "if (1'b0) begin")
    report = simulate(tmp_path / "export", stimulus, tmp_path / "rtl", progress=False)
    assert not report.agrees
    assert report.hang is not None
    assert report.hang.startswith("sample 0, step 0, layer 0: no done_o within")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_reset_inside_a_step_leaves_no_state_behind(tmp_path, case: KnownAnswer) -> None:
    inputs = np.stack([case.inputs, case.inputs])
    report = _run(
        tmp_path, [integer_layer(case.weights, case.lif)], inputs,
        testcase="reset_in_a_step_clears_all_state",
    )  # fmt: skip
    assert report.agrees, report.first_mismatch
    assert report.samples == 2


def test_reset_that_keeps_accumulators_is_caught(tmp_path, monkeypatch) -> None:
    """The reset test fails on a core whose clear pass leaves partial sums behind."""
    case = CASES[0]
    write_network(tmp_path, [integer_layer(case.weights, case.lif)], case.inputs[None])
    _patched_core(
        tmp_path, monkeypatch, "assign acc_we[p] = s2_en_q[p] || u2_valid_q || clear2_q;",
        "assign acc_we[p] = s2_en_q[p] || u2_valid_q;",
    )  # fmt: skip
    report = simulate(
        tmp_path / "export", tmp_path / "stimulus.npz", tmp_path / "rtl", progress=False,
        testcase="reset_in_a_step_clears_all_state",
    )  # fmt: skip
    assert report.mismatched_samples == [0]
    assert report.first_mismatch["rtl_membranes"] != report.first_mismatch["golden_membranes"]


def test_illegal_core_parameters_stop_the_simulation(tmp_path, rng, monkeypatch) -> None:
    import sdsnn_hw.rtl as rtl

    layers = random_network(rng, (4, 3), weight_bits=6, v_bits=10, density=1.0)
    _, stimulus = write_network(tmp_path, layers, np.ones((1, 2, 4)))
    real_render = rtl.render_top
    monkeypatch.setattr(rtl, "render_top", lambda m, target: re.sub(
        r"\.ACC_BITS\(\d+\)", ".ACC_BITS(2)", real_render(m, target), count=1))  # fmt: skip
    with pytest.raises(ToolError, match="no report"):
        simulate(tmp_path / "export", stimulus, tmp_path / "rtl", progress=False)
    assert "ACC_BITS must be at least W_BITS" in (tmp_path / "rtl" / "sim.log").read_text()


def test_the_synthesis_top_at_exact_widths_matches_golden(tmp_path, rng) -> None:
    """What synthesis gets (the export's own widths, ROM files, constants) runs exact too;
    narrow membranes and weights so that saturation and the exact accumulator matter."""
    from cocotb_tools.runner import get_results, get_runner

    import sdsnn_hw.rtl as rtl
    from sdsnn_hw.rtl_top import TOP_MODULE, render_top

    layers = random_network(rng, (12, 9, 5), weight_bits=4, v_bits=6, density=0.7)
    inputs = (rng.random((4, 6, 12)) < 0.5).astype(np.uint8)
    manifest, stimulus = write_network(tmp_path, layers, inputs, lanes=2, layout="csr_fanout")
    export = (tmp_path / "export").resolve()
    # the ROM file parameters' defaults are the manifest's names: point them at the export
    text = render_top(manifest, "synth")
    for layer in manifest.layers:
        for memory in (layer.ptr, layer.weights):
            text = text.replace(f'"{memory.file}"', f'"{export / memory.file}"')
    top = tmp_path / f"{TOP_MODULE}.sv"
    top.write_text(text)
    rtl.find_verilator()
    runner = get_runner("verilator")
    runner.build(
        sources=[*rtl.hdl_sources(), top], hdl_toplevel=TOP_MODULE,
        build_dir=tmp_path / "build", build_args=["-O2", "--output-split", "0"],
        timescale=rtl.TIMESCALE, log_file=tmp_path / "build.log",
    )  # fmt: skip
    results = runner.test(
        test_module="rtl_sim.tb_synth_top", hdl_toplevel=TOP_MODULE,
        build_dir=tmp_path / "build", test_dir=tmp_path, log_file=tmp_path / "sim.log",
        extra_env={"SDSNN_EXPORT_DIR": str(export), "SDSNN_STIMULUS": str(stimulus.resolve())},
    )  # fmt: skip
    tests, failed = get_results(results)
    assert (tests, failed) == (1, 0), (tmp_path / "sim.log").read_text()[-3000:]


def _record(case) -> list[str]:
    """The record the top's recorder would write for ``case`` if the RTL equalled
    golden: spikes (the last neuron first) and membranes (the collector's last raw
    lane first) in hexadecimal; after a
    sample's last step the counters since reset (all of a layer sum in layer 0)."""
    lines = []
    totals = np.zeros(1 + 8 * len(case.sizes), np.int64)
    for k in range(case.total):
        n, t = divmod(k, case.steps)
        fields = ["s"]
        for i, size in enumerate(case.sizes):
            bits = "".join(str(b) for b in case.golden.spikes[i][n, t][::-1])
            fields.append(format(int(bits, 2), f"0{(size + 3) // 4}x"))
            raw = np.zeros(case.raw[i], np.int64)  # the collector's order, padding lanes 0
            raw[case.orders[i]] = case.golden.membranes[i][n, t]
            fields.append("".join(format(int(v) & 0xFFFFFFFF, "08x") for v in raw[::-1]))
        if t == case.steps - 1:
            costs = case.golden.costs
            totals[0] += costs.cycles[n]
            totals[1:9] += [getattr(costs, name)[n] for name in COUNTER_NAMES]
            fields.append("".join(format(int(v), "016x") for v in totals))
        lines.append(" ".join(fields))
    return [*lines, "e 0"]


def test_the_comparison_names_what_differs_first(tmp_path, rng) -> None:
    """The testbench's comparison, on records written from golden and then broken."""
    from rtl_sim.tb_network import Case, Record

    layers = random_network(rng, (5, 4, 3), weight_bits=6, v_bits=10, density=0.8)
    inputs = (rng.random((3, 3, 5)) < 0.6).astype(np.uint8)
    write_network(tmp_path, layers, inputs, lanes=2)
    export, stimulus = tmp_path / "export", tmp_path / "stimulus.npz"
    case = Case({"export": str(export), "stimulus": str(stimulus), "samples": 0})
    exact = _record(case)

    def report(lines: list[str]) -> dict:
        record = Record.parse("\n".join(lines) + "\n", case.orders, case.raw, case.steps)
        return case.report(record, None)

    good = report(exact)
    assert (good["mismatched_samples"], good["counters_differing"], good["hang"]) == ([], [], None)
    assert good["predictions"] == case.golden.predictions.tolist()
    assert good["cycles"] == case.golden.cycles.tolist()
    # one membrane of layer 1, neuron 2, sample 1, step 2 one higher
    broken = list(exact)
    fields = broken[5].split()
    word = fields[4]
    fields[4] = format((int(word, 16) + (1 << 64)) % (1 << 128), "032x")
    broken[5] = " ".join(fields)
    found = report(broken)
    assert found["mismatched_samples"] == [1]
    assert {k: found["first_mismatch"][k] for k in ("sample", "step", "layer", "neurons")} == {
        "sample": 1, "step": 2, "layer": 1, "neurons": [2],
    }  # fmt: skip
    # an unknown value (x) in layer 0's spikes of sample 0, step 1
    broken = list(exact)
    broken[1] = broken[1].replace("s ", "s x", 1)
    unknown = report(broken)
    assert unknown["mismatched_samples"] == [0]
    assert "x or z" in unknown["first_mismatch"]["error"]
    # the cycle counter of sample 0 one too high: that counter, and only it, differs
    broken = list(exact)
    fields = broken[2].split()
    fields[-1] = format(int(fields[-1], 16) + (1 << (64 * 16)), f"0{len(fields[-1])}x")
    broken[2] = " ".join(fields)
    assert report(broken)["counters_differing"] == ["cycles"]
    # a step finished twice
    extra = report([*exact[:-1], exact[-2], "e 0"])
    assert extra["mismatched_samples"] == [2]
    assert extra["first_mismatch"]["error"] == "the RTL finished 10 steps, 9 were played"
    # a step that missed its limit with layer 1 busy (busy bits: the last layer first)
    hung = report([*exact[:4], "h 10"])
    assert hung["hang"].startswith("sample 1, step 1, layer 1: no done_o within")
    assert hung["mismatched_samples"] == [1]
    assert len(hung["cycles"]) == 1
