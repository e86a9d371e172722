"""Shared fixtures: a per-checkout Verilator build cache, simulator and browser availability."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
# The console script beside this interpreter: the tests may run without an activated venv.
SDSNN = str(Path(sys.executable).with_name("sdsnn"))
# Builds are keyed by their sources and shapes, so reusing them across runs is safe.
os.environ.setdefault("SDSNN_CACHE_DIR", str(REPO / "build" / "cache"))
# .ci/run installs Icarus Verilog and sets this, so there a missing Icarus is a failure.
REQUIRE_ICARUS = "SDSNN_REQUIRE_ICARUS"
# .ci/run installs Debian's chromium and sets this: the report tests must open the page.
REQUIRE_CHROMIUM = "SDSNN_REQUIRE_CHROMIUM"


def require_simulator(simulator: str) -> None:
    """Skip (visibly) a test whose simulator pip cannot install, unless CI requires it."""
    if simulator != "icarus" or shutil.which("iverilog"):
        return
    if os.environ.get(REQUIRE_ICARUS) == "1":
        pytest.fail(f"Icarus Verilog (iverilog) is missing but {REQUIRE_ICARUS}=1 requires it")
    pytest.skip(
        "Icarus Verilog (iverilog) is not installed: `apt-get install iverilog` to run this "
        f"test; .ci/run installs it and sets {REQUIRE_ICARUS}=1"
    )


@pytest.fixture
def chromium() -> str:
    """The headless browser the report tests open pages in; skips (visibly) where absent,
    unless CI requires it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get(REQUIRE_CHROMIUM) == "1":
        pytest.fail(f"chromium is missing but {REQUIRE_CHROMIUM}=1 requires it")
    pytest.skip(
        "chromium is not installed: `apt-get install chromium` (Debian) to run this test; "
        f".ci/run installs it and sets {REQUIRE_CHROMIUM}=1"
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)
