"""The export manifest: what every exported file holds, with checksums (contract section 6).

The manifest carries its own checksum (``manifest_sha256``, over the canonical JSON of
every other field) and the sha256 of each memory file; :func:`load_manifest` and
:func:`read_memory` refuse anything that does not match, so a corrupted export is
never simulated.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from sdsnn_hw.fileio import atomic_write_text, sha256_bytes, sha256_file
from sdsnn_hw.layouts import (
    LANE_CHOICES,
    REGISTRY,
    addr_bits_for,
    bank_depth,
    layouts_for,
    slot_bits_for,
)
from sdsnn_hw.memfile import MemoryFileError, parse_mem
from sdsnn_hw.netspec import CONV, FC, LayerShape
from sdsnn_hw.neuron import LifParams, unsigned_bits_for

MANIFEST_NAME = "manifest.json"
FORMAT = "sdsnn-hw/manifest"
VERSION = 5
LAYER_KINDS = (FC, CONV)
READOUTS = ("spike_count_argmax",)
BIAS_BITS_MAX = 32
INT_MAX = (1 << 31) - 1
"""Largest ``inputs``, ``classes``, ``time_steps``: what a 32-bit signed reader holds."""
MEMORY_FORMATS = ("mem", "coe", "mif", "h")
"""Formats written once per memory image (``mem`` always: every reader reads it)."""
NETWORK_FORMATS = ("onnx", "nir")
"""Formats written once per network."""
FORMATS = (*MEMORY_FORMATS, *NETWORK_FORMATS)
FILE_FORMATS = ("coe", "mif", "h", "onnx", "qonnx", "qcdq", "nir")
"""``files[].format`` values: ``onnx`` brings ``qonnx`` and ``qcdq`` with it when the
export has a checkpoint, ``h`` also names the network header."""


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
class FileSpec:
    """A file beside the memory images (``files[]`` in the manifest).

    Attributes:
        file: bare file name in the export folder.
        format: one of :data:`FILE_FORMATS`.
        sha256: of the file's bytes.
        memory: the ``.mem`` file whose words it holds (``coe``, ``mif``, ``h``), or None
            for a file of the whole network (ONNX, NIR, the network header).
    """

    file: str
    format: str
    sha256: str
    memory: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    """The checkpoint an export was made from: its bare file name and sha256."""

    file: str
    sha256: str


@dataclass(frozen=True)
class LayerSpec:
    """One layer as the hardware sees it (contract section 6).

    Attributes:
        name: memory file prefix (``l0``, ``l1``, ...).
        kind: layer kind, one of :data:`LAYER_KINDS`.
        n_in, n_out: inputs (after pooling) and neurons.
        in_channels, in_height, in_width: the map the layer reads, before pooling (the
            previous layer's output map, or the network input).
        pool: the k of the AP<k> folded into the input (1: none).
        out_channels, out_height, out_width: the output map (fc: ``n_out``, 1, 1).
        kernel, padding, stride: conv only (None for fc): K, ``K // 2`` and 1.
        weight_bits, bias_bits, v_bits, acc_bits: ``W_BITS``, ``BIAS_BITS`` (0: no
            bias), ``V_BITS``, ``ACC_BITS``.
        leak_shift, v_th: ``LEAK_SHIFT``, ``V_TH``.
        layout: the weight memory layout, one of :func:`sdsnn_hw.layouts.layouts_for`
            the kind.
        layout_bits: ROM bits (pointer plus weight memory) of every candidate layout.
        nnz: stored non-zero weights.
        bank_depth: neurons per lane bank D.
        addr_bits: bank address field of a slot (0 where the layout has none).
        slot_bits: ``taps * weight_bits + addr_bits``.
        ptr_bits: pointer word width, the unsigned width of the weight word count.
        weight_scale: float value of one weight step (informative).
        neuron_index: trained-model index of each exported neuron.
        ptr, weights: the pointer and weight memory images.
        bias: the bias memory image (None without bias).
    """

    name: str
    kind: str
    n_in: int
    n_out: int
    in_channels: int
    in_height: int
    in_width: int
    pool: int
    out_channels: int
    out_height: int
    out_width: int
    kernel: int | None
    padding: int | None
    stride: int | None
    weight_bits: int
    bias_bits: int
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
    bias: MemorySpec | None

    @property
    def lif(self) -> LifParams:
        return LifParams(v_th=self.v_th, leak_shift=self.leak_shift, v_bits=self.v_bits)

    @property
    def shape(self) -> LayerShape:
        """The layer's geometry (derived sizes come from it)."""
        in_shape = (self.in_channels, self.in_height, self.in_width)
        return LayerShape(self.kind, in_shape, self.pool, self.out_channels, self.kernel or 1)

    @property
    def taps(self) -> int:
        """Weights per kernel: ``K * K`` for conv, 1 for fc."""
        return self.shape.kernel**2

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
    input_shape: tuple[int, int, int]
    formats: tuple[str, ...] = ("mem",)
    files: list[FileSpec] = field(default_factory=list)
    source: SourceSpec | None = None
    config: dict[str, Any] | None = None

    @property
    def memories(self) -> list[MemorySpec]:
        """Every memory image, layer by layer: pointers, weights, biases."""
        found = []
        for layer in self.layers:
            found += [layer.ptr, layer.weights] + ([layer.bias] if layer.bias else [])
        return found

    def to_dict(self) -> dict[str, Any]:
        body = {"format": FORMAT, "version": VERSION, **asdict(self)}
        return {**body, "manifest_sha256": sha256_bytes(_canonical(body))}


def _canonical(body: dict[str, Any]) -> bytes:
    """Contract section 6: sorted keys at every level, no spaces, ASCII with \\u escapes,
    floats as Python's shortest round-trip ``repr``, no NaN or infinity."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("ascii")


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / MANIFEST_NAME
    text = json.dumps(manifest.to_dict(), indent=2, sort_keys=True, allow_nan=False)
    atomic_write_text(path, text + "\n")
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

    def known(self, obj: dict[str, Any], spec: type, where: str, extra: tuple = ()) -> None:
        """Refuse fields the contract does not define: a reader that skipped one could
        run a network whose files mean something it does not know."""
        allowed = {f.name for f in fields(spec)} | set(extra)
        unknown = sorted(set(obj) - allowed)
        if unknown:
            raise ManifestError(
                f"{self.path}: field '{where}{unknown[0]}' is not a field of manifest "
                f"version {VERSION}"
            )

    def file_name(self, obj: dict[str, Any], where: str) -> str:
        file = self.get(obj, "file", str, where)
        if Path(file).name != file or file in ("", ".", ".."):
            raise ManifestError(
                f"{self.path}: field '{where}file' must be a bare file name, got {file!r}"
            )
        return file

    def sha256(self, obj: dict[str, Any], where: str) -> str:
        digest = self.get(obj, "sha256", str, where)
        if len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ManifestError(
                f"{self.path}: field '{where}sha256' must be 64 lowercase hex digits, "
                f"got {digest!r:.70}"
            )
        return digest

    def memory(self, obj: dict[str, Any], key: str, where: str) -> MemorySpec:
        mem = self.get(obj, key, dict, where)
        inner = f"{where}{key}."
        self.known(mem, MemorySpec, inner)
        return MemorySpec(
            file=self.file_name(mem, inner),
            depth=self.positive(mem, "depth", inner),
            width=self.positive(mem, "width", inner),
            sha256=self.sha256(mem, inner),
        )

    def choice(self, obj: dict[str, Any], key: str, where: str, choices: tuple) -> Any:
        value = self.get(obj, key, type(choices[0]), where)
        if value not in choices:
            raise ManifestError(
                f"{self.path}: field '{where}{key}' must be one of {choices}, got {value!r}"
            )
        return value

    def null(self, obj: dict[str, Any], key: str, where: str, why: str) -> None:
        if key not in obj:
            raise ManifestError(f"{self.path}: field '{where}{key}' is missing")
        if obj[key] is not None:
            raise ManifestError(
                f"{self.path}: field '{where}{key}' must be null {why}, got {obj[key]!r:.40}"
            )

    def layer(self, obj: Any, where: str, lanes: int) -> LayerSpec:
        if not isinstance(obj, dict):
            raise ManifestError(f"{self.path}: field '{where[:-1]}' must be an object")
        self.known(obj, LayerSpec, where)
        kind = self.choice(obj, "kind", where, LAYER_KINDS)
        conv = kind == CONV
        candidates = layouts_for(kind)
        layout_bits = self.get(obj, "layout_bits", dict, where)
        conv_fields = {}
        for key, low in (("kernel", 1), ("padding", 0), ("stride", 1)):
            if conv:
                conv_fields[key] = self.positive(obj, key, where, low=low)
            else:
                conv_fields[key] = self.null(obj, key, where, "for an fc layer")
        bias_bits = self.positive(obj, "bias_bits", where, low=0, high=BIAS_BITS_MAX)
        if bias_bits == 1:
            raise ManifestError(
                f"{self.path}: field '{where}bias_bits' must be 0 (no bias) or in "
                f"2..{BIAS_BITS_MAX}, got 1"
            )
        if bias_bits:
            bias = self.memory(obj, "bias", where)
        else:
            bias = self.null(obj, "bias", where, "when 'bias_bits' is 0")
        spec = LayerSpec(
            name=self.get(obj, "name", str, where),
            kind=kind,
            n_in=self.positive(obj, "n_in", where),
            n_out=self.positive(obj, "n_out", where),
            in_channels=self.positive(obj, "in_channels", where),
            in_height=self.positive(obj, "in_height", where),
            in_width=self.positive(obj, "in_width", where),
            pool=self.positive(obj, "pool", where),
            out_channels=self.positive(obj, "out_channels", where),
            out_height=self.positive(obj, "out_height", where),
            out_width=self.positive(obj, "out_width", where),
            **conv_fields,
            weight_bits=self.positive(obj, "weight_bits", where, low=2, high=8),
            bias_bits=bias_bits,
            v_bits=self.positive(obj, "v_bits", where, low=2, high=32),
            acc_bits=self.positive(obj, "acc_bits", where, low=2, high=64),
            leak_shift=self.positive(obj, "leak_shift", where, low=0),
            v_th=self.positive(obj, "v_th", where),
            layout=self.choice(obj, "layout", where, candidates),
            layout_bits={
                name: self.positive(layout_bits, name, f"{where}layout_bits.")
                for name in candidates
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
            bias=bias,
        )
        try:
            spec.lif  # noqa: B018 - validates the neuron parameters
        except ValueError as exc:
            raise ManifestError(f"{self.path}: layer '{where}': {exc}") from None
        index = spec.neuron_index
        if (
            len(index) != spec.n_out
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in index)
            or min(index) < 0
            or len(set(index)) != len(index)
        ):
            raise ManifestError(
                f"{self.path}: field '{where}neuron_index' must list n_out = {spec.n_out} "
                f"distinct integers >= 0, got {index!r:.60}"
            )
        self.derived(spec, where, lanes)
        return spec

    def derived(self, spec: LayerSpec, where: str, lanes: int) -> None:
        """Fields the exporter derives from the shapes must equal what they derive to."""
        if spec.in_height % spec.pool or spec.in_width % spec.pool:
            raise ManifestError(
                f"{self.path}: field '{where}pool' must divide the {spec.in_height}x"
                f"{spec.in_width} input map, got {spec.pool}"
            )
        shape = spec.shape
        out_channels, out_height, out_width = shape.out_shape
        units = bank_depth(spec.out_channels, lanes)  # output units (channels) per bank
        depth = units * out_height * out_width
        addressed = REGISTRY[spec.layout].addressed
        addr_bits = addr_bits_for(units) if addressed else 0
        slot_bits = slot_bits_for(spec.layout, spec.weight_bits, units, spec.taps)
        expected: list[tuple[str, object]] = [
            ("n_in", shape.n_in),
            ("out_channels", spec.n_out if spec.kind == FC else out_channels),
            ("out_height", out_height),
            ("out_width", out_width),
            ("n_out", shape.n_out),
        ]
        if spec.kind == CONV:
            if spec.kernel % 2 == 0:
                raise ManifestError(
                    f"{self.path}: field '{where}kernel' must be odd, got {spec.kernel}"
                )
            expected += [("padding", spec.kernel // 2), ("stride", 1)]
        expected += [
            ("bank_depth", depth),
            ("addr_bits", addr_bits),
            ("slot_bits", slot_bits),
            ("ptr_bits", unsigned_bits_for(spec.words)),
            ("ptr.depth", spec.in_channels + 1 if spec.kind == CONV else spec.n_in + 1),
            ("ptr.width", spec.ptr_bits),
            ("weights.width", lanes * slot_bits),
        ]
        if spec.bias is not None:
            expected += [("bias.depth", spec.out_channels), ("bias.width", spec.bias_bits)]
        weights = math.prod(shape.weight_shape)
        if spec.nnz > weights:
            raise ManifestError(
                f"{self.path}: field '{where}nnz' must be at most the layer's "
                f"{' * '.join(map(str, shape.weight_shape))} = {weights} weights, got {spec.nnz}"
            )
        for key, value in expected:
            found = spec
            for part in key.split("."):
                found = getattr(found, part)
            if found != value:
                raise ManifestError(
                    f"{self.path}: field '{where}{key}' must be {value} "
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
    if raw.get("format") != FORMAT:
        raise ManifestError(f"{path}: field 'format' must be {FORMAT!r}, got {raw.get('format')!r}")
    if raw.get("version") != VERSION:
        raise ManifestError(
            f"{path}: field 'version' must be {VERSION} (the only manifest version this "
            f"sdsnn-hw reads; export the checkpoint again), got {raw.get('version')!r}"
        )
    reader.known(raw, Manifest, "", extra=("format", "version", "manifest_sha256"))
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
    input_shape = reader.get(raw, "input_shape", list, "")
    if len(input_shape) != 3 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_shape
    ):
        raise ManifestError(
            f"{path}: field 'input_shape' must be 3 sizes >= 1 (channels, height, width), "
            f"got {input_shape!r:.60}"
        )
    manifest = Manifest(
        inputs=reader.positive(raw, "inputs", "", high=INT_MAX),
        classes=reader.positive(raw, "classes", "", high=INT_MAX),
        time_steps=reader.positive(raw, "time_steps", "", high=INT_MAX),
        readout=readout,
        lanes=lanes,
        layers=layers,
        generator=reader.get(raw, "generator", str, ""),
        input_shape=tuple(input_shape),
        formats=_formats(reader, raw),
        files=[
            _file(reader, obj, f"files[{i}].")
            for i, obj in enumerate(reader.get(raw, "files", list, ""))
        ],
        source=_source(reader, raw),
        config=_config(reader, raw),
    )
    _check_chain(path, manifest)
    _check_files(path, manifest)
    return manifest


def _formats(reader: _Reader, raw: dict[str, Any]) -> tuple[str, ...]:
    formats = reader.get(raw, "formats", list, "")
    wanted = [name for name in FORMATS if name in formats]
    if "mem" not in formats or formats != wanted:
        raise ManifestError(
            f"{reader.path}: field 'formats' must hold 'mem' and other names of {FORMATS} "
            f"once each, in that order, got {formats!r:.80}"
        )
    return tuple(formats)


def _file(reader: _Reader, obj: Any, where: str) -> FileSpec:
    if not isinstance(obj, dict):
        raise ManifestError(f"{reader.path}: field '{where[:-1]}' must be an object")
    reader.known(obj, FileSpec, where)
    if "memory" not in obj:
        raise ManifestError(f"{reader.path}: field '{where}memory' is missing")
    memory = obj["memory"]
    if memory is not None and not isinstance(memory, str):
        raise ManifestError(
            f"{reader.path}: field '{where}memory' must be a file name or null, got {memory!r}"
        )
    return FileSpec(
        file=reader.file_name(obj, where),
        format=reader.choice(obj, "format", where, FILE_FORMATS),
        sha256=reader.sha256(obj, where),
        memory=memory,
    )


def _source(reader: _Reader, raw: dict[str, Any]) -> SourceSpec | None:
    if "source" not in raw:
        raise ManifestError(f"{reader.path}: field 'source' is missing")
    if raw["source"] is None:
        return None
    obj = reader.get(raw, "source", dict, "")
    reader.known(obj, SourceSpec, "source.")
    return SourceSpec(reader.file_name(obj, "source."), reader.sha256(obj, "source."))


def _config(reader: _Reader, raw: dict[str, Any]) -> dict[str, Any] | None:
    if "config" not in raw:
        raise ManifestError(f"{reader.path}: field 'config' is missing")
    return None if raw["config"] is None else reader.get(raw, "config", dict, "")


def _check_files(path: Path, manifest: Manifest) -> None:
    """``files`` lists each extra format of each memory once, and nothing twice."""
    names = [spec.file for spec in manifest.files]
    memories = [spec.file for spec in manifest.memories]
    taken = set(memories) | {MANIFEST_NAME}
    for i, spec in enumerate(manifest.files):
        if spec.file in taken:
            raise ManifestError(f"{path}: field 'files[{i}].file' names {spec.file!r} twice")
        taken.add(spec.file)
        # coe and mif mirror one memory, h one memory or (null) the whole network
        allowed = memories if spec.format in ("coe", "mif") else [None]
        allowed = [*memories, None] if spec.format == "h" else allowed
        if spec.memory not in allowed:
            raise ManifestError(
                f"{path}: field 'files[{i}].memory' of a '{spec.format}' file must be "
                f"{'a memory file' if None not in allowed else 'null'}, got {spec.memory!r}"
            )
    if names != sorted(names):
        raise ManifestError(f"{path}: field 'files' must be sorted by file name")
    for fmt in manifest.formats[1:]:
        # the network file of each network format, and network.h with the headers
        if (fmt in NETWORK_FORMATS or fmt == "h") and not any(
            s.format == fmt and s.memory is None for s in manifest.files
        ):
            raise ManifestError(
                f"{path}: field 'files' must list the network's '{fmt}' file ('formats' "
                f"holds '{fmt}')"
            )
        if fmt not in MEMORY_FORMATS:
            continue
        for memory in memories:
            count = sum(1 for s in manifest.files if s.format == fmt and s.memory == memory)
            if count != 1:
                raise ManifestError(
                    f"{path}: field 'files' must list one '{fmt}' file of {memory} "
                    f"('formats' holds '{fmt}'), found {count}"
                )


def _check_chain(path: Path, manifest: Manifest) -> None:
    if not manifest.layers:
        raise ManifestError(f"{path}: field 'layers' must hold at least one layer")
    width, shape, source = manifest.inputs, manifest.input_shape, "'input_shape'"
    if math.prod(shape) != width:
        raise ManifestError(
            f"{path}: field 'input_shape' {list(shape)} holds {math.prod(shape)} inputs, "
            f"'inputs' is {width}"
        )
    for i, layer in enumerate(manifest.layers):
        found = (layer.in_channels, layer.in_height, layer.in_width)
        if found != shape:
            raise ManifestError(
                f"{path}: fields 'layers[{i}].in_channels/in_height/in_width' must equal "
                f"{source} {list(shape)}, got {list(found)}"
            )
        shape, source = layer.shape.out_shape, f"the output map of layers[{i}]"
    last = manifest.layers[-1]
    if last.n_out != manifest.classes:
        raise ManifestError(
            f"{path}: the last layer has {last.n_out} neurons but 'classes' is {manifest.classes}"
        )
    if last.neuron_index != list(range(manifest.classes)):
        raise ManifestError(
            f"{path}: field 'layers[{len(manifest.layers) - 1}].neuron_index' must be "
            f"0..{manifest.classes - 1} (output neurons are never removed), "
            f"got {last.neuron_index!r:.60}"
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


def read_file(folder: Path, spec: FileSpec) -> bytes:
    """The bytes of a file of ``files[]`` after checking its sha256 against the manifest."""
    path = Path(folder) / spec.file
    if not path.is_file():
        raise ManifestError(f"{path}: file named in the manifest is missing")
    data = path.read_bytes()
    if sha256_bytes(data) != spec.sha256:
        raise ManifestError(f"{path}: sha256 does not match the manifest (corrupted file)")
    return data
