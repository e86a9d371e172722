"""Shared fixtures: a per-checkout Verilator build cache and small export helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
# The console script beside this interpreter: the tests may run without an activated venv.
SDSNN = str(Path(sys.executable).with_name("sdsnn"))
# Builds are keyed by their sources and shapes, so reusing them across runs is safe.
os.environ.setdefault("SDSNN_CACHE_DIR", str(REPO / "build" / "cache"))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)
