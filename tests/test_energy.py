"""Energy model: hand-made counts priced by a hand-made table (every rule worked out by
hand), the shipped tables' sourced figures, table validation, and real golden counts
per layer and per memory with the dense-SNN and ANN baselines."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sdsnn_hw.cli import EXIT_USAGE, main
from sdsnn_hw.counters import CountAccumulator, LayerCount, MemoryCount, NetworkCount
from sdsnn_hw.energy import energy_summary, layer_energy, memory_access_pj, network_energy
from sdsnn_hw.energy_table import (
    BUILTIN,
    EnergyTableError,
    MemoryRule,
    builtin_tables,
    load_table,
    power_law,
)
from sdsnn_hw.export import write_export
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.manifest import load_manifest
from sdsnn_hw.microarch import OVERHEAD
from sdsnn_hw.neuron import LifParams
from tests.networks import integer_layer

# add(b) = b pJ, mult(b) = b^2 pJ, an 8-bit word from an array of B bits 8 * sqrt(B / 64) pJ
UNIT_TABLE = """
name = "unit"
title = "unit test table"
[add]
points = [[1, 1.0], [2, 2.0]]
source = "hand-made"
uncertainty = "none"
[mult]
points = [[1, 1.0], [2, 4.0]]
source = "hand-made"
uncertainty = "none"
[spike]
pj = 0.5
source = "hand-made"
uncertainty = "none"
[memory]
model = "sram"
word_bits = 8
points = [[64, 8.0], [256, 16.0]]
write_factor = 2.0
source = "hand-made"
uncertainty = "none"
[static]
power_w = 0.5
synth_clock = true
clock_mhz = 100.0
source = "hand-made"
uncertainty = "none"
"""


@pytest.fixture
def unit_table(tmp_path):
    path = tmp_path / "unit.toml"
    path.write_text(UNIT_TABLE)
    return load_table(path)


def _layer(**changes) -> LayerCount:
    layer = LayerCount(
        name="l0", kind="fc", synops=10.0, acc_bits=4, mac_bits=0, updates=3.0, update_bits=5,
        spikes=4.0, cycles=200.0, bound=150.0,
        memories=(
            MemoryCount("weights", 8, 8, 1, 5.0, 0.0, True),  # 64-bit array: 8 pJ a word
            MemoryCount("membranes", 4, 64, 2, 2.0, 1.0),  # 256 bits: 16 pJ per 8 bits
        ),
    )  # fmt: skip
    return dataclasses.replace(layer, **changes)


def test_hand_made_counts_cost_what_the_rules_say(unit_table) -> None:
    energy = layer_energy(_layer(), unit_table)
    # 10 synaptic adds at 4 bits; 3 updates of two 5-bit adds; 4 spikes at 0.5 pJ
    assert energy.compute == {"synaptic_ops": 40.0, "neuron_updates": 30.0, "spikes": 2.0}
    # weights: 5 reads x 8 pJ; membranes: 4-bit words (8 pJ), 2 reads + 1 write at 2x
    assert energy.memory == pytest.approx({"weights": 40.0, "membranes": 32.0})
    network = network_energy(NetworkCount("sdsnn", 1, 8, (_layer(),)), unit_table, 100.0)
    # static: 0.5 W for 200 cycles at 100 MHz = 2 us -> 1 uJ = 1e6 pJ
    assert network.static_pj == pytest.approx(1e6)
    assert network.total_pj == pytest.approx(72.0 + 72.0 + 1e6)
    assert network.as_dict()["total"] == pytest.approx(1.000144)
    assert network.as_dict()["latency_us"] == 2.0


def test_a_mac_is_a_multiplication_and_an_addition(unit_table) -> None:
    energy = layer_energy(_layer(synops=2.0, mac_bits=3, memories=()), unit_table)
    assert energy.compute["synaptic_ops"] == pytest.approx(2 * (4 + 9))


def test_power_law_between_and_beyond_the_points() -> None:
    points = ((8.0, 0.03), (32.0, 0.1))
    exponent = math.log(0.1 / 0.03) / math.log(4)
    assert power_law(points, 8) == pytest.approx(0.03)
    assert power_law(points, 32) == pytest.approx(0.1)
    assert power_law(points, 16) == pytest.approx(0.03 * 2**exponent)
    assert power_law(points, 4) == pytest.approx(0.03 * 0.5**exponent)
    three = ((1.0, 1.0), (2.0, 2.0), (4.0, 16.0))  # linear, then quadratic... x^3
    assert power_law(three, 3) == pytest.approx(2 * 1.5**3)
    assert power_law(three, 8) == pytest.approx(16 * 2**3)


def test_block_ram_rule_counts_blocks_at_the_port_width() -> None:
    rule = MemoryRule(
        "block_ram", 1.0, block_ram_pj=20.0, block_ram_min_bits=1024,
        block_ram_port_widths=((512, 36), (1024, 18), (16384, 1)), small_pj_per_bit=0.15,
    )  # fmt: skip
    weights = MemoryCount("weights", 48, 600, 1, 1.0, 0.0, block_ram=True)
    assert memory_access_pj(rule, weights) == 3 * 20.0  # 48 bits at 18 bits per block
    small_rom = MemoryCount("weights", 48, 4, 1, 1.0, 0.0, block_ram=True)
    assert memory_access_pj(rule, small_rom) == 2 * 20.0  # the core asks for block RAM
    bank = MemoryCount("accumulators", 11, 8, 8, 1.0, 1.0)  # 88 bits: LUT RAM
    assert memory_access_pj(rule, bank) == pytest.approx(11 * 0.15)
    large = MemoryCount("membranes", 16, 128, 8, 1.0, 1.0)  # 2,048 bits: one block
    assert memory_access_pj(rule, large) == 20.0


def test_summary_has_parts_baselines_ratios_and_says_it_is_a_model(unit_table, tmp_path) -> None:
    no_synth = tmp_path / "fixed.toml"
    no_synth.write_text(UNIT_TABLE.replace("synth_clock = true", "synth_clock = false"))
    counts = {
        "sdsnn": NetworkCount("sdsnn", 3, 8, (_layer(),)),
        "dense_snn": NetworkCount("dense_snn", 3, 8, (_layer(synops=30.0, cycles=400.0),)),
        "ann": NetworkCount("ann", 3, 8, (_layer(mac_bits=4, spikes=0.0, cycles=100.0),)),
    }
    summary = energy_summary(counts, {"a": unit_table, "b": load_table(no_synth)}, 50.0)
    assert "not a power measurement" in summary["note"]
    assert summary["samples"] == 3
    assert summary["a"]["clock_mhz"] == 50.0 and summary["a"]["clock_from"] == "sdsnn synth fmax"
    assert summary["b"]["clock_mhz"] == 100.0
    for kind in ("a", "b"):
        table = summary[kind]
        totals = {name: table[name]["total"] for name in counts}
        assert table["dense_snn_over_sdsnn"] == pytest.approx(totals["dense_snn"] / totals["sdsnn"])
        assert table["ann_over_sdsnn"] == pytest.approx(totals["ann"] / totals["sdsnn"])
        parts = table["sdsnn"]
        assert parts["total"] == pytest.approx(parts["compute"] + parts["memory"] + parts["static"])
    # 200 cycles at 50 MHz: 4 us of 0.5 W
    assert summary["a"]["sdsnn"]["static"] == pytest.approx(2.0)
    assert summary["counts"]["sdsnn"]["layers"][0]["synops"] == 10.0


def test_shipped_tables_hold_the_sourced_figures() -> None:
    tables = builtin_tables()
    asic, fpga = tables["asic"], tables["fpga"]
    assert power_law(asic.add, 8) == pytest.approx(0.03)  # Horowitz, ISSCC 2014
    assert power_law(asic.add, 32) == pytest.approx(0.1)
    assert power_law(asic.mult, 8) == pytest.approx(0.2)
    assert asic.memory.points[0] == (65536.0, 10.0)  # 64-bit read from 8 KB: 10 pJ
    assert asic.static_w == 0.0 and not asic.synth_clock
    assert fpga.memory.model == "block_ram" and fpga.static_w > 0 and fpga.synth_clock
    for table in tables.values():
        assert set(table.sources) == {"add", "mult", "spike", "memory", "static"}
        for section in table.sources.values():
            assert section["source"].strip() and section["uncertainty"].strip()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('[1, 1.0], [2, 2.0]]\nsource = "hand-made"', "[1, 1.0], [2, 2.0]]", "add.source"),
        ("points = [[64, 8.0], [256, 16.0]]", "points = [[256, 8.0], [64, 16.0]]", "memory.points"),
        ('model = "sram"', 'model = "dram"', "memory.model"),
        ("pj = 0.5", "pj = -1", "spike.pj"),
        ("synth_clock = true", "synth_clock = 1", "static.synth_clock"),
    ],
)  # fmt: skip
def test_a_bad_table_names_the_file_and_field(tmp_path, old, new, field) -> None:
    assert old in UNIT_TABLE
    path = tmp_path / "bad.toml"
    path.write_text(UNIT_TABLE.replace(old, new, 1))
    with pytest.raises(EnergyTableError, match=f"{path}: field '{field}'"):
        load_table(path)


def test_report_with_a_bad_table_exits_2_naming_it(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n")
    code = main(["report", str(tmp_path), "--fpga-table", str(bad)])
    assert code == EXIT_USAGE
    assert f"{bad}: field 'title'" in capsys.readouterr().err
    assert BUILTIN["asic"].is_file()


def _dense_export(tmp_path, rng, config=None):
    """A 6-5-3 network with every weight non-zero (so no neuron is removed)."""
    layers = []
    for n_in, n_out in ((6, 5), (5, 3)):
        weights = rng.integers(1, 8, size=(n_out, n_in)) * rng.choice([-1, 1], size=(n_out, n_in))
        layers.append(integer_layer(weights, LifParams(v_th=6, leak_shift=1, v_bits=10), 5))
    manifest = write_export(tmp_path / "export", layers, 3, 4, lanes=4, layout="dense_rows")
    if config is not None:
        manifest = dataclasses.replace(manifest, config=config)
    net = GoldenNetwork.from_export(tmp_path / "export")
    spikes = (rng.random((7, 4, 6)) < 0.5).astype(np.uint8)
    return manifest, net, spikes


def test_per_layer_counts_split_the_golden_totals(tmp_path, rng) -> None:
    manifest, net, spikes = _dense_export(tmp_path, rng)
    result = run_network(net, spikes)
    counter = CountAccumulator(net, load_manifest(tmp_path / "export"))
    counter.add(spikes[:3], run_network(net, spikes[:3]))  # two chunks, as run_in_chunks gives
    counter.add(spikes[3:], run_network(net, spikes[3:]))
    counts = counter.counts()
    sdsnn = counts["sdsnn"]
    assert sdsnn.samples == 7
    costs = result.costs
    assert sum(layer.synops for layer in sdsnn.layers) == pytest.approx(costs.synops.mean())
    assert sdsnn.cycles == pytest.approx(costs.cycles.mean())
    assert sum(layer.bound for layer in sdsnn.layers) == pytest.approx(costs.bound.mean())
    for name, field in (("weights", "wrom_reads"), ("pointers", "ptr_reads"),
                        ("accumulators", "acc_reads"), ("membranes", "mem_reads")):  # fmt: skip
        reads = sum(m.reads for layer in sdsnn.layers for m in layer.memories if m.memory == name)
        assert reads == pytest.approx(getattr(costs, field).mean())
    for i, (layer, spec) in enumerate(zip(sdsnn.layers, manifest.layers, strict=True)):
        assert layer.spikes == pytest.approx(result.spikes[i].sum() / 7)
        memories = {m.memory: m for m in layer.memories}
        assert (memories["weights"].width, memories["weights"].depth) == (
            spec.weights.width, spec.weights.depth,
        )  # fmt: skip
        assert (memories["accumulators"].width, memories["accumulators"].depth) == (
            spec.acc_bits, spec.bank_depth,
        )  # fmt: skip
        assert memories["accumulators"].arrays == 4
    # without a training configuration the dense network is the exported one: here dense
    dense = counts["dense_snn"]
    for a, b in zip(dense.layers, sdsnn.layers, strict=True):
        assert (a.synops, a.cycles, a.spikes) == pytest.approx((b.synops, b.cycles, b.spikes))


def test_baselines_use_the_trained_sizes(tmp_path, rng) -> None:
    config = {"network": {"net": "FC8-FC3", "input_shape": [6, 1, 1]}}
    _, net, spikes = _dense_export(tmp_path, rng, config)
    manifest = dataclasses.replace(load_manifest(tmp_path / "export"), config=config)
    result = run_network(net, spikes)
    counter = CountAccumulator(net, manifest)
    counter.add(spikes, result)
    counts = counter.counts()
    events_in = spikes.sum() / 7
    hidden = result.spikes[0].sum() / 7
    dense = counts["dense_snn"].layers
    # every input reaches all 8 trained neurons; the 3 removed hidden neurons spike at the
    # kept ones' mean rate, so layer 1 sees 8/5 of the measured events
    assert dense[0].synops == pytest.approx(events_in * 8)
    assert dense[0].spikes == pytest.approx(hidden / 5 * 8)
    assert dense[1].synops == pytest.approx(hidden * 8 / 5 * 3)
    steps, depth = 4, 2  # 8 neurons on 4 lanes
    assert dense[0].cycles == pytest.approx(events_in * depth + steps * (depth + OVERHEAD))
    ann = counts["ann"].layers
    assert [layer.synops for layer in ann] == pytest.approx([6 * 8, 8 * 3])  # MACs
    assert [layer.mac_bits for layer in ann] == [5, 5]
    words = {m.memory: m for m in ann[0].memories}["weights"]
    assert words.reads == pytest.approx(6 * depth) and words.width == 4 * 5
    assert ann[0].cycles == pytest.approx(6 * depth + depth + OVERHEAD)
    assert ann[0].spikes == 0 and ann[0].updates == pytest.approx(4 * depth)
