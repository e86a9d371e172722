"""Compile the HLS core's C simulation with g++, cached by what it is built from.

A build is keyed by the compiler's version, the flags, every file under ``hls/`` (the
templates, the top, the vendored ap_types headers) and the generated configuration
header, and kept under :func:`sdsnn_hw.rtl.cache_root` beside the Verilator builds,
so a cached build is reused only when it would come out the same. A build is made in
a temporary sibling folder and renamed into place, so concurrent runs never see half
a build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sdsnn_hw.fileio import atomic_write_text, sha256_bytes
from sdsnn_hw.hls_config import CONFIG_NAME, HLS_DIR, HlsConfig, missing_decoders, render_config
from sdsnn_hw.rtl import ToolError, cache_root

COMPILER_ENV = "SDSNN_CXX"
"""Names the C++ compiler (default ``g++``)."""
# -Wno-unknown-pragmas: the HLS pragmas are for Vitis; -Wno-unused-label: loop labels
# name the loops in Vitis reports. -fvisibility=hidden and -fno-gnu-unique keep each
# library's per-layer state its own when several builds are loaded in one process.
CXXFLAGS = (
    "-std=c++14", "-O2", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-Wno-unused-label",
)  # fmt: skip
LIBRARY_FLAGS = ("-fPIC", "-shared", "-fvisibility=hidden", "-fno-gnu-unique")
LIBRARY_SOURCES = ("sdsnn_csim.cpp",)  # includes the top, so the library is one unit
TESTBENCH_SOURCES = ("tb_sdsnn.cpp", "sdsnn_top.cpp")  # as Vitis compiles them
LIBRARY = "libsdsnn_csim.so"
TESTBENCH = "tb_sdsnn"


class HlsBuildError(ToolError):
    """The compiler is missing or refused the sources (a one-line reason and the log)."""


@dataclass(frozen=True)
class HlsBuild:
    """A compiled C simulation.

    Attributes:
        folder: the build folder (configuration header, library, testbench, log).
        library: the shared library :class:`sdsnn_hw.hls_csim.CSim` loads.
        testbench: the testbench program, or None when it was not asked for.
        cached: reused from an earlier run.
    """

    folder: Path
    library: Path
    testbench: Path | None
    cached: bool


def find_compiler() -> Path:
    """The C++ compiler (``$SDSNN_CXX`` or ``g++`` on PATH).

    Raises:
        HlsBuildError: if there is none.
    """
    name = os.environ.get(COMPILER_ENV, "g++")
    found = shutil.which(name)
    if found is None:
        raise HlsBuildError(
            f"C++ compiler {name!r} not found: install g++ (`apt-get install g++`) or set "
            f"{COMPILER_ENV}"
        )
    return Path(found)


def hls_sources() -> list[Path]:
    """Every file under ``hls/`` a build reads (headers, sources, ap_types)."""
    return sorted(p for p in HLS_DIR.rglob("*") if p.is_file() and p.suffix in (".h", ".cpp"))


def _compiler_version(compiler: Path) -> str:
    result = subprocess.run([str(compiler), "--version"], capture_output=True, text=True)
    return result.stdout.splitlines()[0] if result.returncode == 0 and result.stdout else ""


def _compile(
    compiler: Path, folder: Path, sources: tuple[str, ...], output: str, extra: tuple, log: Path
) -> None:
    """Compile ``hls/<sources>`` into ``folder/<output>``; the compiler's output goes to
    ``log`` (kept where a failed build leaves it)."""
    command = [
        str(compiler), *CXXFLAGS, *extra, f"-I{folder}", f"-I{HLS_DIR}",
        "-isystem", str(HLS_DIR / "ap_types"), *(str(HLS_DIR / s) for s in sources),
        "-o", str(folder / output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(log, " ".join(command) + "\n" + result.stdout + result.stderr)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["no message"]
        first = next((line for line in lines if ": error:" in line), lines[0])
        raise HlsBuildError(
            f"g++ failed to compile {' '.join(sources)}: {first.strip()} (see {log})"
        )


def build(
    config: HlsConfig,
    source: str,
    testbench: bool = False,
    root: Path | None = None,
    log: Callable[[str], None] = print,
) -> HlsBuild:
    """Build (or reuse) the C simulation library of ``config`` (and the testbench).

    Args:
        config: the network configuration (:mod:`sdsnn_hw.hls_config`).
        source: where the configuration came from (named in the header only: not part
            of the key, so every export of one configuration shares the build).
        testbench: also build the testbench program.
        root: the cache folder (default :func:`sdsnn_hw.rtl.cache_root`).

    Raises:
        HlsBuildError: no compiler, a layout without a decoder, or a compile error.
    """
    missing = missing_decoders(config)
    if missing:
        raise HlsBuildError(
            f"layout {', '.join(missing)} has no decoder in {HLS_DIR / 'sdsnn_layouts.h'}"
        )
    compiler = find_compiler()
    header = render_config(config, "a manifest")
    material = "\n".join([_compiler_version(compiler), *CXXFLAGS, *LIBRARY_FLAGS, header])
    key = sha256_bytes(material.encode() + b"".join(p.read_bytes() for p in hls_sources()))
    folder = (root or cache_root()) / f"hls-{key[:16]}"
    wanted = [LIBRARY] + ([TESTBENCH] if testbench else [])
    if all((folder / name).is_file() for name in wanted):
        log(f"hls: reusing the C simulation build in {folder}")
        return HlsBuild(folder, folder / LIBRARY, folder / TESTBENCH if testbench else None, True)
    log(f"hls: compiling the C simulation in {folder} (kept for later runs)")
    logs = folder.parent / f"{folder.name}.logs"  # beside the build: kept when it fails
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    try:
        if folder.is_dir():  # a library without the testbench: keep what is there
            for item in folder.iterdir():
                shutil.copy2(item, tmp / item.name)
        atomic_write_text(tmp / CONFIG_NAME, header)
        outputs = [(LIBRARY_SOURCES, LIBRARY, LIBRARY_FLAGS)]
        if testbench:
            outputs.append((TESTBENCH_SOURCES, TESTBENCH, ()))
        for sources, output, flags in outputs:
            if not (tmp / output).is_file():
                _compile(compiler, tmp, sources, output, flags, logs / f"{output}.log")
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process installed the same build meanwhile
            if not all((folder / name).is_file() for name in wanted):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return HlsBuild(folder, folder / LIBRARY, folder / TESTBENCH if testbench else None, False)
