"""Vendor-free synthesis flow: real Yosys / nextpnr (YoWASP) runs on a tiny ROM + counter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sdsnn_hw.synth import (
    BLOCK_RAM,
    LOGIC,
    NEXTPNR_LOG,
    YOSYS_LOG,
    SynthError,
    SynthOptions,
    SynthResult,
    check_block_ram,
    synthesize,
    yosys_script,
)

FIXTURES = Path(__file__).resolve().parent / "synth_fixtures"
ROM_COUNTER = FIXTURES / "rom_counter.v"
TOP = "rom_counter"
ROUTER2_LOG_LINE = "Running router2"
DEPTH = 1024
WIDTH = 16


def write_rom_image(path: Path, depth: int = DEPTH, width: int = WIDTH) -> Path:
    """A $readmemh image of random words (a constant ROM would be optimized away)."""
    words = np.random.default_rng(20261126).integers(0, 2**width, size=depth)
    path.write_text("".join(f"{int(w):0{(width + 3) // 4}x}\n" for w in words))
    return path


def synth_rom(
    work: Path, depth: int = DEPTH, target: str = "ecp5", router: str = "router1"
) -> SynthResult:
    # The image's name differs from the RTL default, so the string parameter must get through.
    image = write_rom_image(work.parent / f"{work.name}_image.mem", depth)
    return synthesize(
        [ROM_COUNTER],
        TOP,
        work,
        parameters={"FILE": image.name, "DEPTH": depth, "WIDTH": WIDTH},
        data_files=[image],
        options=SynthOptions(target=target, router=router),
    )


@pytest.fixture(scope="module")
def ecp5(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    return synth_rom(tmp_path_factory.mktemp("synth") / "ecp5")


@pytest.fixture(scope="module")
def xilinx(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    return synth_rom(tmp_path_factory.mktemp("synth") / "xilinx", target="xilinx")


def test_ecp5_place_and_route_reports_resources_and_fmax(ecp5: SynthResult) -> None:
    assert ecp5.target == "ecp5"
    assert ecp5.bram >= 1  # the 1024 x 16 ROM is one DP16KD
    assert ecp5.lut > 0
    assert ecp5.ff >= 10  # the 10-bit address counter at least
    assert ecp5.dsp == 0
    assert ecp5.fmax_mhz is not None and ecp5.fmax_mhz > 0
    assert ecp5.freq_target_mhz == SynthOptions().freq_mhz
    assert ecp5.timing_met == (ecp5.fmax_mhz >= ecp5.freq_target_mhz)
    assert ecp5.cells["DP16KD"] == ecp5.bram
    assert ecp5.pnr_utilization["DP16KD"][1] == 208  # LFE5U-85F block RAMs
    assert set(ecp5.step_seconds) == {"yosys", "nextpnr"}
    assert (ecp5.work_dir / YOSYS_LOG).is_file()
    assert (ecp5.work_dir / NEXTPNR_LOG).is_file()


def test_ecp5_rom_becomes_block_ram(ecp5: SynthResult) -> None:
    (rom,) = ecp5.memories.values()
    assert (rom.name, rom.kind) == (f"{TOP}.rom", BLOCK_RAM)
    check = check_block_ram(ecp5, ["rom"])
    assert check.ok
    assert check.block_ram == ("rom",)
    assert check.leftover_mem_cells == 0
    assert check.lut_ram_cells == 0


def test_check_block_ram_reports_names_it_cannot_find(ecp5: SynthResult) -> None:
    check = check_block_ram(ecp5, ["rom", "no_such_mem"])
    assert not check.ok
    assert check.missing == ("no_such_mem",)


def test_small_rom_staying_in_logic_is_reported(tmp_path: Path) -> None:
    result = synth_rom(tmp_path / "small", depth=16)
    assert result.bram == 0
    check = check_block_ram(result, ["rom"])
    assert not check.ok
    assert check.not_block_ram == {"rom": LOGIC}


def test_xilinx_counts_block_ram(xilinx: SynthResult) -> None:
    assert xilinx.target == "xilinx"
    assert xilinx.cells.get("RAMB18E1", 0) + xilinx.cells.get("RAMB36E1", 0) >= 1
    assert xilinx.bram >= 1
    assert xilinx.bram_36k is not None and xilinx.bram_36k >= 0.5
    assert xilinx.ff >= 10
    assert xilinx.ff == sum(n for c, n in xilinx.cells.items() if c.startswith("FD"))
    assert xilinx.dsp == 0
    assert xilinx.fmax_mhz is None and xilinx.timing_met is None
    assert set(xilinx.step_seconds) == {"yosys"}
    assert xilinx.memories[f"{TOP}.rom"].kind == BLOCK_RAM


def test_syntax_error_names_tool_and_log(tmp_path: Path) -> None:
    source = tmp_path / "broken.v"
    source.write_text("module broken(input wire a, output wire y);\n  assign y = a +;\nendmodule\n")
    work = tmp_path / "work"
    with pytest.raises(SynthError) as info:
        synthesize([source], "broken", work)
    message = str(info.value)
    assert message.startswith("yosys failed")
    assert str(work / YOSYS_LOG) in message
    assert "broken.v:2: ERROR" in message  # the first error, quoted from the log
    assert not (work / NEXTPNR_LOG).exists()


def test_missing_data_file_fails_before_running_tools(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="input file not found"):
        synthesize([ROM_COUNTER], TOP, tmp_path / "work", data_files=[tmp_path / "nope.mem"])
    assert not (tmp_path / "work" / YOSYS_LOG).exists()


@pytest.mark.parametrize("bad", [{"FILE": 'a"b'}, {"bad name": 1}, {"X": 1.5}])
def test_parameters_that_cannot_be_passed_are_rejected(bad: dict) -> None:
    with pytest.raises(SynthError):
        yosys_script(["x.v"], TOP, bad, "ecp5")


def test_script_passes_parameters_to_the_deferred_top() -> None:
    script = yosys_script(["x.v"], TOP, {"FILE": "img.mem", "DEPTH": 8}, "ecp5")
    assert 'chparam -set FILE "img.mem" -set DEPTH 8 $abstract\\rom_counter' in script
    assert f"synth_ecp5 -top {TOP}" in script


def test_router2_routes_the_design(tmp_path: Path, ecp5: SynthResult) -> None:
    result = synth_rom(tmp_path / "router2", depth=256, router="router2")
    assert ROUTER2_LOG_LINE in (result.work_dir / NEXTPNR_LOG).read_text()
    assert result.fmax_mhz is not None and result.bram >= 1
    assert ROUTER2_LOG_LINE not in (ecp5.work_dir / NEXTPNR_LOG).read_text()  # router1


def test_unknown_router_is_rejected() -> None:
    with pytest.raises(SynthError, match="unknown router 'router3'"):
        SynthOptions(router="router3")


def test_unknown_target_is_rejected() -> None:
    with pytest.raises(SynthError, match="unknown target"):
        SynthOptions(target="ice40")


@pytest.mark.parametrize("target", ["ecp5", "xilinx"])
def test_sdsnn_synth_puts_a_networks_weights_in_block_ram(tmp_path: Path, target: str) -> None:
    """`sdsnn synth` on an export: every weight ROM is block RAM; on ECP5 place and route
    passes and the latency follows from the cycle model at Fmax."""
    import json

    from sdsnn_hw.cli import main
    from tests.networks import random_network, write_network

    rng = np.random.default_rng(3)
    layers = random_network(rng, (16, 24, 4), weight_bits=6, v_bits=12, density=0.9)
    inputs = (rng.random((3, 4, 16)) < 0.4).astype(np.uint8)
    write_network(tmp_path, layers, inputs, lanes=4)
    code = main([
        "synth", str(tmp_path / "export"), "--out", str(tmp_path / "synth"),
        "--target", target, "--stimulus", str(tmp_path / "stimulus.npz"),
    ])  # fmt: skip
    assert code == 0
    summary = json.loads((tmp_path / "synth" / "summary.json").read_text())
    assert summary["weight_memories_in_block_ram"] is True
    weight_roms = [kind for name, kind in summary["memories"].items() if "g_block" in name]
    assert weight_roms and set(weight_roms) == {"block_ram"}
    assert summary["bram"] >= 1 and summary["lut"] > 0 and summary["ff"] > 0
    if target == "ecp5":
        assert len(weight_roms) == 2  # flattened: one per layer
        assert summary["fmax_mhz"] > 0
        assert summary["latency_us"] == pytest.approx(
            summary["cycles_per_inference"] / summary["fmax_mhz"], rel=1e-3
        )
