"""cocotb testbench: the generated network top against the integer golden model.

Driven by environment variables that :func:`sdsnn_hw.rtl.simulate` sets:
``SDSNN_EXPORT_DIR`` (export folder), ``SDSNN_STIMULUS`` (stimulus file),
``SDSNN_REPORT`` (JSON report written here), ``SDSNN_SAMPLES`` (0 = all) and
``SDSNN_PROGRESS`` (a file the runner polls for a progress bar).
"""

from __future__ import annotations

import json
import os
from itertools import pairwise
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, First, ReadOnly, RisingEdge

from sdsnn_hw.fileio import atomic_write_text
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.stimulus import load_stimulus

MASK32 = (1 << 32) - 1


def pack_bits(bits: np.ndarray) -> int:
    """0/1 vector to an integer, element 0 in bit 0."""
    return int.from_bytes(np.packbits(bits.astype(np.uint8), bitorder="little").tobytes(), "little")


def unpack_bits(value: int, width: int) -> np.ndarray:
    raw = value.to_bytes((width + 7) // 8, "little")
    return np.unpackbits(np.frombuffer(raw, np.uint8), bitorder="little", count=width)


def unpack_signed(value: int, count: int, bits: int) -> np.ndarray:
    mask, half = (1 << bits) - 1, 1 << (bits - 1)
    words = [(value >> (n * bits)) & mask for n in range(count)]
    return np.array([w - (1 << bits) if w >= half else w for w in words], dtype=np.int64)


class NetworkObserver:
    """Splits the top's concatenated spike and membrane buses per layer."""

    def __init__(self, net: GoldenNetwork) -> None:
        self.sizes = [layer.weights.shape[0] for layer in net.layers]
        self.v_bits = [layer.lif.v_bits for layer in net.layers]

    def spikes(self, value: int) -> list[np.ndarray]:
        bits = unpack_bits(value, sum(self.sizes))
        edges = np.cumsum([0, *self.sizes])
        return [bits[lo:hi] for lo, hi in pairwise(edges)]

    def membranes(self, value: int) -> list[np.ndarray]:
        out = []
        for size, bits in zip(self.sizes, self.v_bits, strict=True):
            out.append(unpack_signed(value, size, bits))
            value >>= size * bits
        return out


class Bench:
    """The stimulus, the golden model's answers and the comparison state of one run."""

    def __init__(self, dut) -> None:
        self.dut = dut
        stimulus = load_stimulus(Path(os.environ["SDSNN_STIMULUS"]))
        self.report_path = Path(os.environ["SDSNN_REPORT"])
        progress = os.environ.get("SDSNN_PROGRESS")
        self.progress_path = Path(progress) if progress else None
        limit = int(os.environ.get("SDSNN_SAMPLES", "0")) or len(stimulus.spikes)
        self.spikes_in = stimulus.spikes[:limit]
        self.net = GoldenNetwork.from_export(Path(os.environ["SDSNN_EXPORT_DIR"]))
        self.golden = run_network(self.net, self.spikes_in)
        self.observe = NetworkObserver(self.net)
        self.counters: dict[str, list[int]] = {"cycles": [], "synops": [], "mem_reads": []}
        self.mismatched: list[int] = []
        self.first_mismatch: dict | None = None
        self.hang: str | None = None
        self.counts = np.zeros((len(self.spikes_in), self.net.classes), np.int64)

    async def reset(self) -> None:
        dut = self.dut
        dut.rst_ni.value = 0
        dut.start_i.value = 0
        dut.first_step_i.value = 0
        dut.spikes_i.value = 0
        await ClockCycles(dut.clk_i, 2)
        dut.rst_ni.value = 1
        await FallingEdge(dut.clk_i)

    async def start_step(self, step_spikes: np.ndarray, first: bool) -> None:
        dut = self.dut
        dut.spikes_i.value = pack_bits(step_spikes)
        dut.first_step_i.value = int(first)
        dut.start_i.value = 1
        await FallingEdge(dut.clk_i)
        dut.start_i.value = 0

    async def wait_done(self, n: int, t: int) -> bool:
        """Wait for done_o within twice the cycle model's prediction; False on a hang."""
        expected = int(self.golden.step_cycles[n, t])
        limit = 2 * expected + 16
        timeout = ClockCycles(self.dut.clk_i, limit)
        if await First(RisingEdge(self.dut.done_o), timeout) is timeout:
            busy = unpack_bits(int(self.dut.layers_busy_o.value), len(self.net.layers))
            layer = int(np.argmax(busy)) if busy.any() else len(self.net.layers) - 1
            self.hang = (
                f"sample {n}, step {t}, layer {layer}: no done_o within {limit} cycles "
                f"(the cycle model predicts {expected})"
            )
            return False
        return True

    async def run_sample(self, n: int) -> bool:
        """Run sample ``n`` and compare every layer at every step; False on a hang."""
        dut, golden = self.dut, self.golden
        start = self.now()
        sample_ok = True
        for t, step_spikes in enumerate(self.spikes_in[n]):
            await self.start_step(step_spikes, first=t == 0)
            if not await self.wait_done(n, t):
                self.mismatched.append(n)
                return False
            await ReadOnly()
            layer_spikes = self.observe.spikes(int(dut.spikes_o.value))
            layer_membranes = self.observe.membranes(int(dut.membranes_o.value))
            self.counts[n] += layer_spikes[-1]
            for i, (s, m) in enumerate(zip(layer_spikes, layer_membranes, strict=True)):
                spikes_ok = np.array_equal(s, golden.spikes[i][n, t])
                membranes_ok = np.array_equal(m, golden.membranes[i][n, t])
                if sample_ok and not (spikes_ok and membranes_ok):
                    sample_ok = False
                    self.first_mismatch = self.first_mismatch or {
                        "sample": n,
                        "step": t,
                        "layer": i,
                        "rtl_spikes": s.tolist(),
                        "golden_spikes": golden.spikes[i][n, t].tolist(),
                        "rtl_membranes": m.tolist(),
                        "golden_membranes": golden.membranes[i][n, t].tolist(),
                    }
            await FallingEdge(dut.clk_i)
        for key, a, b in zip(self.counters, self.now(), start, strict=True):
            self.counters[key].append((a - b) & MASK32)
        if not sample_ok:
            self.mismatched.append(n)
        return True

    def now(self) -> tuple[int, int, int]:
        dut = self.dut
        return int(dut.cycles_o.value), int(dut.synops_o.value), int(dut.mem_reads_o.value)

    async def run_all(self) -> None:
        for n in range(len(self.spikes_in)):
            if not await self.run_sample(n):
                break
            if self.progress_path is not None and (n % 10 == 9 or n == len(self.spikes_in) - 1):
                atomic_write_text(self.progress_path, str(n + 1))

    def write_report(self) -> dict:
        done = len(self.counters["cycles"])
        expected = {
            "cycles": self.golden.cycles,
            "synops": self.golden.synaptic_ops,
            "mem_reads": self.golden.mem_reads,
        }
        report = {
            "samples": len(self.spikes_in),
            "mismatched_samples": self.mismatched,
            "first_mismatch": self.first_mismatch,
            "hang": self.hang,
            "predictions": np.argmax(self.counts, axis=1).tolist(),
            **{
                f"{key}_match_golden": self.counters[key] == expected[key][:done].tolist()
                for key in self.counters
            },
            **self.counters,
        }
        atomic_write_text(self.report_path, json.dumps(report) + "\n")
        return report

    def check(self, report: dict) -> None:
        assert self.hang is None, self.hang
        assert not self.mismatched, (
            f"RTL differs from golden on samples {self.mismatched[:10]}: {self.first_mismatch}"
        )
        for counter in ("synops", "cycles", "mem_reads"):
            assert report[f"{counter}_match_golden"], f"RTL {counter} counts differ from golden"


@cocotb.test()
async def network_matches_golden(dut) -> None:
    """Every spike and membrane of every layer and step equals the golden model's."""
    bench = Bench(dut)
    Clock(dut.clk_i, 10, unit="ns").start()
    await bench.reset()
    await bench.run_all()
    bench.check(bench.write_report())


@cocotb.test()
async def reset_in_a_step_clears_all_state(dut) -> None:
    """Reset while the first sample's first step is accumulating, then run every sample:
    nothing of the interrupted step may survive into the results."""
    bench = Bench(dut)
    Clock(dut.clk_i, 10, unit="ns").start()
    await bench.reset()
    await bench.start_step(bench.spikes_in[0][0], first=True)
    await ClockCycles(dut.clk_i, int(bench.golden.step_cycles[0, 0]) // 2)
    assert int(dut.layers_busy_o.value), "the reset must fall inside a step"
    await bench.reset()
    await bench.run_all()
    bench.check(bench.write_report())
