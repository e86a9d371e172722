"""Per-operation energy tables: TOML files, every figure with its source and uncertainty.

Two ship in ``sdsnn_hw/energy_tables`` (:data:`BUILTIN`); a user passes their own file
in the same form (docs/energy-model.md). Every section names a ``source`` and an
``uncertainty``; a table that does not is refused, naming the file and field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdsnn_hw.config import ConfigError

TABLE_DIR = Path(__file__).with_name("energy_tables")
BUILTIN = {"asic": TABLE_DIR / "asic45nm.toml", "fpga": TABLE_DIR / "fpga_ecp5.toml"}
MEMORY_MODELS = ("sram", "block_ram")
_SECTIONS = ("add", "mult", "spike", "memory", "static")


class EnergyTableError(ConfigError):
    """An energy table file that cannot be read or is not valid (exit code 2)."""


def power_law(points: tuple[tuple[float, float], ...], x: float) -> float:
    """``y`` at ``x`` on the power law through the two points around it (log-log linear);
    outside the points, the nearest segment's law extended."""
    i = 0
    while i < len(points) - 2 and x > points[i + 1][0]:
        i += 1
    (x0, y0), (x1, y1) = points[i], points[i + 1]
    exponent = math.log(y1 / y0) / math.log(x1 / x0)
    return y0 * (x / x0) ** exponent


@dataclass(frozen=True)
class MemoryRule:
    """How a memory access is priced.

    Attributes:
        model: ``sram``: ``points`` give pJ per ``word_bits``-bit read by array bits;
            ``block_ram``: ``block_ram_pj`` per block per access for block RAM, else
            ``small_pj_per_bit`` per bit accessed.
        write_factor: a write costs this many reads.
    """

    model: str
    write_factor: float
    word_bits: int = 64
    points: tuple[tuple[float, float], ...] = ()
    block_ram_pj: float = 0.0
    block_ram_min_bits: int = 0
    block_ram_port_widths: tuple[tuple[int, int], ...] = ()
    small_pj_per_bit: float = 0.0


@dataclass(frozen=True)
class EnergyTable:
    """One table (docs/energy-model.md): figures in pJ, static power in W.

    Attributes:
        name, title: short name (summary keys) and a title for reports.
        path: the file it came from.
        add, mult: (bits, pJ) points of integer addition and multiplication.
        spike_pj: energy per output spike.
        memory: the memory access rule.
        static_w: static power, paid for every cycle of an inference.
        clock_mhz: the clock that turns cycles into time.
        synth_clock: use ``sdsnn synth``'s Fmax instead of ``clock_mhz`` where there is one.
        sources: per section, its source and uncertainty.
    """

    name: str
    title: str
    path: Path
    add: tuple[tuple[float, float], ...]
    mult: tuple[tuple[float, float], ...]
    spike_pj: float
    memory: MemoryRule
    static_w: float
    clock_mhz: float
    synth_clock: bool
    sources: dict[str, dict[str, str]]


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, field: str, expected: str, got: Any) -> EnergyTableError:
        return EnergyTableError(f"{self.path}: field '{field}' must be {expected}, got {got!r}")

    def section(self, data: dict, name: str) -> dict:
        value = data.get(name)
        if not isinstance(value, dict):
            raise self.fail(name, "a table ([" + name + "])", value)
        for key in ("source", "uncertainty"):
            text = value.get(key)
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{name}.{key}", "a non-empty string", text)
        return value

    def number(self, data: dict, key: str, where: str, low: float = 0.0) -> float:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            raise self.fail(f"{where}{key}", f"a number >= {low}", value)
        return float(value)

    def boolean(self, data: dict, key: str, where: str) -> bool:
        value = data.get(key)
        if not isinstance(value, bool):
            raise self.fail(f"{where}{key}", "true or false", value)
        return value

    def points(self, data: dict, key: str, where: str) -> tuple[tuple[float, float], ...]:
        value = data.get(key)
        expected = "at least two [x, y] pairs of positive numbers with x increasing"
        try:
            pairs = tuple((float(x), float(y)) for x, y in value)
        except (TypeError, ValueError):
            raise self.fail(f"{where}{key}", expected, value) from None
        xs = [x for x, _ in pairs]
        if len(pairs) < 2 or min(min(p) for p in pairs) <= 0 or xs != sorted(set(xs)):
            raise self.fail(f"{where}{key}", expected, value)
        return pairs


def _read_toml(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the backport, a dependency there
        import tomli as tomllib
    return tomllib.loads(text)


def load_table(path: Path) -> EnergyTable:
    """Read and check an energy table file.

    Raises:
        EnergyTableError: naming the file and the field that is missing or invalid.
    """
    path = Path(path)
    reader = _Reader(path)
    try:
        data = _read_toml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EnergyTableError(f"{path}: cannot read the energy table ({exc.strerror})") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise EnergyTableError(f"{path}: not valid TOML ({exc})") from None
    for key in ("name", "title"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise reader.fail(key, "a non-empty string", data.get(key))
    sections = {name: reader.section(data, name) for name in _SECTIONS}
    memory = sections["memory"]
    model = memory.get("model")
    if model not in MEMORY_MODELS:
        raise reader.fail("memory.model", f"one of {', '.join(MEMORY_MODELS)}", model)
    write_factor = reader.number(memory, "write_factor", "memory.")
    if model == "sram":
        rule = MemoryRule(
            model,
            write_factor,
            word_bits=int(reader.number(memory, "word_bits", "memory.", 1)),
            points=reader.points(memory, "points", "memory."),
        )
    else:
        ports = reader.points(memory, "block_ram_port_widths", "memory.")
        rule = MemoryRule(
            model,
            write_factor,
            block_ram_pj=reader.number(memory, "block_ram_pj", "memory."),
            block_ram_min_bits=int(reader.number(memory, "block_ram_min_bits", "memory.")),
            block_ram_port_widths=tuple((int(d), int(w)) for d, w in ports),
            small_pj_per_bit=reader.number(memory, "small_pj_per_bit", "memory."),
        )
    static = sections["static"]
    return EnergyTable(
        name=data["name"],
        title=data["title"],
        path=path,
        add=reader.points(sections["add"], "points", "add."),
        mult=reader.points(sections["mult"], "points", "mult."),
        spike_pj=reader.number(sections["spike"], "pj", "spike."),
        memory=rule,
        static_w=reader.number(static, "power_w", "static."),
        clock_mhz=reader.number(static, "clock_mhz", "static.", 1e-6),
        synth_clock=reader.boolean(static, "synth_clock", "static."),
        sources={
            name: {"source": s["source"], "uncertainty": s["uncertainty"]}
            for name, s in sections.items()
        },
    )


def builtin_tables() -> dict[str, EnergyTable]:
    """The shipped tables by kind: ``asic`` and ``fpga``."""
    return {kind: load_table(path) for kind, path in BUILTIN.items()}
