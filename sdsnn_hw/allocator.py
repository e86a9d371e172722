"""Keep freed tensor memory in the process instead of handing it back to the kernel.

glibc serves every block above its mmap threshold (a training step's activations are
megabytes) with a fresh ``mmap`` and unmaps it on free, so each step page-faults its
memory in again: on the CPU that costs as much as the arithmetic. Raising the
threshold keeps those blocks in the heap for the next step (PyTorch's CPU tuning guide
suggests jemalloc or tcmalloc for the same reason).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_KEEP_BYTES = 1 << 30


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds to 1 GiB; False where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES)
    )
