"""The HLS core's C simulation, loaded through ctypes and compared with the golden model.

:class:`CSim` wraps one compiled library (:mod:`sdsnn_hw.hls_build`): it checks that
an export fits the configuration the library was built for, hands it the exported
memory words (the C++ decodes them per layout) and neuron parameters, and runs whole
batches, returning every layer's spikes and membranes at every step and the counters
per sample. :func:`compare` finds the samples where they differ from the golden model.
"""

from __future__ import annotations

import ctypes
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdsnn_hw.golden import GoldenResult
from sdsnn_hw.hls_build import HlsBuild
from sdsnn_hw.hls_config import HlsConfig
from sdsnn_hw.manifest import Manifest, ManifestError, read_memory
from sdsnn_hw.microarch import Costs

COUNTER_NAMES = (
    "cycles", "synops", "ptr_reads", "wrom_reads",
    "acc_reads", "acc_writes", "mem_reads", "mem_writes",
)  # fmt: skip
"""The C++ ``sdsnn::counters`` fields, in order."""
GOLDEN_COUNTERS = COUNTER_NAMES[1:]
"""Counters the HLS core spends exactly as the RTL's cycle model says (cycles differ:
the HLS core has its own loop structure, :mod:`sdsnn_hw.hls_latency`)."""

_U64P = ctypes.POINTER(ctypes.c_uint64)
_LL = ctypes.c_longlong


class ConfigMismatchError(ManifestError):
    """An export that the library's configuration cannot run."""


@dataclass(frozen=True)
class CSimResult:
    """What the C simulation produced.

    Attributes:
        spikes: per layer, uint8 (samples, time, neurons).
        membranes: per layer, int64 (samples, time, neurons), after reset.
        counters: uint64 (samples, layers, 8), in :data:`COUNTER_NAMES` order.
        seconds: wall time of the run call alone.
    """

    spikes: list[np.ndarray]
    membranes: list[np.ndarray]
    counters: np.ndarray
    seconds: float

    def counter(self, name: str) -> np.ndarray:
        """One counter per sample, summed over the layers."""
        return self.counters[:, :, COUNTER_NAMES.index(name)].sum(axis=1).astype(np.int64)


class CSim:
    """One loaded C simulation library."""

    def __init__(self, build: HlsBuild) -> None:
        self.build = build
        lib = ctypes.CDLL(str(build.library))
        lib.sdsnn_config.restype = ctypes.c_char_p
        lib.sdsnn_error.restype = ctypes.c_char_p
        lib.sdsnn_load.restype = ctypes.c_int
        lib.sdsnn_load.argtypes = [
            ctypes.c_int, _U64P, _LL, _U64P, _LL, _LL, _U64P, _LL, ctypes.POINTER(_LL),
        ]  # fmt: skip
        lib.sdsnn_clear.restype = None
        lib.sdsnn_run.restype = None
        lib.sdsnn_run.argtypes = [
            ctypes.POINTER(ctypes.c_uint8), _LL, _LL,
            ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)),
            ctypes.POINTER(ctypes.POINTER(ctypes.c_int64)), _U64P,
        ]  # fmt: skip
        self.lib = lib
        self.config: dict = json.loads(lib.sdsnn_config().decode())
        self.layers: list[int] = []  # neurons per layer of the loaded export

    def load(self, export_dir: Path, manifest: Manifest, expected: HlsConfig) -> None:
        """Load an export's memories and neuron parameters, then run the clear pass.

        Args:
            export_dir: the export folder.
            manifest: its manifest (already verified).
            expected: the configuration the export needs (:func:`network_config` of the
                manifest for the library's target).

        Raises:
            ConfigMismatchError: the library was built for another configuration, or
                the C++ refused a memory (it names the layer and the word).
            ManifestError: a memory file does not match the manifest.
        """
        differences = expected.differences(self.config)
        if differences:
            raise ConfigMismatchError(
                f"{export_dir}: does not match the HLS configuration of {self.build.library} "
                f"({'; '.join(differences[:3])})"
            )
        self.layers = [layer.n_out for layer in manifest.layers]
        for i, layer in enumerate(manifest.layers):
            ptr = np.asarray(read_memory(export_dir, layer.ptr), dtype=np.uint64)
            words = read_memory(export_dir, layer.weights)
            limbs = -(-layer.weights.width // 64)
            wrom = np.array(
                [[(w >> (64 * k)) & ((1 << 64) - 1) for k in range(limbs)] for w in words],
                dtype=np.uint64,
            )
            codes = read_memory(export_dir, layer.bias) if layer.bias is not None else []
            bias = np.asarray(codes or [0], dtype=np.uint64)
            lif = layer.lif
            params = (_LL * 4)(lif.v_th, lif.leak_shift, lif.v_min, lif.v_max)
            status = self.lib.sdsnn_load(
                i, _u64(ptr), len(ptr), _u64(wrom), len(words), limbs, _u64(bias),
                len(codes), params,
            )  # fmt: skip
            if status:
                raise ConfigMismatchError(
                    f"{export_dir}: {self.lib.sdsnn_error().decode()} "
                    f"(HLS build {self.build.library})"
                )
        self.lib.sdsnn_clear()

    def run(self, spikes: np.ndarray) -> CSimResult:
        """Run input spikes (samples, time, inputs) of 0/1; samples start from zero
        membranes (the first step of each sets ``first_step``)."""
        if not self.layers:
            raise ValueError("load an export before running the C simulation")
        spikes = np.ascontiguousarray(spikes, dtype=np.uint8)
        samples, steps, inputs = spikes.shape
        if inputs != self.config["inputs"]:
            raise ValueError(f"spikes must have {self.config['inputs']} inputs, got {inputs}")
        out_spikes = [np.zeros((samples, steps, n), np.uint8) for n in self.layers]
        out_membranes = [np.zeros((samples, steps, n), np.int64) for n in self.layers]
        counters = np.zeros((samples, len(self.layers), len(COUNTER_NAMES)), np.uint64)
        spike_ptrs = (ctypes.POINTER(ctypes.c_uint8) * len(self.layers))(
            *[a.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)) for a in out_spikes]
        )
        membrane_ptrs = (ctypes.POINTER(ctypes.c_int64) * len(self.layers))(
            *[a.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)) for a in out_membranes]
        )
        start = time.perf_counter()
        self.lib.sdsnn_run(
            spikes.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), samples, steps,
            spike_ptrs, membrane_ptrs, _u64(counters),
        )  # fmt: skip
        seconds = time.perf_counter() - start
        return CSimResult(out_spikes, out_membranes, counters, seconds)


