"""Energy per inference: counted operations (:mod:`sdsnn_hw.counters`) priced by a table
(:mod:`sdsnn_hw.energy_table`), split into compute, memory and static energy per layer.

This is a model of dynamic and static energy, not a power measurement. The rules
(docs/energy-model.md):

- a synaptic operation is one addition at the layer's ``ACC_BITS``; an ANN MAC is one
  multiplication at ``weight_bits`` plus that addition;
- a neuron update is two additions at ``max(V_BITS, ACC_BITS) + 1`` bits (leaked
  membrane plus current, then the threshold compare);
- an output spike costs the table's ``spike`` figure;
- a memory access is priced by the table's memory rule from the memory's word width
  and array size (``sram``: the 45 nm figure scaled by size; ``block_ram``: blocks per
  access at the FPGA's port widths, or LUT RAM per bit);
- static energy is the table's static power times the inference's cycles at the clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sdsnn_hw.counters import CountAccumulator, LayerCount, MemoryCount, NetworkCount
from sdsnn_hw.energy_table import EnergyTable, MemoryRule, builtin_tables, power_law

NOTE = (
    "a model of dynamic and static energy from counted operations and per-operation "
    "tables (docs/energy-model.md), not a power measurement"
)
COMPUTE_PARTS = ("synaptic_ops", "neuron_updates", "spikes")
PJ_PER_UJ = 1e6


def _add(table: EnergyTable, bits: int) -> float:
    return power_law(table.add, bits)


def memory_access_pj(rule: MemoryRule, memory: MemoryCount) -> float:
    """Energy of one read of ``memory`` (a write costs ``rule.write_factor`` of it)."""
    if rule.model == "sram":
        return power_law(rule.points, memory.array_bits) * memory.width / rule.word_bits
    if memory.block_ram or memory.array_bits >= rule.block_ram_min_bits:
        ports = rule.block_ram_port_widths
        port = next((w for depth, w in ports if memory.depth <= depth), None)
        if port is None:  # deeper than one block: blocks stacked in depth, one is read
            port = ports[-1][1]
        return rule.block_ram_pj * -(-memory.width // port)
    return rule.small_pj_per_bit * memory.width


@dataclass(frozen=True)
class LayerEnergy:
    """One layer's energy per inference in pJ, by part (compute) and memory."""

    name: str
    compute: dict[str, float]
    memory: dict[str, float]

    @property
    def compute_pj(self) -> float:
        return sum(self.compute.values())

    @property
    def memory_pj(self) -> float:
        return sum(self.memory.values())


def layer_energy(layer: LayerCount, table: EnergyTable) -> LayerEnergy:
    """Price one layer's counts with ``table``."""
    synop = _add(table, layer.acc_bits)
    if layer.mac_bits:
        synop += power_law(table.mult, layer.mac_bits)
    compute = {
        "synaptic_ops": layer.synops * synop,
        "neuron_updates": layer.updates * 2 * _add(table, layer.update_bits),
        "spikes": layer.spikes * table.spike_pj,
    }
    memory: dict[str, float] = {}
    for m in layer.memories:
        read = memory_access_pj(table.memory, m)
        cost = m.reads * read + m.writes * read * table.memory.write_factor
        memory[m.memory] = memory.get(m.memory, 0.0) + cost
    return LayerEnergy(layer.name, compute, memory)


@dataclass(frozen=True)
class NetworkEnergy:
    """A network's energy per inference under one table.

    Attributes:
        network: ``sdsnn``, ``dense_snn`` or ``ann``.
        layers: per-layer compute and memory energy.
        cycles: core cycles per inference.
        clock_mhz: the clock static power is paid at.
        static_pj: static power times ``cycles / clock``.
    """

    network: str
    layers: tuple[LayerEnergy, ...]
    cycles: float
    clock_mhz: float
    static_pj: float

    @property
    def compute_pj(self) -> float:
        return sum(layer.compute_pj for layer in self.layers)

    @property
    def memory_pj(self) -> float:
        return sum(layer.memory_pj for layer in self.layers)

    @property
    def total_pj(self) -> float:
        return self.compute_pj + self.memory_pj + self.static_pj

    def as_dict(self) -> dict[str, Any]:
        """In microjoules per inference, rounded to 9 significant digits."""
        return {
            "total": _uj(self.total_pj),
            "compute": _uj(self.compute_pj),
            "memory": _uj(self.memory_pj),
            "static": _uj(self.static_pj),
            "latency_us": _round(self.cycles / self.clock_mhz),
            "layers": [
                {
                    "name": layer.name,
                    "compute": _uj(layer.compute_pj),
                    "memory": _uj(layer.memory_pj),
                    "parts": {k: _uj(v) for k, v in {**layer.compute, **layer.memory}.items()},
                }
                for layer in self.layers
            ],
        }


