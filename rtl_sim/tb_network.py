"""cocotb testbench: the generated simulation top against the integer golden model.

Driven by environment variables that :func:`sdsnn_hw.rtl.simulate` sets:
``SDSNN_EXPORT_DIR`` (export folder), ``SDSNN_STIMULUS`` (stimulus file),
``SDSNN_REPORT`` (JSON report written here), ``SDSNN_SAMPLES`` (0 = all) and
``SDSNN_PROGRESS`` (a file the runner polls for a progress bar). The ROMs arrive by
plusargs; the testbench sets each layer's neuron configuration through the top's ports.

Python wakes up twice per time step: in the cycle the last layer's done_o is high it
puts the next step on the inputs (start_i stays high, so the step is taken at the next
edge), and after that edge it reads every layer's spikes and membranes (the top's
update collectors hold each layer's whole step). Counters are read once per sample.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, First, ReadOnly, RisingEdge, Timer

from sdsnn_hw.fileio import atomic_write_text
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.rtl_top import COUNTERS, SIM_V_BITS
from sdsnn_hw.stimulus import load_stimulus

PERIOD_NS = 10
MEMBRANE_DTYPE = np.dtype(f"<i{SIM_V_BITS // 8}")
MAX_LISTED_NEURONS = 10


def pack_bits(bits: np.ndarray) -> int:
    """0/1 vector to an integer, element 0 in bit 0."""
    return int.from_bytes(np.packbits(bits.astype(np.uint8), bitorder="little").tobytes(), "little")


def unpack_bits(value: int, width: int) -> np.ndarray:
    raw = value.to_bytes((width + 7) // 8, "little")
    return np.unpackbits(np.frombuffer(raw, np.uint8), bitorder="little", count=width)


def unpack_membranes(value: int, count: int) -> np.ndarray:
    """``count`` signed membranes of :data:`SIM_V_BITS` bits each, neuron 0 lowest."""
    raw = value.to_bytes(count * MEMBRANE_DTYPE.itemsize, "little")
    return np.frombuffer(raw, MEMBRANE_DTYPE).astype(np.int64)


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
        self.sizes = [layer.weights.shape[0] for layer in self.net.layers]
        self.layer_spikes = [getattr(dut, f"l{i}_spikes_o") for i in range(len(self.sizes))]
        self.layer_membranes = [getattr(dut, f"l{i}_membranes_o") for i in range(len(self.sizes))]
        self.counters: dict[str, list[int]] = {name: [] for name in COUNTERS}
        self.layer_cycles: list[int] = []
        self.mismatched: list[int] = []
        self.first_mismatch: dict | None = None
        self.hang: str | None = None
        self.accept_waits = 0
        self.counts = np.zeros((len(self.spikes_in), self.net.classes), np.int64)
        Clock(dut.clk_i, PERIOD_NS, unit="ns").start()
        mask = (1 << SIM_V_BITS) - 1
        for i, layer in enumerate(self.net.layers):
            getattr(dut, f"l{i}_v_th_i").value = layer.lif.v_th
            getattr(dut, f"l{i}_leak_shift_i").value = layer.lif.leak_shift
            getattr(dut, f"l{i}_v_min_i").value = layer.lif.v_min & mask
            getattr(dut, f"l{i}_v_max_i").value = layer.lif.v_max

    def busy_layer(self) -> int:
        """The first layer still busy (the last one if none is)."""
        busy = unpack_bits(int(self.dut.layers_busy_o.value), len(self.sizes))
        return int(np.argmax(busy)) if busy.any() else len(self.sizes) - 1

    async def reset(self) -> bool:
        """Reset, then wait for the clear pass to end (ready_o); False on a hang."""
        dut = self.dut
        dut.rst_ni.value = 0
        dut.start_i.value = 0
        dut.first_step_i.value = 0
        dut.spikes_i.value = 0
        await ClockCycles(dut.clk_i, 2)
        dut.rst_ni.value = 1
        # the clear pass takes max(D, N_IN + 1) cycles per layer, all layers at once
        limit = 2 * (max(self.sizes) + self.net.inputs + 1) + 16
        for _ in range(limit):
            await RisingEdge(dut.clk_i)
            await ReadOnly()
            if int(dut.ready_o.value):
                await RisingEdge(dut.clk_i)
                return True
        self.hang = f"reset, layer {self.busy_layer()}: ready_o not high within {limit} cycles"
        return False

    def present(self, n: int, t: int) -> None:
        """Put step ``t`` of sample ``n`` on the inputs with start_i high."""
        dut = self.dut
        dut.spikes_i.value = pack_bits(self.spikes_in[n, t])
        dut.first_step_i.value = int(t == 0)
        dut.start_i.value = 1

    async def wait_done(self, n: int, t: int) -> bool:
        """Wait for done_o within twice the cycle model's prediction; False on a hang."""
        expected = int(self.golden.step_cycles[n, t])
        limit = 2 * expected + 16
        timeout = Timer(limit * PERIOD_NS, unit="ns")
        if await First(RisingEdge(self.dut.done_o), timeout) is timeout:
            self.hang = (
                f"sample {n}, step {t}, layer {self.busy_layer()}: no done_o within {limit} "
                f"cycles (the cycle model predicts {expected})"
            )
            return False
        return True

    def compare_step(self, n: int, t: int) -> bool:
        """Compare every layer's spikes and membranes of step ``t``; False on a difference."""
        golden, ok = self.golden, True
        for i, size in enumerate(self.sizes):
            spikes = unpack_bits(int(self.layer_spikes[i].value), size)
            membranes = unpack_membranes(int(self.layer_membranes[i].value), size)
            if i == len(self.sizes) - 1:
                self.counts[n] += spikes
            want_spikes, want_membranes = golden.spikes[i][n, t], golden.membranes[i][n, t]
            differ = (spikes != want_spikes) | (membranes != want_membranes)
            if differ.any():
                ok = False
                self.first_mismatch = self.first_mismatch or {
                    "sample": n,
                    "step": t,
                    "layer": i,
                    "neurons": np.flatnonzero(differ)[:MAX_LISTED_NEURONS].tolist(),
                    "rtl_spikes": spikes.tolist(),
                    "golden_spikes": want_spikes.tolist(),
                    "rtl_membranes": membranes.tolist(),
                    "golden_membranes": want_membranes.tolist(),
                }
        return ok

    def read_counters(self) -> dict[str, int]:
        """The counters since reset: ``cycles`` from the top's cycles_o, the others summed
        over layers, and ``layers``, the sum of the layers' own cycle counters."""
        dut = self.dut
        sums = {
            name: sum(int(getattr(dut, f"l{i}_{name}_o").value) for i in range(len(self.sizes)))
            for name in COUNTERS
        }
        return {**sums, "cycles": int(dut.cycles_o.value), "layers": sums["cycles"]}

    async def run_all(self, eager: bool = False) -> None:
        """Run every sample back to back, comparing each step as it finishes.

        The next step goes on the inputs in the done cycle of the previous one, so it is
        taken at the next edge; the outputs are read right after that edge, when the
        update collectors hold the last beat too (and before any layer's next update
        pass). With ``eager`` the next step goes on the inputs already one cycle after
        the previous step was taken, while the network is busy: the start must wait,
        holding its data, until ready_o rises.
        """
        dut = self.dut
        steps = self.net.time_steps
        order = [(n, t) for n in range(len(self.spikes_in)) for t in range(steps)]
        previous = self.read_counters()
        sample_ok = True
        self.present(*order[0])
        if eager:
            await RisingEdge(dut.clk_i)  # step 0 is taken here (ready_o is high)
            self.present_next(order, 1)
        for k, (n, t) in enumerate(order):
            if not await self.wait_done(n, t):
                self.mismatched.append(n)
                dut.start_i.value = 0
                break
            if not eager:
                self.present_next(order, k + 1)
            if t == steps - 1:
                await ReadOnly()  # counters in the done cycle, before the next step starts
                now = self.read_counters()
                self.layer_cycles.append(now["layers"] - previous["layers"])
                for name in COUNTERS:
                    self.counters[name].append(now[name] - previous[name])
                previous = now
            await RisingEdge(dut.clk_i)  # step k + 1 is taken; the collectors are complete
            if eager:
                self.present_next(order, k + 2)
                self.accept_waits += int(not int(dut.ready_o.value))
            await ReadOnly()
            sample_ok = self.compare_step(n, t) and sample_ok
            if t == steps - 1:
                if not sample_ok:
                    self.mismatched.append(n)
                sample_ok = True
                if self.progress_path is not None and (n % 10 == 9 or n == len(order) // steps - 1):
                    atomic_write_text(self.progress_path, str(n + 1))

    def present_next(self, order: list[tuple[int, int]], k: int) -> None:
        """Present step ``k`` of ``order``, or lower start_i after the last one."""
        if k < len(order):
            self.present(*order[k])
        else:
            self.dut.start_i.value = 0

    def write_report(self) -> dict:
        done = len(self.counters["cycles"])
        costs = self.golden.costs
        differing = [
            name for name in COUNTERS if self.counters[name] != getattr(costs, name)[:done].tolist()
        ]
        if self.layer_cycles != self.counters["cycles"] and "cycles" not in differing:
            differing.append("cycles")
        report = {
            "samples": len(self.spikes_in),
            "mismatched_samples": self.mismatched,
            "first_mismatch": self.first_mismatch,
            "hang": self.hang,
            "predictions": np.argmax(self.counts[:done], axis=1).tolist(),
            **self.counters,
            "bound": costs.bound.tolist(),
            "counters_differing": differing,
        }
        atomic_write_text(self.report_path, json.dumps(report) + "\n")
        return report

    def check(self, report: dict) -> None:
        assert self.hang is None, self.hang
        assert not self.mismatched, (
            f"RTL differs from golden on samples {self.mismatched[:10]}: {self.first_mismatch}"
        )
        assert not report["counters_differing"], (
            f"RTL counters differ from golden: {report['counters_differing']}"
        )


@cocotb.test()
async def network_matches_golden(dut) -> None:
    """Every spike and membrane of every layer and step, and every counter, equals golden."""
    bench = Bench(dut)
    if await bench.reset():
        await bench.run_all()
    bench.check(bench.write_report())


@cocotb.test()
async def a_start_raised_while_busy_waits(dut) -> None:
    """Each step's start is raised while the network still works on the previous one: it
    waits, holding its data, and the results stay exact."""
    bench = Bench(dut)
    if await bench.reset():
        await bench.run_all(eager=True)
    report = bench.write_report()
    bench.check(report)
    if len(bench.spikes_in) * bench.net.time_steps > 1:
        assert bench.accept_waits > 0, "no start was ever raised while the network was busy"


@cocotb.test()
async def reset_in_a_step_clears_all_state(dut) -> None:
    """Reset while the first sample's first step is accumulating, then run every sample:
    nothing of the interrupted step may survive into the results."""
    bench = Bench(dut)
    if await bench.reset():
        bench.present(0, 0)
        await RisingEdge(dut.clk_i)  # taken here
        dut.start_i.value = 0
        await ClockCycles(dut.clk_i, max(1, int(bench.golden.step_cycles[0, 0]) // 2))
        await ReadOnly()
        assert int(dut.layers_busy_o.value), "the reset must fall inside a step"
        await RisingEdge(dut.clk_i)
        if await bench.reset():
            await bench.run_all()
    bench.check(bench.write_report())
