"""cocotb testbench: the generated simulation top against the integer golden model.

:func:`sdsnn_hw.rtl.simulate` (one export) and :func:`sdsnn_hw.rtl.simulate_cases`
(many exports of one shape in one simulator start) set ``SDSNN_CASES``, a JSON file
naming the folder of the ROM images the plusargs name, the file the reports go to (one
JSON line per case) and, per case, the export, stimulus and sample count; and
``SDSNN_PROGRESS``, a file the runner polls.

The simulation top (:mod:`sdsnn_hw.rtl_top`, target ``sim``) generates its clock and
holds a step driver and a recorder, so Python does not wake up per cycle or step. Per
case it writes the ROM images and has the top reload them, sets each layer's neuron
configuration on the ports and resets; then each run of up to
:data:`~sdsnn_hw.rtl_top.SIM_RUN_STEPS` steps is one file write and one wake-up at its
end. The record then holds every layer's spikes and membranes after every step and
the counters after every sample; all of it is compared with the golden model at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from io import TextIOWrapper
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, First, ReadOnly, RisingEdge, Timer

from sdsnn_hw.golden import GoldenNetwork, costs_of, run_network
from sdsnn_hw.layouts import bank_depth
from sdsnn_hw.manifest import load_manifest
from sdsnn_hw.memfile import format_mem
from sdsnn_hw.rtl import write_scratch, write_sim_memories
from sdsnn_hw.rtl_top import (
    COUNTERS,
    SIM_CLOCK_NS,
    SIM_LIMIT_BITS,
    SIM_RUN_STEPS,
    SIM_V_BITS,
    raw_neurons,
    raw_order,
    record_counters,
)
from sdsnn_hw.stimulus import load_stimulus

MAX_LISTED_NEURONS = 10


def pack_bits(bits: np.ndarray) -> int:
    """0/1 vector to an integer, element 0 in bit 0."""
    return int.from_bytes(np.packbits(bits.astype(np.uint8), bitorder="little").tobytes(), "little")


def _hex_bytes(text: str) -> bytes:
    """Big-endian bytes of a hexadecimal record field; ValueError on x or z digits."""
    return bytes.fromhex(text if len(text) % 2 == 0 else "0" + text)


def _spikes(text: str, count: int) -> np.ndarray:
    """A ``count``-bit spike vector (neuron 0 in the last hex digit), neuron 0 first."""
    return np.unpackbits(np.frombuffer(_hex_bytes(text), np.uint8))[::-1][:count]


def _membranes(text: str, order: np.ndarray, count: int) -> np.ndarray:
    """``count`` signed :data:`SIM_V_BITS`-bit membranes of a collector (bank address
    major, padding lanes included), as neurons: ``order[n]`` is neuron n's raw index."""
    words = np.frombuffer(_hex_bytes(text), f">i{SIM_V_BITS // 8}")[::-1]
    if len(words) != count:
        raise ValueError(f"{len(words)} membranes, expected {count}")
    return words[order].astype(np.int64)


