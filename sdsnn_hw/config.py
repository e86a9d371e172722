"""The training configuration: one TOML file, validated key by key.

A file has a top-level ``seed`` and the sections ``[data]``, ``[network]``,
``[neuron]``, ``[quantization]``, ``[structure]``, ``[optimizer]``, ``[schedule]`` and
``[compute]``; a key it leaves out keeps the ``fast-digits`` value (the defaults of
``sdsnn run``). Presets are such files shipped in ``sdsnn_hw/presets``. Every error
names the file and the key (``schedule.epochs``), what was expected and what was found.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

from sdsnn_hw.data import DATASETS, ENCODINGS, DataError, dataset_shape
from sdsnn_hw.model import BIAS_BITS_RANGE, FLOAT32_EXACT_BITS, NetworkConfig
from sdsnn_hw.netspec import CONV, fc_spec, resolve
from sdsnn_hw.structure import StructureConfig
from sdsnn_hw.train import DEVICES, GRAD_PRECISIONS, OPTIMIZERS, SCHEDULERS, TrainConfig

DEFAULT_PRESET = "fast-digits"
# `sdsnn run --dataset NAME` with neither --preset nor --config starts from the preset
# tuned for NAME: fast-digits' 30 epochs at batch 32 would take a day on Fashion-MNIST
DATASET_PRESETS = {"fashion-mnist": "fast-fmnist"}
AUTO = "auto"


class ConfigError(ValueError):
    """A configuration file, preset or override that is not valid (exit code 2)."""


def _toml() -> ModuleType:
    """The TOML reader: ``tomllib`` (Python 3.11+) or ``tomli``, its backport."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ConfigError("Python 3.10 reads TOML with tomli: pip install tomli") from None
    return tomllib


@dataclass(frozen=True)
class TrainSetup:
    """Everything a training run depends on; the defaults are the ``fast-digits`` preset.

    Attributes:
        dataset: data set name (see :data:`sdsnn_hw.data.DATASETS`).
        data_dir: folder of the data set files, where the data set needs one.
        net: the network in the paper's notation (``8C3-AP2-FC64-FC10``); None: fully
            connected ``hidden`` layers and one output neuron per class.
        hidden: hidden fully connected sizes, used when ``net`` is None.
        biases: biases in every layer; None: on for networks with a convolution.
        network: number formats and time steps (its shape fields are replaced).
        training: optimiser, schedule, seed and device.
        structure: SD-SNN structural development constants.
        stimulus_seed: seed of the test-split spike encoding.
    """

    dataset: str = "digits"
    data_dir: Path | None = None
    net: str | None = None
    hidden: tuple[int, ...] = (128,)
    biases: bool | None = None
    network: NetworkConfig = field(default_factory=NetworkConfig)
    training: TrainConfig = field(default_factory=TrainConfig)
    structure: StructureConfig = field(default_factory=StructureConfig)
    stimulus_seed: int = 1234


Check = Callable[[Any], str | None]


def _at_least(low: float) -> Check:
    return lambda v: None if v >= low else f"must be >= {low}"


def _above(low: float) -> Check:
    return lambda v: None if v > low else f"must be > {low}"


def _between(low: float, high: float) -> Check:
    return lambda v: None if low <= v <= high else f"must be in {low}..{high}"


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(map(repr, choices))}"


def _ok(_value: Any) -> None:
    return None


@dataclass(frozen=True)
class _Key:
    """One TOML key: where it goes in :class:`TrainSetup`, its TOML type and its range."""

    path: str
    kind: str  # int, float, str, bool, ints (list of int), bool_or_auto
    check: Check = _ok


_STRUCTURE_CHECKS: dict[str, tuple[str, Check]] = {
    "plasticity_steps": ("int", _at_least(1)),
    "shrink": ("float", lambda v: None if 0 < v <= 1 else "must be in (0, 1]"),
    "regen_growth": ("float", _above(0)),
    "regen_q_max": ("float", _between(0, 100)),
    "regen_q0": ("float", _between(0, 100)),
    "regen_steps": ("int", _at_least(0)),
    "dead_synapses": ("int", _at_least(0)),
    "prune_rate_init": ("float", _between(0, 100)),
    "rate_gain_tau": ("float", _above(0)),
    "conv_regen_q0": ("float", _between(0, 100)),
    "conv_regen_steps": ("int", _at_least(0)),
    "conv_dead_synapses": ("int", _at_least(0)),
    "conv_prune_rate_init": ("float", _between(0, 100)),
    "conv_rate_gain_tau": ("float", _above(0)),
    "prune_rate_max": ("float", _between(0, 100)),
    "rate_gain_steps": ("int", _at_least(0)),
    "late_rate_gain": ("float", _at_least(0)),
    "step_iterations": ("int", _at_least(0)),
    "stop_fraction": ("float", lambda v: None if 0 < v <= 1 else "must be in (0, 1]"),
}

