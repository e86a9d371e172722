"""The HLS C++ LIF core (headers, top, testbench, Vitis script) as package data."""

from pathlib import Path

HLS_DIR = Path(__file__).parent
