"""The Verilog network, built by Verilator and driven by cocotb, against the golden model."""

import numpy as np
import pytest

from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.manifest import ManifestError
from sdsnn_hw.rtl import SIMULATORS, ToolError, simulate
from sdsnn_hw.stimulus import StimulusError
from tests.conftest import require_simulator
from tests.known_answers import CASES, KnownAnswer
from tests.networks import integer_layer, random_network, write_network


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rtl_reproduces_known_answers(tmp_path, case: KnownAnswer, simulator: str) -> None:
    require_simulator(simulator)
    write_network(tmp_path, [integer_layer(case.weights, case.lif)], case.inputs[None])
    report = simulate(
        tmp_path / "export", tmp_path / "stimulus.npz", tmp_path / "rtl", progress=False,
        simulator=simulator,
    )  # fmt: skip
    assert report.mismatched_samples == []
    expected_counts = case.spikes.sum(axis=0)
    assert report.predictions == [int(np.argmax(expected_counts))]
    fanout = np.count_nonzero(case.weights, axis=0)
    synops = int((case.inputs @ fanout).sum())
    assert report.synops == [synops]
    # contract section 7: per step 2 + N_IN + 2 * spiking inputs + synapses + N_OUT cycles
    n_out, n_in = case.weights.shape
    spiking = int(case.inputs.sum())
    steps = len(case.inputs)
    assert report.cycles == [steps * (2 + n_in + n_out) + 2 * spiking + synops]


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
    write_network(tmp_path, layers, inputs)
    report = simulate(
        tmp_path / "export", tmp_path / "stimulus.npz", tmp_path / "rtl", progress=False,
        simulator=simulator,
    )  # fmt: skip
    golden = run_network(GoldenNetwork.from_export(tmp_path / "export"), inputs)
    assert report.samples == samples
    assert report.mismatched_samples == [], report.first_mismatch
    assert report.predictions == golden.predictions.tolist()
    assert report.synops == golden.synaptic_ops.tolist()
    assert report.cycles == golden.cycles.tolist()
    assert report.mem_reads == golden.mem_reads.tolist()
    # the network produced some activity, so the comparison had something to compare
    assert sum(int(s.sum()) for s in golden.spikes) > 0


def test_a_corrupted_rom_is_never_simulated(tmp_path, rng) -> None:
    layers = random_network(rng, (4, 3), weight_bits=6, v_bits=10, density=1.0)
    write_network(tmp_path, layers, np.ones((1, 2, 4)))
    rom = tmp_path / "export" / "l0_syn.mem"
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
    manifest, stimulus = write_network(tmp_path, layers, inputs)
    v_th = manifest.layers[0].v_th
    real_render = rtl.render_top

    def off_by_one(m):
        return real_render(m).replace(f".V_TH({v_th})", f".V_TH({v_th + 1})", 1)

    monkeypatch.setattr(rtl, "render_top", off_by_one)
    report = simulate(tmp_path / "export", stimulus, tmp_path / "rtl", progress=False)
    # with these seeded inputs some layer-0 membrane reaches V_TH exactly, so the bug shows
    assert report.mismatched_samples
    assert report.first_mismatch["layer"] == 0


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

    source = next(p for p in rtl.hdl_sources() if p.name == "lif_layer.sv")
    text = source.read_text()
    assert old in text
    patched = tmp_path / "hdl" / source.name
    patched.parent.mkdir()
    patched.write_text(text.replace(old, new))
    monkeypatch.setattr(rtl, "hdl_sources", lambda: [patched])


def test_a_core_that_never_finishes_fails_with_sample_layer_and_step(
    tmp_path, rng, monkeypatch
) -> None:
    """The testbench waits for done_o at most twice the cycle model's prediction."""
    layers = random_network(rng, (5, 4, 3), weight_bits=6, v_bits=10, density=1.0)
    _, stimulus = write_network(tmp_path, layers, np.ones((2, 3, 5), np.uint8))
    # the update pass never reaches its last neuron: every layer stays busy for ever
    _patched_core(tmp_path, monkeypatch, "if (i_q == IW'(N_OUT - 1)) begin", "if (1'b0) begin")
    report = simulate(tmp_path / "export", stimulus, tmp_path / "rtl", progress=False)
    assert not report.agrees
    assert report.hang is not None
    assert report.hang.startswith("sample 0, step 0, layer 0: no done_o within")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_reset_inside_a_step_leaves_no_state_behind(tmp_path, case: KnownAnswer) -> None:
    inputs = np.stack([case.inputs, case.inputs])
    write_network(tmp_path, [integer_layer(case.weights, case.lif)], inputs)
    report = simulate(
        tmp_path / "export", tmp_path / "stimulus.npz", tmp_path / "rtl", progress=False,
        testcase="reset_in_a_step_clears_all_state",
    )  # fmt: skip
    assert report.agrees, report.first_mismatch
    assert report.samples == 2


def test_reset_that_keeps_accumulators_is_caught(tmp_path, monkeypatch) -> None:
    """The reset test fails on a core whose reset leaves partial sums behind."""
    case = CASES[0]
    write_network(tmp_path, [integer_layer(case.weights, case.lif)], case.inputs[None])
    _patched_core(tmp_path, monkeypatch, "acc_q[n] <= '0;", "")
    report = simulate(
        tmp_path / "export", tmp_path / "stimulus.npz", tmp_path / "rtl", progress=False,
        testcase="reset_in_a_step_clears_all_state",
    )  # fmt: skip
    assert report.mismatched_samples == [0]
    assert report.first_mismatch["rtl_membranes"] != report.first_mismatch["golden_membranes"]


def test_illegal_core_parameters_stop_the_simulation(tmp_path, rng, monkeypatch) -> None:
    import sdsnn_hw.rtl as rtl

    layers = random_network(rng, (4, 3), weight_bits=6, v_bits=10, density=1.0)
    manifest, stimulus = write_network(tmp_path, layers, np.ones((1, 2, 4)))
    v_th = manifest.layers[0].v_th
    real_render = rtl.render_top
    monkeypatch.setattr(rtl, "render_top", lambda m: real_render(m).replace(
        f".V_TH({v_th})", ".V_TH(0)", 1))  # fmt: skip
    with pytest.raises(ToolError, match="no report"):
        simulate(tmp_path / "export", stimulus, tmp_path / "rtl", progress=False)
    assert "V_TH must be in 1" in (tmp_path / "rtl" / "sim.log").read_text()