KEYS: dict[str, _Key] = {
    "seed": _Key("training.seed", "int", _at_least(0)),
    "data.dataset": _Key("dataset", "str", _one_of(*DATASETS)),
    "data.data_dir": _Key("data_dir", "str"),
    "data.stimulus_seed": _Key("stimulus_seed", "int", _at_least(0)),
    "data.shift_pixels": _Key("training.shift_pixels", "int", _between(0, 8)),
    "data.flip": _Key("training.flip", "bool"),
    "data.encoding": _Key("training.encoding", "str", _one_of(*ENCODINGS)),
    "network.net": _Key("net", "str"),
    "network.hidden": _Key("hidden", "ints", lambda v: None if v else "must not be empty"),
    "network.biases": _Key("biases", "bool_or_auto"),
    "neuron.time_steps": _Key("network.time_steps", "int", _at_least(1)),
    "neuron.v_th": _Key("network.v_th", "float", _above(0)),
    "neuron.leak_shift": _Key("network.leak_shift", "int", _at_least(0)),
    "neuron.v_bits": _Key("network.v_bits", "int", _between(2, FLOAT32_EXACT_BITS)),
    "quantization.weight_bits": _Key("network.weight_bits", "int", _between(2, 8)),
    "quantization.bias_bits": _Key("network.bias_bits", "int", _between(*BIAS_BITS_RANGE)),
    **{
        f"structure.{name}": _Key(f"structure.{name}", kind, check)
        for name, (kind, check) in _STRUCTURE_CHECKS.items()
    },
    "optimizer.name": _Key("training.optimizer", "str", _one_of(*OPTIMIZERS)),
    "optimizer.learning_rate": _Key(
        "training.learning_rate", "float", lambda v: None if 0 < v <= 1e6 else "must be in (0, 1e6]"
    ),
    "optimizer.weight_decay": _Key("training.weight_decay", "float", _at_least(0)),
    "optimizer.momentum": _Key("training.momentum", "float", _between(0, 1)),
    "schedule.epochs": _Key("training.epochs", "int", _at_least(1)),
    "schedule.batch_size": _Key("training.batch_size", "int", _at_least(1)),
    "schedule.scheduler": _Key("training.scheduler", "str", _one_of(*SCHEDULERS)),
    "schedule.checkpoint_every": _Key("training.checkpoint_every", "int", _at_least(0)),
    "compute.device": _Key("training.device", "str", _one_of(*DEVICES)),
    "compute.grad_precision": _Key("training.grad_precision", "str", _one_of(*GRAD_PRECISIONS)),
}
SECTIONS = ("data", "network", "neuron", "quantization", "structure", "optimizer", "schedule")
SECTIONS += ("compute",)


def _convert(key: str, spec: _Key, value: Any, source: str) -> Any:
    """The TOML ``value`` of ``key`` as :class:`TrainSetup` holds it, checked."""

    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{source}: key '{key}' must be {expected}, got {value!r}")

    kind = spec.kind
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise bad("an integer")
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad("a number")
        if not math.isfinite(value):
            raise bad("a finite number")
        value = float(value)
    if kind == "str" and not isinstance(value, str):
        raise bad("a string")
    if kind == "ints":
        if not isinstance(value, list) or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value
        ):
            raise bad("a list of integers >= 1")
        value = tuple(value)
    if kind == "bool" and not isinstance(value, bool):
        raise bad("true or false")
    if kind == "bool_or_auto":
        if value == AUTO:
            return None
        if not isinstance(value, bool):
            raise bad(f"true, false or {AUTO!r}")
    problem = spec.check(value)
    if problem:
        raise ConfigError(f"{source}: key '{key}' {problem}, got {value!r}")
    if spec.path in ("net", "data_dir") and value == "":
        return None
    if spec.path == "data_dir":
        return Path(value)
    return value


def _set(setup: TrainSetup, path: str, value: Any) -> TrainSetup:
    head, _, rest = path.partition(".")
    if not rest:
        return replace(setup, **{head: value})
    return replace(setup, **{head: _set(getattr(setup, head), rest, value)})


def _get(setup: Any, path: str) -> Any:
    for part in path.split("."):
        setup = getattr(setup, part)
    return setup