def _round(value: float) -> float:
    return float(f"{value:.9g}")


def _uj(pj: float) -> float:
    return _round(pj / PJ_PER_UJ)


def network_energy(count: NetworkCount, table: EnergyTable, clock_mhz: float) -> NetworkEnergy:
    """Price a network's counts; static energy at ``clock_mhz``."""
    layers = tuple(layer_energy(layer, table) for layer in count.layers)
    static_pj = table.static_w * count.cycles / clock_mhz * 1e6  # W * us = uJ; uJ -> pJ
    return NetworkEnergy(count.network, layers, count.cycles, clock_mhz, static_pj)


def _ratio(a: float, b: float) -> float | None:
    return _round(a / b) if b > 0 else None


def energy_summary(
    counts: dict[str, NetworkCount],
    tables: dict[str, EnergyTable] | None = None,
    fmax_mhz: float | None = None,
) -> dict[str, Any]:
    """The ``energy_uj_per_inference`` field of a summary: per table, the three networks'
    totals, parts and layers in microjoules, and the ratios of the baselines to SD-SNN.

    Args:
        counts: :meth:`sdsnn_hw.counters.CountAccumulator.counts`.
        tables: by kind (default :func:`builtin_tables`).
        fmax_mhz: the clock from ``sdsnn synth`` where there is one, for the tables
            that ask for it (``synth_clock``); otherwise each table's ``clock_mhz``.
    """
    tables = tables or builtin_tables()
    out: dict[str, Any] = {"note": NOTE, "samples": counts["sdsnn"].samples}
    for kind, table in tables.items():
        synth = bool(fmax_mhz and table.synth_clock)
        clock = fmax_mhz if synth else table.clock_mhz
        energies = {name: network_energy(c, table, clock) for name, c in counts.items()}
        sdsnn = energies["sdsnn"].total_pj
        out[kind] = {
            "table": table.name,
            "title": table.title,
            "clock_mhz": _round(clock),
            "clock_from": "sdsnn synth fmax" if synth else "the table's clock_mhz",
            **{name: energy.as_dict() for name, energy in energies.items()},
            "dense_snn_over_sdsnn": _ratio(energies["dense_snn"].total_pj, sdsnn),
            "ann_over_sdsnn": _ratio(energies["ann"].total_pj, sdsnn),
        }
    out["counts"] = {
        name: {
            "cycles": _round(c.cycles),
            "lanes": c.lanes,
            "layers": [_count_dict(layer) for layer in c.layers],
        }
        for name, c in counts.items()
    }
    return out


def _count_dict(layer: LayerCount) -> dict[str, Any]:
    row = layer.as_dict()
    for key in ("synops", "updates", "spikes", "cycles", "bound"):
        row[key] = _round(row[key])
    for memory in row["memories"]:
        memory["reads"], memory["writes"] = _round(memory["reads"]), _round(memory["writes"])
    return row


def count_export(
    export_dir: Path, spikes: np.ndarray, samples: int | None = None
) -> dict[str, NetworkCount]:
    """Run the golden model on ``spikes`` (the first ``samples`` of them) and count."""
    from sdsnn_hw.golden import GoldenNetwork, run_in_chunks
    from sdsnn_hw.manifest import load_manifest

    net = GoldenNetwork.from_export(export_dir)
    accumulator = CountAccumulator(net, load_manifest(export_dir))
    spikes = spikes[:samples] if samples else spikes
    for part, result in run_in_chunks(net, spikes):
        accumulator.add(spikes[part], result)
    return accumulator.counts()


def synth_fmax(run_dir: Path) -> float | None:
    """Fmax of ``run_dir/synth/summary.json`` (``sdsnn synth``), or None."""
    try:
        value = json.loads((Path(run_dir) / "synth" / "summary.json").read_text())["fmax_mhz"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) and value > 0 else None
