"""RTL of the sdsnn-hw P-lane LIF core (``hdl/``) and its cocotb testbench."""

from pathlib import Path

HDL_DIR = Path(__file__).parent / "hdl"
LINT_WAIVERS = Path(__file__).parent / "lint.vlt"
