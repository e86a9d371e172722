"""cocotb testbench of the synthesis top: the export's exact widths and ROM files.

The regression runs the shape-keyed simulation top (widest widths, configuration on
ports); this bench runs what synthesis gets, constants and all, and checks the last
layer's spikes at every step and the cycle counter of every sample against the golden
model. ``SDSNN_EXPORT_DIR`` and ``SDSNN_STIMULUS`` name the inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from rtl_sim.tb_network import pack_bits
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.stimulus import load_stimulus


@cocotb.test()
async def synthesis_top_matches_golden(dut) -> None:
    net = GoldenNetwork.from_export(Path(os.environ["SDSNN_EXPORT_DIR"]))
    spikes_in = load_stimulus(Path(os.environ["SDSNN_STIMULUS"])).spikes
    golden = run_network(net, spikes_in)
    classes = net.classes
    Clock(dut.clk_i, 10, unit="ns").start()
    dut.rst_ni.value = 0
    dut.start_i.value = 0
    dut.first_step_i.value = 0
    dut.spikes_i.value = 0
    await ClockCycles(dut.clk_i, 2)
    dut.rst_ni.value = 1
    for n, sample in enumerate(spikes_in):
        start_cycles = None
        for t, step in enumerate(sample):
            await FallingEdge(dut.clk_i)
            while not int(dut.ready_o.value):  # the clear pass after reset
                await FallingEdge(dut.clk_i)
            if start_cycles is None:
                start_cycles = int(dut.cycles_o.value)
            dut.spikes_i.value = pack_bits(step)
            dut.first_step_i.value = int(t == 0)
            dut.start_i.value = 1
            await FallingEdge(dut.clk_i)
            dut.start_i.value = 0
            await RisingEdge(dut.done_o)
            await ReadOnly()
            value = int(dut.spikes_o.value)
            found = [(value >> k) & 1 for k in range(classes)]
            expected = golden.spikes[-1][n, t].tolist()
            assert found == expected, f"sample {n}, step {t}: spikes {found} != {expected}"
        await FallingEdge(dut.clk_i)
        cycles = int(dut.cycles_o.value) - start_cycles
        assert cycles == int(golden.cycles[n]), f"sample {n}: {cycles} cycles != golden"
