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
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

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


@cocotb.test()
async def network_matches_golden(dut) -> None:
    """Every spike and membrane of every layer and step equals the golden model's."""
    export = Path(os.environ["SDSNN_EXPORT_DIR"])
    stimulus = load_stimulus(Path(os.environ["SDSNN_STIMULUS"]))
    report_path = Path(os.environ["SDSNN_REPORT"])
    progress_path = Path(os.environ["SDSNN_PROGRESS"]) if "SDSNN_PROGRESS" in os.environ else None
    limit = int(os.environ.get("SDSNN_SAMPLES", "0")) or len(stimulus.spikes)
    spikes_in = stimulus.spikes[:limit]

    net = GoldenNetwork.from_export(export)
    golden = run_network(net, spikes_in)
    observe = NetworkObserver(net)

    Clock(dut.clk_i, 10, unit="ns").start()
    dut.rst_ni.value = 0
    dut.start_i.value = 0
    dut.first_step_i.value = 0
    dut.spikes_i.value = 0
    await ClockCycles(dut.clk_i, 2)
    dut.rst_ni.value = 1
    await FallingEdge(dut.clk_i)

    counters = {"cycles": [], "synops": [], "mem_reads": []}
    mismatched: list[int] = []
    first_mismatch: dict | None = None
    counts = np.zeros((len(spikes_in), net.classes), np.int64)
    previous = (0, 0, 0)
    for n, sample in enumerate(spikes_in):
        sample_ok = True
        for t, step_spikes in enumerate(sample):
            dut.spikes_i.value = pack_bits(step_spikes)
            dut.first_step_i.value = int(t == 0)
            dut.start_i.value = 1
            await FallingEdge(dut.clk_i)
            dut.start_i.value = 0
            await RisingEdge(dut.done_o)
            await ReadOnly()
            layer_spikes = observe.spikes(int(dut.spikes_o.value))
            layer_membranes = observe.membranes(int(dut.membranes_o.value))
            counts[n] += layer_spikes[-1]
            for i, (s, m) in enumerate(zip(layer_spikes, layer_membranes, strict=True)):
                spikes_ok = np.array_equal(s, golden.spikes[i][n, t])
                membranes_ok = np.array_equal(m, golden.membranes[i][n, t])
                if sample_ok and not (spikes_ok and membranes_ok):
                    sample_ok = False
                    first_mismatch = first_mismatch or {
                        "sample": n,
                        "step": t,
                        "layer": i,
                        "rtl_spikes": s.tolist(),
                        "golden_spikes": golden.spikes[i][n, t].tolist(),
                        "rtl_membranes": m.tolist(),
                        "golden_membranes": golden.membranes[i][n, t].tolist(),
                    }
            await FallingEdge(dut.clk_i)
        now = (int(dut.cycles_o.value), int(dut.synops_o.value), int(dut.mem_reads_o.value))
        for key, a, b in zip(counters, now, previous, strict=True):
            counters[key].append((a - b) & MASK32)
        previous = now
        if not sample_ok:
            mismatched.append(n)
        if progress_path is not None and (n % 10 == 9 or n == len(spikes_in) - 1):
            atomic_write_text(progress_path, str(n + 1))

    predictions = np.argmax(counts, axis=1)
    report = {
        "samples": len(spikes_in),
        "mismatched_samples": mismatched,
        "first_mismatch": first_mismatch,
        "predictions": predictions.tolist(),
        "synops_match_golden": counters["synops"] == golden.synaptic_ops.tolist(),
        "cycles_match_golden": counters["cycles"] == golden.cycles.tolist(),
        "mem_reads_match_golden": counters["mem_reads"] == golden.mem_reads.tolist(),
        **counters,
    }
    atomic_write_text(report_path, json.dumps(report) + "\n")
    assert not mismatched, f"RTL differs from golden on samples {mismatched[:10]}: {first_mismatch}"
    for counter in ("synops", "cycles", "mem_reads"):
        assert report[f"{counter}_match_golden"], f"RTL {counter} counts differ from golden"