def _u64(array: np.ndarray) -> ctypes._Pointer:
    if not (array.flags.c_contiguous and array.dtype == np.uint64):
        raise ValueError("a memory image must be a contiguous uint64 array")
    return array.ctypes.data_as(_U64P)


@dataclass(frozen=True)
class Comparison:
    """Where the C simulation and the golden model differ.

    Attributes:
        mismatched_samples: samples with a differing spike or membrane anywhere.
        first_mismatch: sample, step, layer, the first differing neurons and both
            sides' spikes and membranes there; None when none differ.
        counters_differing: counters (of :data:`GOLDEN_COUNTERS`) whose per-sample
            values differ from the golden model's costs.
    """

    mismatched_samples: list[int]
    first_mismatch: dict | None
    counters_differing: list[str]


def compare(hls: CSimResult, golden: GoldenResult, offset: int = 0) -> Comparison:
    """Compare every spike, membrane and counter; sample numbers start at ``offset``."""
    differs = np.zeros(len(golden.predictions), bool)
    first = None
    for layer, (s_h, s_g, m_h, m_g) in enumerate(
        zip(hls.spikes, golden.spikes, hls.membranes, golden.membranes, strict=True)
    ):
        bad = (s_h != s_g) | (m_h != m_g)  # (samples, time, neurons)
        differs |= bad.any(axis=(1, 2))
        if first is None and bad.any():
            sample, step, _ = (int(v) for v in np.argwhere(bad)[0])
            neurons = np.flatnonzero(bad[sample, step])[:8]
            first = {
                "sample": offset + sample,
                "step": step,
                "layer": layer,
                "neurons": neurons.tolist(),
                "hls_spikes": s_h[sample, step, neurons].tolist(),
                "golden_spikes": s_g[sample, step, neurons].tolist(),
                "hls_membranes": m_h[sample, step, neurons].tolist(),
                "golden_membranes": m_g[sample, step, neurons].tolist(),
            }
    costs: Costs = golden.costs
    differing = [
        name
        for name in GOLDEN_COUNTERS
        if not np.array_equal(hls.counter(name), getattr(costs, name))
    ]
    return Comparison((np.flatnonzero(differs) + offset).tolist(), first, differing)
