"""The export manifest: what every exported file holds, with checksums (contract section 6).

The manifest carries its own checksum (``manifest_sha256``, over the canonical JSON of
every other field) and the sha256 of each memory file; :func:`load_manifest` and
:func:`read_memory` refuse anything that does not match, so a corrupted export is
never simulated.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sdsnn_hw.fileio import atomic_write_text, sha256_bytes, sha256_file
from sdsnn_hw.layouts import LANE_CHOICES, LAYOUTS, addr_bits_for, bank_depth
from sdsnn_hw.memfile import MemoryFileError, parse_mem
from sdsnn_hw.neuron import LifParams, unsigned_bits_for

MANIFEST_NAME = "manifest.json"
FORMAT = "sdsnn-hw/manifest"
VERSION = 2
LAYER_KINDS = ("fc",)
READOUTS = ("spike_count_argmax",)


class ManifestError(ValueError):
    """The manifest or a file it names is missing, malformed or corrupted."""


@dataclass(frozen=True)
class MemorySpec:
    """One memory image file: ``depth`` words of ``width`` bits."""

    file: str
    depth: int
    width: int
    sha256: str


@dataclass(frozen=True)
class LayerSpec:
    """One layer as the hardware sees it (contract section 6).

    Attributes:
        name: memory file prefix (``l0``, ``l1``, ...).
        kind: layer kind, one of :data:`LAYER_KINDS`.
        n_in, n_out: inputs and neurons.
        weight_bits, v_bits, acc_bits: ``W_BITS``, ``V_BITS``, ``ACC_BITS``.
        leak_shift, v_th: ``LEAK_SHIFT``, ``V_TH``.
        layout: the weight memory layout, one of :data:`sdsnn_hw.layouts.LAYOUTS`.
        layout_bits: ROM bits (pointer plus weight memory) of every candidate layout.
        nnz: stored non-zero weights.
        bank_depth: neurons per lane bank, ``ceil(n_out / lanes)``.
        addr_bits: bank address field of a slot (0 where the layout has none).
        slot_bits: ``weight_bits + addr_bits``.
        ptr_bits: pointer word width, the unsigned width of the weight word count.
        weight_scale: float value of one weight step (informative).
        neuron_index: trained-model index of each exported neuron.
        ptr, weights: the pointer and weight memory images.
    """

    name: str
    kind: str
    n_in: int
    n_out: int
    weight_bits: int
    v_bits: int
    acc_bits: int
    leak_shift: int
    v_th: int
    layout: str
    layout_bits: dict[str, int]
    nnz: int
    bank_depth: int
    addr_bits: int
    slot_bits: int
    ptr_bits: int
    weight_scale: float
    neuron_index: list[int]
    ptr: MemorySpec
    weights: MemorySpec

    @property
    def lif(self) -> LifParams:
        return LifParams(v_th=self.v_th, leak_shift=self.leak_shift, v_bits=self.v_bits)

    @property
    def words(self) -> int:
        """Weight words the pointers address (0 for a layer without synapses)."""
        return self.weights.depth if self.nnz else 0


@dataclass(frozen=True)
class Manifest:
    """A whole exported network."""

    inputs: int
    classes: int
    time_steps: int
    readout: str
    lanes: int
    layers: list[LayerSpec]
    generator: str

    def to_dict(self) -> dict[str, Any]:
        body = {"format": FORMAT, "version": VERSION, **asdict(self)}
        return {**body, "manifest_sha256": sha256_bytes(_canonical(body))}


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / MANIFEST_NAME
    atomic_write_text(path, json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n")
    return path


class _Reader:
    """Typed field access that names the file and the field on every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
        if key not in obj:
            raise ManifestError(f"{self.path}: field '{where}{key}' is missing")
        value = obj[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ManifestError(
                f"{self.path}: field '{where}{key}' must be {kind.__name__}, "
                f"got {type(value).__name__} {value!r}"
            )
        return value

    def positive(
        self, obj: dict[str, Any], key: str, where: str, low: int = 1, high: int | None = None
    ) -> int:
        value = self.get(obj, key, int, where)
        if value < low or (high is not None and value > high):
            wanted = f">= {low}" if high is None else f"in {low}..{high}"
            raise ManifestError(f"{self.path}: field '{where}{key}' must be {wanted}, got {value}")
        return value

    def memory(self, obj: dict[str, Any], key: str, where: str) -> MemorySpec:
        mem = self.get(obj, key, dict, where)
        inner = f"{where}{key}."
        file = self.get(mem, "file", str, inner)
        if Path(file).name != file:
            raise ManifestError(
                f"{self.path}: field '{inner}file' must be a bare file name, got {file!r}"
            )
        return MemorySpec(
            file=file,
            depth=self.positive(mem, "depth", inner),
            width=self.positive(mem, "width", inner),
            sha256=self.get(mem, "sha256", str, inner),
        )

    def choice(self, obj: dict[str, Any], key: str, where: str, choices: tuple) -> Any:
        value = self.get(obj, key, type(choices[0]), where)
        if value not in choices:
            raise ManifestError(
                f"{self.path}: field '{where}{key}' must be one of {choices}, got {value!r}"
            )
        return value

    def layer(self, obj: Any, where: str, lanes: int) -> LayerSpec:
        if not isinstance(obj, dict):
            raise ManifestError(f"{self.path}: field '{where[:-1]}' must be an object")
        layout_bits = self.get(obj, "layout_bits", dict, where)
        spec = LayerSpec(
            name=self.get(obj, "name", str, where),
            kind=self.choice(obj, "kind", where, LAYER_KINDS),
            n_in=self.positive(obj, "n_in", where),
            n_out=self.positive(obj, "n_out", where),
            weight_bits=self.positive(obj, "weight_bits", where, low=2, high=8),
            v_bits=self.positive(obj, "v_bits", where, low=2, high=32),
            acc_bits=self.positive(obj, "acc_bits", where, low=2, high=64),
            leak_shift=self.positive(obj, "leak_shift", where, low=0),
            v_th=self.positive(obj, "v_th", where),
            layout=self.choice(obj, "layout", where, LAYOUTS),
            layout_bits={
                name: self.positive(layout_bits, name, f"{where}layout_bits.") for name in LAYOUTS
            },
            nnz=self.positive(obj, "nnz", where, low=0),
            bank_depth=self.positive(obj, "bank_depth", where),
            addr_bits=self.positive(obj, "addr_bits", where, low=0),
            slot_bits=self.positive(obj, "slot_bits", where),
            ptr_bits=self.positive(obj, "ptr_bits", where),
            weight_scale=self.get(obj, "weight_scale", float, where),
            neuron_index=self.get(obj, "neuron_index", list, where),
            ptr=self.memory(obj, "ptr", where),
            weights=self.memory(obj, "weights", where),
        )
        try:
            spec.lif  # noqa: B018 - validates the neuron parameters
        except ValueError as exc:
            raise ManifestError(f"{self.path}: layer '{where}': {exc}") from None
        if len(spec.neuron_index) != spec.n_out or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in spec.neuron_index
        ):
            raise ManifestError(
                f"{self.path}: field '{where}neuron_index' must list n_out "
                f"= {spec.n_out} integers, got {spec.neuron_index!r:.60}"
            )
        if spec.nnz > spec.n_in * spec.n_out:
            raise ManifestError(
                f"{self.path}: field '{where}nnz' must be at most n_in * n_out = "
                f"{spec.n_in * spec.n_out}, got {spec.nnz}"
            )
        self.derived(spec, where, lanes)
        return spec

    def derived(self, spec: LayerSpec, where: str, lanes: int) -> None:
        """Fields the exporter derives from the shapes must equal what they derive to."""
        depth = bank_depth(spec.n_out, lanes)
        addr_bits = addr_bits_for(depth) if spec.layout == "csr_fanout" else 0
        slot_bits = spec.weight_bits + addr_bits
        for key, expected in (
            ("bank_depth", depth),
            ("addr_bits", addr_bits),
            ("slot_bits", slot_bits),
            ("ptr_bits", unsigned_bits_for(spec.words)),
            ("ptr.depth", spec.n_in + 1),
            ("ptr.width", spec.ptr_bits),
            ("weights.width", lanes * slot_bits),
        ):
            found = spec
            for part in key.split("."):
                found = getattr(found, part)
            if found != expected:
                raise ManifestError(
                    f"{self.path}: field '{where}{key}' must be {expected} "
                    f"(derived from the layer and lanes = {lanes}), got {found}"
                )


