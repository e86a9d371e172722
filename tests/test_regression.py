"""The random differential regression: 200 networks through the RTL against golden."""

from sdsnn_hw.fuzz import fuzz
from sdsnn_hw.regression import CI_GROUPS, draw_case

CASES = 200
CORNERS = (
    "saturate_high", "saturate_low", "threshold_equal", "empty_fanout_spikes",
    "all_pruned_layers", "one_neuron_layers",
)  # fmt: skip


def test_a_case_replays_from_its_seed() -> None:
    a, b = draw_case(17), draw_case(17)
    assert a.group == b.group == CI_GROUPS[17 % len(CI_GROUPS)]
    assert all((x.weights == y.weights).all() for x, y in zip(a.layers, b.layers, strict=True))
    assert (a.inputs == b.inputs).all()
    assert a.replay_command() == "sdsnn fuzz --cases 1 --seed 17"


def test_random_networks_match_golden_in_rtl() -> None:
    report = fuzz(CASES, seed=0, progress=False, log=lambda _: None)
    assert report.cases == CASES
    assert report.failures == [], report.failures[:3]
    # the cases reached every corner of the contract they are meant to exercise
    for corner in CORNERS:
        assert report.coverage[corner] > 0, corner