def _flatten(table: dict[str, Any], source: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if isinstance(value, dict):
            if name not in SECTIONS:
                raise ConfigError(
                    f"{source}: unknown section [{name}]; expected one of: {', '.join(SECTIONS)}"
                )
            flat.update({f"{name}.{key}": v for key, v in value.items()})
        else:
            flat[name] = value
    return flat


def apply(setup: TrainSetup, values: dict[str, Any], source: str) -> TrainSetup:
    """``setup`` with the dotted ``values`` (``{"schedule.epochs": 3}``) applied.

    Raises:
        ConfigError: naming ``source`` and the key that is unknown or out of range.
    """
    for key, value in values.items():
        spec = KEYS.get(key)
        if spec is None:
            section = key.rpartition(".")[0]
            known = [k for k in KEYS if k.rpartition(".")[0] == section]
            raise ConfigError(
                f"{source}: unknown key '{key}'; expected one of: {', '.join(known or KEYS)}"
            )
        try:
            setup = _set(setup, spec.path, _convert(key, spec, value, source))
        except ConfigError:
            raise
        except ValueError as exc:  # a range that depends on another key
            raise ConfigError(f"{source}: key '{key}': {exc}") from None
    return setup


def parse(text: str, source: str, base: TrainSetup | None = None) -> TrainSetup:
    """The configuration in TOML ``text``; keys it leaves out keep ``base``'s values."""
    toml = _toml()
    try:
        table = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    setup = apply(base or TrainSetup(), _flatten(table, source), source)
    check(setup, source)
    return setup


def load(path: Path) -> TrainSetup:
    """Read and validate a configuration file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc})") from None
    return parse(text, str(path))


def preset_names() -> list[str]:
    """The presets shipped in the package, sorted."""
    folder = resources.files("sdsnn_hw") / "presets"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_text(name: str) -> str:
    if name not in preset_names():
        raise ConfigError(f"unknown preset {name!r}; expected one of: {', '.join(preset_names())}")
    return (resources.files("sdsnn_hw") / "presets" / f"{name}.toml").read_text(encoding="utf-8")


def default_preset(dataset: str | None) -> str:
    """The preset ``sdsnn run`` starts from when it is given none: the data set's own,
    else ``fast-digits``."""
    return DATASET_PRESETS.get(dataset or "", DEFAULT_PRESET)


def preset(name: str) -> TrainSetup:
    """A shipped preset, validated."""
    return parse(preset_text(name), f"preset {name}")


def preset_summary(name: str) -> str:
    """The first comment line of a preset: what it trains."""
    for line in preset_text(name).splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return ""


def parse_override(text: str) -> dict[str, Any]:
    """``KEY=VALUE`` with a TOML value (``schedule.epochs=3``, ``data.dataset="digits"``);
    a bare word is taken as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. schedule.epochs=3")
    toml = _toml()
    try:
        value = toml.loads(f"v = {raw.strip()}")["v"]
    except toml.TOMLDecodeError:
        value = raw.strip()
    return {key.strip(): value}


def network_config(setup: TrainSetup, source: str = "configuration") -> NetworkConfig:
    """The network of ``setup`` on its data set's inputs, every field filled in.

    Raises:
        ConfigError: naming ``network.net`` for a token that does not fit the data, or
            the number format keys a network cannot train exactly with.
    """
    try:
        input_shape, classes = dataset_shape(setup.dataset)
    except DataError as exc:
        raise ConfigError(f"{source}: key 'data.dataset': {exc}") from None
    spec = setup.net or fc_spec((*setup.hidden, classes))
    try:
        layers = resolve(spec, input_shape, classes)
    except ValueError as exc:
        raise ConfigError(f"{source}: key 'network.net': {exc}") from None
    has_conv = any(layer.kind == CONV for layer in layers)
    try:
        return replace(
            setup.network,
            sizes=(),
            net=spec,
            input_shape=input_shape,
            biases=has_conv if setup.biases is None else setup.biases,
        )
    except ValueError as exc:
        raise ConfigError(f"{source}: keys 'neuron' and 'quantization': {exc}") from None


def check(setup: TrainSetup, source: str) -> None:
    """Checks across keys: the network fits the data and trains exactly."""
    if setup.network.leak_shift >= setup.network.v_bits:
        raise ConfigError(
            f"{source}: key 'neuron.leak_shift' must be below neuron.v_bits "
            f"({setup.network.v_bits}), got {setup.network.leak_shift}"
        )
    for key in ("prune_rate_init", "conv_prune_rate_init"):
        if getattr(setup.structure, key) > setup.structure.prune_rate_max:
            raise ConfigError(
                f"{source}: key 'structure.{key}' must be <= structure.prune_rate_max "
                f"({setup.structure.prune_rate_max}), got {getattr(setup.structure, key)}"
            )
    network_config(setup, source)


def _toml_value(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str | Path):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def values(setup: TrainSetup) -> dict[str, Any]:
    """Every key of ``setup`` (``schedule.epochs``) with its value as :func:`apply` takes it."""
    found = {}
    for key, spec in KEYS.items():
        value = _get(setup, spec.path)
        if spec.kind == "bool_or_auto" and value is None:
            value = AUTO
        elif value is None:
            value = ""
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        found[key] = value
    return found


def to_toml(setup: TrainSetup, title: str = "") -> str:
    """Every key of ``setup`` as TOML; :func:`parse` reads it back to an equal setup."""
    lines = [f"# {title}"] if title else []
    section = ""
    for key, value in values(setup).items():
        name, _, leaf = key.rpartition(".")
        if name != section:
            lines += ["", f"[{name}]"]
            section = name
        lines.append(f"{leaf} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def differences(a: TrainSetup, b: TrainSetup) -> list[str]:
    """The keys whose values differ between two setups."""
    return [key for key, spec in KEYS.items() if _get(a, spec.path) != _get(b, spec.path)]