def load_manifest(folder: Path) -> Manifest:
    """Read and validate ``folder/manifest.json``.

    Raises:
        ManifestError: naming the file and field that are wrong, or a checksum mismatch.
    """
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc})") from None
    reader = _Reader(path)
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: top level must be a JSON object")
    if raw.get("format") != FORMAT or raw.get("version") != VERSION:
        raise ManifestError(
            f"{path}: fields 'format'/'version' must be {FORMAT!r}/{VERSION}, "
            f"got {raw.get('format')!r}/{raw.get('version')!r}"
        )
    stated = reader.get(raw, "manifest_sha256", str, "")
    body = {k: v for k, v in raw.items() if k != "manifest_sha256"}
    if sha256_bytes(_canonical(body)) != stated:
        raise ManifestError(
            f"{path}: field 'manifest_sha256' does not match the contents "
            "(the manifest was edited or corrupted)"
        )
    readout = reader.get(raw, "readout", str, "")
    if readout not in READOUTS:
        raise ManifestError(f"{path}: field 'readout' must be one of {READOUTS}, got {readout!r}")
    lanes = reader.choice(raw, "lanes", "", LANE_CHOICES)
    layers = [
        reader.layer(obj, f"layers[{i}].", lanes)
        for i, obj in enumerate(reader.get(raw, "layers", list, ""))
    ]
    manifest = Manifest(
        inputs=reader.positive(raw, "inputs", ""),
        classes=reader.positive(raw, "classes", ""),
        time_steps=reader.positive(raw, "time_steps", ""),
        readout=readout,
        lanes=lanes,
        layers=layers,
        generator=reader.get(raw, "generator", str, ""),
    )
    _check_chain(path, manifest)
    return manifest


def _check_chain(path: Path, manifest: Manifest) -> None:
    if not manifest.layers:
        raise ManifestError(f"{path}: field 'layers' must hold at least one layer")
    width = manifest.inputs
    for i, layer in enumerate(manifest.layers):
        if layer.n_in != width:
            raise ManifestError(
                f"{path}: field 'layers[{i}].n_in' must equal the previous "
                f"layer's size {width}, got {layer.n_in}"
            )
        width = layer.n_out
    if width != manifest.classes:
        raise ManifestError(
            f"{path}: the last layer has {width} neurons but 'classes' is {manifest.classes}"
        )


def read_memory(folder: Path, spec: MemorySpec) -> list[int]:
    """Read one memory image after checking its sha256 against the manifest."""
    path = Path(folder) / spec.file
    if not path.is_file():
        raise ManifestError(f"{path}: memory file named in the manifest is missing")
    if sha256_file(path) != spec.sha256:
        raise ManifestError(f"{path}: sha256 does not match the manifest (corrupted ROM)")
    try:
        return parse_mem(path, spec.depth, spec.width)
    except MemoryFileError as exc:
        raise ManifestError(str(exc)) from None
