"""RTL of the sdsnn-hw LIF core (``hdl/``) and its cocotb testbenches."""

from pathlib import Path

HDL_DIR = Path(__file__).parent / "hdl"
