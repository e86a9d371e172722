"""``sdsnn synth``: an export's network top through Yosys (and nextpnr for ECP5).

The generated synthesis top (:func:`sdsnn_hw.rtl_top.render_top`, target ``synth``)
reads the export's memory images with ``$readmemh`` at elaboration, so the netlist
holds the trained weights. The summary adds what synthesis alone cannot know: cycles
per inference from the cycle model (which the RTL counters equal, tested), and so
latency at the placed-and-routed clock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rtl_sim import HDL_DIR
from sdsnn_hw.export import IntegerLayer, write_export
from sdsnn_hw.fileio import atomic_write_text
from sdsnn_hw.golden import GoldenNetwork, run_network
from sdsnn_hw.manifest import Manifest, load_manifest
from sdsnn_hw.outdir import check_output_folder, output_folder
from sdsnn_hw.rtl_top import TOP_MODULE, render_top
from sdsnn_hw.stimulus import load_stimulus
from sdsnn_hw.synth import DEFAULT_TIMEOUT_S, SynthOptions, SynthResult, check_block_ram, synthesize

# Pins a LFE5U-85F in CABGA381 offers for user I/O; a wider top is placed out of context.
ECP5_USER_PINS = 197


@dataclass(frozen=True)
class SynthConfig:
    """What ``sdsnn synth`` builds.

    Attributes:
        target: ``ecp5`` (synthesis, place and route) or ``xilinx`` (7-series synthesis).
        lanes: P; ``None`` keeps the export's, another value lays the weights out anew.
        freq_mhz: clock target given to nextpnr; Fmax is reported either way.
        stimulus: inputs whose cycles give the latency; ``None``: none reported.
        timeout_s: limit for each tool run (Yosys, nextpnr), in seconds.
        router: nextpnr's router (``router1``, ``router2``).
    """

    target: str = "ecp5"
    lanes: int | None = None
    freq_mhz: float = 100.0
    stimulus: Path | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    router: str = "router1"


def relayout(export_dir: Path, folder: Path, lanes: int) -> Manifest:
    """Write ``export_dir``'s network again into ``folder``, laid out for ``lanes``."""
    manifest = load_manifest(export_dir)
    net = GoldenNetwork.from_export(export_dir)
    layers = [
        IntegerLayer(
            weights=layer.weights,
            lif=layer.lif,
            weight_bits=spec.weight_bits,
            weight_scale=spec.weight_scale,
            neuron_index=np.asarray(spec.neuron_index),
            kind=layer.kind,
            bias=layer.bias,
            bias_bits=spec.bias_bits,
            pool=layer.pool,
            in_shape=layer.in_shape,
        )
        for layer, spec in zip(net.layers, manifest.layers, strict=True)
    ]
    return write_export(folder, layers, manifest.classes, manifest.time_steps, lanes)


def top_pins(manifest: Manifest) -> int:
    """I/O pins of the synthesis top: clock, reset, handshake, input and output spikes."""
    return 6 + manifest.inputs + manifest.classes


def synth_export(
    export_dir: Path,
    out: Path,
    config: SynthConfig,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Synthesize an export into ``out`` (an output folder) and return its summary.

    Raises:
        ManifestError, StimulusError: the export or stimulus is corrupted or does not fit.
        OutputFolderError: ``out`` holds files sdsnn did not write.
        SynthError: a tool is missing or failed.
    """
    export_dir, out = Path(export_dir), Path(out)
    manifest = load_manifest(export_dir)
    GoldenNetwork.from_export(export_dir)  # every checksum, before any tool sees a file
    stimulus = None
    if config.stimulus is not None:
        stimulus = load_stimulus(
            config.stimulus, manifest.inputs, manifest.time_steps, manifest.classes
        )
    check_output_folder(out, "synth", force)
    with output_folder(out, "synth", force, log) as work:
        source_dir = export_dir
        if config.lanes is not None and config.lanes != manifest.lanes:
            source_dir = work / "export"
            manifest = relayout(export_dir, source_dir, config.lanes)
        top = work / f"{TOP_MODULE}.sv"
        atomic_write_text(top, render_top(manifest, "synth"))
        memories = [
            source_dir / memory.file
            for layer in manifest.layers
            for memory in (layer.ptr, layer.weights, layer.bias)
            if memory is not None
        ]
        out_of_context = top_pins(manifest) > ECP5_USER_PINS
        options = SynthOptions(
            target=config.target,
            freq_mhz=config.freq_mhz,
            out_of_context=out_of_context,
            timeout_s=config.timeout_s,
            router=config.router,
        )
        log(
            f"synth: {config.target}, {len(manifest.layers)} layers, {manifest.lanes} lanes"
            + (", out of context (more ports than pins)" if out_of_context else "")
        )
        started = time.perf_counter()
        result = synthesize(
            [*sorted(HDL_DIR.glob("*.sv")), top],
            TOP_MODULE,
            work / "tools",
            data_files=memories,
            options=options,
        )
        summary = _summary(result, manifest, config, out_of_context)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        if stimulus is not None:
            net = GoldenNetwork.from_export(source_dir)
            cycles = float(run_network(net, stimulus.spikes).cycles.mean())
            summary["cycles_per_inference"] = cycles
            if result.fmax_mhz:
                summary["latency_us"] = round(cycles / result.fmax_mhz, 3)
        atomic_write_text(work / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


WEIGHT_ROM_MEMORY = "g_block.mem"
"""The memory of every ``weight_rom`` with ``BLOCK = 1`` (its generate branch ``g_block``)."""


def weight_roms_in_block_ram(result: SynthResult) -> bool:
    """Every weight ROM (``weight_rom`` with ``BLOCK = 1``, branch ``g_block``) became
    block RAM. Matched by the memory's own name, because Yosys names memories by
    instance path only where it flattens (ECP5), by module otherwise (Xilinx)."""
    check = check_block_ram(result, [WEIGHT_ROM_MEMORY])
    return not check.missing and not check.not_block_ram


def _summary(
    result: SynthResult, manifest: Manifest, config: SynthConfig, out_of_context: bool
) -> dict[str, Any]:
    return {
        "target": config.target,
        "lanes": manifest.lanes,
        "layouts": [layer.layout for layer in manifest.layers],
        "memory_bits": sum(layer.layout_bits[layer.layout] for layer in manifest.layers),
        "lut": result.lut,
        "ff": result.ff,
        "bram": result.bram,
        "dsp": result.dsp,
        "fmax_mhz": result.fmax_mhz,
        "freq_target_mhz": result.freq_target_mhz if config.target == "ecp5" else None,
        "timing_met": result.timing_met,
        "out_of_context": out_of_context,
        "weight_memories_in_block_ram": weight_roms_in_block_ram(result),
        "memories": {m.name: m.kind for m in result.memories.values()},
    }