@dataclass
class Record:
    """What the top's recorder wrote for one case (docs/microarchitecture.md, section 8).

    Attributes:
        spikes, membranes: per layer, (finished steps, neurons), in the order played.
        unreadable: per layer, (finished steps,) True where a field held x or z or the
            line was malformed.
        counters: (finished samples, counters of :func:`record_counters`), since reset.
        hang_busy: the busy layers (a bit string, last layer first) of a step that
            missed its limit, or None.
        start_waits: cycles in which the driver's next step waited for ready_o.
    """

    spikes: list[np.ndarray]
    membranes: list[np.ndarray]
    unreadable: list[np.ndarray]
    counters: np.ndarray
    hang_busy: str | None = None
    start_waits: int = 0

    @classmethod
    def parse(cls, text: str, orders: list[np.ndarray], raw: list[int], steps: int) -> Record:
        """Parse the lines of one case: per layer, ``raw`` membranes that ``orders`` maps
        to its neurons (:func:`~sdsnn_hw.rtl_top.raw_order`); ``steps`` per sample (its
        last line adds counters)."""
        sizes = [len(order) for order in orders]
        lines = text.splitlines()
        hang_busy, waits = None, 0
        step_lines = []
        for line in lines:
            kind, _, rest = line.partition(" ")
            if kind == "s":
                step_lines.append(rest.split())
            elif kind == "h":
                hang_busy = rest.strip()
            elif kind == "e":
                waits += int(rest)
        count, layers = len(step_lines), len(sizes)
        spikes = [np.zeros((count, n), np.uint8) for n in sizes]
        membranes = [np.zeros((count, n), np.int64) for n in sizes]
        unreadable = [np.zeros(count, bool) for _ in sizes]
        fields = len(record_counters(layers))
        counters = np.full((count // steps, fields), -1, np.int64)
        for k, parts in enumerate(step_lines):
            last = k % steps == steps - 1
            if len(parts) != 2 * layers + last:
                for bad in unreadable:
                    bad[k] = True
                continue
            for i, n in enumerate(sizes):
                try:
                    spikes[i][k] = _spikes(parts[2 * i], n)
                    membranes[i][k] = _membranes(parts[2 * i + 1], orders[i], raw[i])
                except ValueError:
                    unreadable[i][k] = True
            if last:
                with contextlib.suppress(ValueError):  # else -1: differs from any count
                    counters[k // steps] = np.frombuffer(_hex_bytes(parts[-1]), ">u8")
        return cls(spikes, membranes, unreadable, counters, hang_busy, waits)


class Case:
    """One export, its stimulus and the golden model's answers (an ``SDSNN_CASES`` entry)."""

    def __init__(self, entry: dict) -> None:
        self.export = Path(entry["export"])
        spikes = load_stimulus(Path(entry["stimulus"])).spikes
        self.spikes_in = spikes[: entry["samples"] or len(spikes)]
        self.net = GoldenNetwork.from_export(self.export)
        self.golden = run_network(self.net, self.spikes_in)
        self.sizes = [s.shape[2] for s in self.golden.spikes]
        manifest = load_manifest(self.export)
        self.orders = [raw_order(spec, manifest.lanes) for spec in manifest.layers]
        self.raw = [raw_neurons(spec, manifest.lanes) for spec in manifest.layers]
        self.steps = self.net.time_steps
        self.total = len(self.spikes_in) * self.steps
        # wall and CPU time of the runs (the simulator playing steps), for speed reports
        self.run_seconds = self.run_cpu_seconds = 0.0

    def last_accumulate_cycle(self) -> int:
        """The cycle, counted from the accept, of layer 0's last accumulator write in
        sample 0's first step: the update pass reads from that cycle on and clears the
        first address one cycle later, D + 1 cycles before done_o (docs/microarchitecture.md,
        sections 3 and 4). A reset right after it leaves every partial sum behind."""
        first = self.net.layers[0]
        alone = GoldenNetwork([first], self.steps, self.net.classes, self.net.lanes)
        cycles = costs_of(alone, [self.spikes_in[:1, :1]])
        shape = first.shape
        _, height, width = shape.out_shape
        depth = bank_depth(shape.out_channels, self.net.lanes) * height * width
        return max(1, int(cycles.step_cycles[0, 0]) - depth - 1)

    def limits(self) -> np.ndarray:
        """Cycles each step may take, in the order played: twice the cycle model's, + 16."""
        limit = 2 * self.golden.step_cycles.reshape(-1).astype(np.int64) + 16
        return np.minimum(limit, (1 << SIM_LIMIT_BITS) - 1)

    def words(self) -> list[int]:
        """The driver's stimulus words ``{limit, last, first, spikes}``, in order."""
        inputs = self.spikes_in.shape[2]
        packed = np.packbits(self.spikes_in.reshape(self.total, inputs), axis=1, bitorder="little")
        t = np.arange(self.total) % self.steps
        flags = (t == 0).astype(np.int64) | (t == self.steps - 1).astype(np.int64) << 1
        return [
            (int(limit) << 2 | int(flag)) << inputs | int.from_bytes(row.tobytes(), "little")
            for limit, flag, row in zip(self.limits(), flags, packed, strict=True)
        ]

    def hang_message(self, k: int, busy: str) -> str:
        """The hang report of step ``k`` (in play order), ``busy`` last layer first."""
        n, t = divmod(k, self.steps)
        layer = busy[::-1].find("1")
        expected = int(self.golden.step_cycles[n, t])
        return (
            f"sample {n}, step {t}, layer {layer if layer >= 0 else len(busy) - 1}: no "
            f"done_o within {2 * expected + 16} cycles (the cycle model predicts {expected})"
        )

    def report(self, record: Record, hang: str | None) -> dict:
        """Compare the record with golden: the testbench's JSON report."""
        golden, steps = self.golden, self.steps
        done = min(len(record.spikes[0]), self.total)
        first_mismatch = None
        differ = np.zeros(done, bool)
        per_layer = []
        for i, n in enumerate(self.sizes):
            want_spikes = golden.spikes[i].reshape(self.total, n)[:done]
            want_membranes = golden.membranes[i].reshape(self.total, n)[:done]
            neurons = (record.spikes[i][:done] != want_spikes) | (
                record.membranes[i][:done] != want_membranes
            )
            bad = neurons.any(axis=1) | record.unreadable[i][:done]
            per_layer.append((neurons, bad))
            differ |= bad
        mismatched = sorted({int(k) // steps for k in np.flatnonzero(differ)})
        if differ.any():
            k = int(np.argmax(differ))
            i = next(i for i, (_, bad) in enumerate(per_layer) if bad[k])
            n, t = divmod(k, steps)
            first_mismatch = {"sample": n, "step": t, "layer": i}
            if record.unreadable[i][k]:
                first_mismatch["error"] = "the record line holds x or z, or is malformed"
            else:
                first_mismatch |= {
                    "neurons": np.flatnonzero(per_layer[i][0][k])[:MAX_LISTED_NEURONS].tolist(),
                    "rtl_spikes": record.spikes[i][k].tolist(),
                    "golden_spikes": golden.spikes[i][n, t].tolist(),
                    "rtl_membranes": record.membranes[i][k].tolist(),
                    "golden_membranes": golden.membranes[i][n, t].tolist(),
                }
        finished = len(record.spikes[0])
        if hang is None and record.hang_busy is not None:
            hang = self.hang_message(finished, record.hang_busy)
        if hang is not None or finished != self.total:
            # the sample in flight when the simulation stopped (or the first one whose
            # finished steps are off: a done_o too many)
            n = min(done, self.total - 1) // steps
            mismatched = sorted({*mismatched, n})
            if hang is None and first_mismatch is None:
                first_mismatch = {
                    "sample": n,
                    "step": min(done, self.total - 1) % steps,
                    "error": f"the RTL finished {finished} steps, {self.total} were played",
                }
        samples_done = done // steps
        counters = self._counters(record.counters[:samples_done])
        costs = golden.costs
        differing = [
            name
            for name in COUNTERS
            if counters[name] != getattr(costs, name)[:samples_done].tolist()
        ]
        if counters.pop("layers") != counters["cycles"] and "cycles" not in differing:
            differing.append("cycles")
        last = record.spikes[-1][: samples_done * steps].astype(np.int64)
        counts = last.reshape(samples_done, steps, self.sizes[-1]).sum(axis=1)
        return {
            "samples": len(self.spikes_in),
            "mismatched_samples": mismatched,
            "first_mismatch": first_mismatch,
            "hang": hang,
            "predictions": np.argmax(counts, axis=1).tolist() if samples_done else [],
            **counters,
            "bound": costs.bound.tolist(),
            "counters_differing": differing,
            "start_waits": record.start_waits,
            "run_seconds": round(self.run_seconds, 4),
            "run_cpu_seconds": round(self.run_cpu_seconds, 4),
        }

    def _counters(self, snapshots: np.ndarray) -> dict[str, list[int]]:
        """Per-sample counters from the snapshots since reset: ``cycles`` from the top,
        the others summed over layers, and ``layers``, the layers' own cycle counts."""
        per_sample = np.diff(snapshots, axis=0, prepend=np.zeros((1, snapshots.shape[1]), int))
        by_layer = per_sample[:, 1:].reshape(len(per_sample), len(self.sizes), len(COUNTERS))
        sums = by_layer.sum(axis=1)
        counters = {name: sums[:, j].tolist() for j, name in enumerate(COUNTERS)}
        return {**counters, "cycles": per_sample[:, 0].tolist(), "layers": counters["cycles"]}


class Bench:
    """The top, the cases of ``SDSNN_CASES`` and the files they share."""

    def __init__(self, dut) -> None:
        self.dut = dut
        spec = json.loads(Path(os.environ["SDSNN_CASES"]).read_text())
        self.entries: list[dict] = spec["cases"]
        self.roms = Path(spec["roms"])
        progress = os.environ.get("SDSNN_PROGRESS")
        self.progress_path = Path(progress) if progress else None
        self.stimulus_file = self.roms / "stimulus.mem"
        self.record_path = self.roms / "record.txt"
        self.record: TextIOWrapper | None = None
        self.reports = Path(spec["reports"])
        self.finished = 0  # cases
        self.samples_done = 0  # samples of the finished cases
        self.failures: list[str] = []

    def read_record(self) -> str:
        """What the recorder wrote since the last call (it flushes at the end of a run)."""
        if self.record is None:
            self.record = self.record_path.open()
        return self.record.read()

    async def pulse(self, signal) -> None:
        """Hold ``signal`` high for one clock edge."""
        signal.value = 1
        await RisingEdge(self.dut.clk_o)
        signal.value = 0

    def configure(self, case: Case) -> None:
        """The case's neuron configuration on the ports (registered in the top)."""
        mask = (1 << SIM_V_BITS) - 1
        for i, layer in enumerate(case.net.layers):
            getattr(self.dut, f"l{i}_v_th_i").value = layer.lif.v_th
            getattr(self.dut, f"l{i}_leak_shift_i").value = layer.lif.leak_shift
            getattr(self.dut, f"l{i}_v_min_i").value = layer.lif.v_min & mask
            getattr(self.dut, f"l{i}_v_max_i").value = layer.lif.v_max

    def busy_layer(self) -> int:
        """The first layer still busy (the last one if none is)."""
        busy = format(int(self.dut.layers_busy_o.value), "b")[::-1]
        return busy.find("1") if "1" in busy else len(self.dut.layers_busy_o) - 1

    async def reset(self, case: Case) -> str | None:
        """Reset, then wait for the clear pass to end (ready_o); the hang report if not."""
        dut = self.dut
        dut.rst_ni.value = 0
        await ClockCycles(dut.clk_o, 2)
        dut.rst_ni.value = 1
        # the clear pass takes about max(D, N_IN) cycles per layer, all layers at once
        limit = 2 * (max(case.sizes) + case.net.inputs + 1) + 16
        timeout = Timer(limit * SIM_CLOCK_NS, unit="ns")
        if await First(RisingEdge(dut.ready_o), timeout) is timeout:
            return f"reset, layer {self.busy_layer()}: ready_o not high within {limit} cycles"
        await RisingEdge(dut.clk_o)
        return None

    async def start_run(self, words: list[int], inputs: int) -> None:
        """Write a run's stimulus words and start the driver on them."""
        write_scratch(self.stimulus_file, format_mem(words, SIM_LIMIT_BITS + 2 + inputs))
        self.dut.sim_steps_i.value = len(words)
        await self.pulse(self.dut.sim_run_i)

    async def play(self, case: Case) -> tuple[str, str | None]:
        """Play every step, in runs; the record they wrote, and a hang report if a run
        never ended (the driver's own limit per step ends a run with a line ``h``)."""
        words, limits = case.words(), case.limits()
        text = ""
        for start in range(0, case.total, SIM_RUN_STEPS):
            run = slice(start, start + SIM_RUN_STEPS)
            began, began_cpu = time.perf_counter(), time.process_time()
            await self.start_run(words[run], case.net.inputs)
            cycles = int(limits[run].sum()) + 4 * len(words[run]) + 64
            timeout = Timer(cycles * SIM_CLOCK_NS, unit="ns")
            ended = await First(RisingEdge(self.dut.sim_done_o), timeout)
            case.run_seconds += time.perf_counter() - began
            case.run_cpu_seconds += time.process_time() - began_cpu
            if ended is timeout:
                return text, f"a run from step {start} did not end within {cycles} cycles"
            text += self.read_record()
            if text.startswith("h ") or "\nh " in text:
                break
            if start + SIM_RUN_STEPS < case.total:  # the case's end reports the last run
                self.write_progress((start + SIM_RUN_STEPS) // case.steps)
        return text, None

    def write_progress(self, samples: int = 0) -> None:
        """Cases finished and samples simulated, ``samples`` of them in the current case."""
        if self.progress_path is not None:
            # not atomic (a rename costs a forced write-back): the runner skips a file
            # it finds half-written
            total = self.samples_done + samples
            write_scratch(self.progress_path, f"{self.finished} {total}")

    async def run_case(self, entry: dict, reset_inside_a_step: bool = False) -> None:
        """Simulate one case and write its report; with ``reset_inside_a_step``, the first
        step is interrupted by a reset before the samples run."""
        case = Case(entry)
        write_sim_memories(case.export, load_manifest(case.export), self.roms)
        await self.pulse(self.dut.sim_reload_i)
        self.read_record()  # what an earlier case's interrupted run left
        self.configure(case)
        hang = await self.reset(case)
        if hang is None and reset_inside_a_step:
            await self.start_run(case.words()[:1], case.net.inputs)
            await RisingEdge(self.dut.clk_o)  # the step is taken here (ready_o is high)
            # the edges that end cycles 1 .. last_accumulate_cycle() of the step
            await ClockCycles(self.dut.clk_o, case.last_accumulate_cycle())
            await ReadOnly()
            assert int(self.dut.layers_busy_o.value), "the reset must fall inside a step"
            await Timer(SIM_CLOCK_NS // 2, unit="ns")  # the next edge samples the reset
            hang = await self.reset(case)
        text = ""
        if hang is None:
            text, hang = await self.play(case)
        record = Record.parse(text, case.orders, case.raw, case.steps)
        report = case.report(record, hang)
        with self.reports.open("a") as reports:  # appended: rewriting costs a write-back
            reports.write(json.dumps(report) + "\n")
        self.finished += 1
        self.samples_done += len(case.spikes_in)
        self.write_progress()
        if report["hang"] or report["mismatched_samples"] or report["counters_differing"]:
            self.failures.append(
                f"{case.export}: hang {report['hang']}, samples {report['mismatched_samples'][:10]}"
                f" differ ({report['first_mismatch']}), counters {report['counters_differing']}"
            )

    def check(self) -> None:
        assert not self.failures, "RTL differs from golden: " + "; ".join(self.failures[:3])


@cocotb.test()
async def network_matches_golden(dut) -> None:
    """Every spike and membrane of every layer and step, and every counter, equals golden.

    The driver raises each next step's start while the network still works on the
    previous one: it waits, holding its data, and the results stay exact."""
    bench = Bench(dut)
    for entry in bench.entries:
        await bench.run_case(entry)
    bench.check()


@cocotb.test()
async def reset_in_a_step_clears_all_state(dut) -> None:
    """Reset while the first sample's first step is accumulating (late, when the
    accumulators hold partial sums), then run every sample:
    nothing of the interrupted step may survive into the results."""
    bench = Bench(dut)
    for entry in bench.entries:
        await bench.run_case(entry, reset_inside_a_step=True)
    bench.check()
