"""The random differential regression: 200 networks through the RTL against golden.

The cases of a build group run in batches, many cases per simulator start
(:mod:`sdsnn_hw.fuzz`), as ``sdsnn fuzz`` runs them.
"""

import tempfile
from pathlib import Path

import sdsnn_hw.rtl as rtl
from sdsnn_hw.fuzz import fuzz
from sdsnn_hw.regression import CI_GROUPS, draw_case

CASES = 200
CORNERS = (
    "saturate_high", "saturate_low", "threshold_equal", "empty_fanout_spikes",
    "all_pruned_layers", "one_neuron_layers", "pooled_counts", "conv_edge_spikes",
)  # fmt: skip


def test_a_case_replays_from_its_seed() -> None:
    a, b = draw_case(17), draw_case(17)
    assert a.group == b.group == CI_GROUPS[17 % len(CI_GROUPS)]
    assert all((x.weights == y.weights).all() for x, y in zip(a.layers, b.layers, strict=True))
    assert (a.inputs == b.inputs).all()
    assert a.replay_command() == "sdsnn fuzz --cases 1 --seed 17"
    assert a.replay_command("icarus") == "sdsnn fuzz --cases 1 --seed 17 --simulator icarus"


def test_random_networks_match_golden_in_rtl() -> None:
    report = fuzz(CASES, seed=0, progress=False, log=lambda _: None)
    assert report.cases == CASES
    assert report.failures == [], report.failures[:3]
    # the cases reached every corner of the contract they are meant to exercise
    for corner in CORNERS:
        assert report.coverage[corner] > 0, corner


def test_a_failing_case_is_reported_with_its_seed_and_replay(tmp_path, monkeypatch) -> None:
    """A core that never finishes a step: the case fails with its seed, the hang, its
    simulation log, and the log line names the command that replays it."""
    sources = rtl.hdl_sources()
    core = next(p for p in sources if p.name == "lif_core.sv")
    patched = tmp_path / "hdl" / core.name
    patched.parent.mkdir()
    text = core.read_text()
    assert "if (uaddr_q == AW'(DEPTH - 1)) begin" in text
    patched.write_text(text.replace("if (uaddr_q == AW'(DEPTH - 1)) begin", "if (1'b0) begin"))
    monkeypatch.setattr(rtl, "hdl_sources", lambda: [patched if p == core else p for p in sources])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the failing case's files stay
    lines: list[str] = []
    report = fuzz(1, seed=16, progress=False, log=lines.append)  # build group 0: small
    assert len(report.failures) == 1
    failure = report.failures[0]
    assert failure["seed"] == 16
    assert failure["replay"] == "sdsnn fuzz --cases 1 --seed 16"
    assert failure["hang"].startswith("sample 0, step 0, layer 0: no done_o within")
    assert Path(failure["log"]).is_file()
    assert "fuzz: case 16 differs; replay: sdsnn fuzz --cases 1 --seed 16" in lines
