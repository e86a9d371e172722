"""``sdsnn verify``: check an export folder as a reader that trusts nothing would.

In order: the manifest (checksum, every field's type and range, the layer chain), every
memory image (sha256, depth, width, word format, canonical encoding, derived fields:
:meth:`GoldenNetwork.from_export`), every other file (sha256, then each ``.coe``,
``.mif`` and memory header parsed back to the words of its ``.mem``, ``network.h``
against the manifest), the ONNX model run in onnxruntime against the golden model
(every spike and membrane of every layer, on random inputs and on the test split),
the NIR graph read back against the decoded weights and neuron parameters, and the
golden model's accuracy on the data set's test split.

A file that is missing, corrupted or malformed raises (exit 2); files that are intact
but disagree with each other are listed in :attr:`VerifyReport.disagreements` (exit 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sdsnn_hw.data import RATE, encode, load_dataset
from sdsnn_hw.formats import PARSERS
from sdsnn_hw.golden import GoldenNetwork, run_in_chunks
from sdsnn_hw.manifest import Manifest, ManifestError, load_manifest, read_file, read_memory
from sdsnn_hw.memfile import MemoryFileError
from sdsnn_hw.netspec import FC

RANDOM_SAMPLES = 64
DEFAULT_STIMULUS_SEED = 1234
"""``sdsnn run``'s test-split encoding seed, where the manifest's config names none."""


@dataclass
class VerifyReport:
    """What ``sdsnn verify`` found (printed as JSON).

    Attributes:
        files: files checked (manifest, memories and every other format).
        disagreements: one line per file or model that differs from the golden model
            or from its ``.mem``.
        onnx_samples: samples run through onnxruntime and the golden model.
        dataset, samples, accuracy: the test split the golden model ran on.
    """

    files: int = 0
    disagreements: list[str] = field(default_factory=list)
    onnx_samples: int = 0
    dataset: str | None = None
    samples: int = 0
    accuracy: float | None = None

    @property
    def agrees(self) -> bool:
        return not self.disagreements


def verify(folder: Path, dataset: str | None = None, data_dir: Path | None = None) -> VerifyReport:
    """Check ``folder``; ``dataset`` (default: the one the manifest's config names)
    adds the test split.

    Raises:
        ManifestError: a missing, corrupted or malformed file, naming file and field.
    """
    folder = Path(folder)
    manifest = load_manifest(folder)
    net = GoldenNetwork.from_export(folder)
    report = VerifyReport(files=1 + len(manifest.memories) + len(manifest.files))
    _check_memory_formats(folder, manifest, report)
    onnx_file = _file(manifest, "onnx")
    rng = np.random.default_rng(0)
    rates = rng.random((RANDOM_SAMPLES, 1, 1))  # from silent to busy inputs
    random = (rng.random((RANDOM_SAMPLES, manifest.time_steps, net.inputs)) < rates).astype(
        np.uint8
    )
    if onnx_file:
        _check_onnx(folder / onnx_file, net, random, report, "random inputs")
    if _file(manifest, "nir"):
        _check_nir(folder / _file(manifest, "nir"), net, report)
    if _file(manifest, "h", memory=None):
        _check_network_header(folder, manifest, report)
    dataset = dataset or run_config_value(manifest, "dataset")
    if dataset:
        spikes, labels = export_test_split(manifest, dataset, data_dir)
        predictions = [r.predictions for _, r in run_in_chunks(net, spikes)]
        report.dataset, report.samples = dataset, len(labels)
        report.accuracy = round(float(np.mean(np.concatenate(predictions) == labels)), 4)
        if onnx_file:
            _check_onnx(folder / onnx_file, net, spikes, report, f"the {dataset} test split")
    return report


def _file(manifest: Manifest, fmt: str, memory: Any = "") -> str | None:
    """The first file of ``files[]`` of a format (and memory, where given)."""
    for spec in manifest.files:
        if spec.format == fmt and (memory == "" or spec.memory == memory):
            return spec.file
    return None


def _check_memory_formats(folder: Path, manifest: Manifest, report: VerifyReport) -> None:
    memories = {spec.file: spec for spec in manifest.memories}
    for spec in manifest.files:
        read_file(folder, spec)  # sha256 of every file, whatever its format
        if spec.memory is None:
            continue
        memory = memories[spec.memory]
        try:
            words = PARSERS[spec.format](folder / spec.file, memory.depth, memory.width)
        except MemoryFileError as exc:
            raise ManifestError(str(exc)) from None
        if words != read_memory(folder, memory):
            report.disagreements.append(f"{folder / spec.file}: words differ from {spec.memory}")


def _check_onnx(
    path: Path, net: GoldenNetwork, spikes: np.ndarray, report: VerifyReport, what: str
) -> None:
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ManifestError(f"{path}: onnxruntime cannot load it ({exc})") from None
    names = [output.name for output in session.get_outputs()]
    bad = np.zeros(len(spikes), dtype=bool)
    for part, golden in run_in_chunks(net, spikes):
        outputs = dict(zip(names, session.run(None, {"spikes": spikes[part]}), strict=True))
        expected = {"counts": golden.counts, "predictions": golden.predictions}
        for i in range(len(net.layers)):
            expected[f"l{i}_spikes"] = golden.spikes[i]
            expected[f"l{i}_membranes"] = golden.membranes[i]
        for key, value in expected.items():
            found = outputs.get(key)
            if found is None or found.shape != value.shape:
                raise ManifestError(f"{path}: output '{key}' is missing or has the wrong shape")
            bad[part] |= np.any((found != value).reshape(len(value), -1), axis=1)
    report.onnx_samples += len(spikes)
    if bad.any():
        report.disagreements.append(
            f"{path}: {int(bad.sum())} of {len(spikes)} samples ({what}) differ from the "
            f"golden model, first sample {int(np.argmax(bad))}"
        )


def _check_nir(path: Path, net: GoldenNetwork, report: VerifyReport) -> None:
    import nir

    from sdsnn_hw.nir_export import nir_graph

    try:
        found = nir.read(str(path))
    except Exception as exc:  # h5py and nir raise many kinds for a bad file
        raise ManifestError(f"{path}: not a NIR graph ({exc})") from None
    expected = nir_graph(net.layers)
    same = set(found.nodes) == set(expected.nodes)
    same = same and sorted(found.edges) == sorted(expected.edges)
    for name, node in expected.nodes.items() if same else ():
        other = found.nodes[name]
        same &= type(other) is type(node)
        for key, value in vars(node).items():
            if isinstance(value, np.ndarray) and key not in ("input_type", "output_type"):
                same &= np.array_equal(np.asarray(getattr(other, key, None)), value)
    if not same:
        report.disagreements.append(f"{path}: the graph differs from the decoded network")


def _check_network_header(folder: Path, manifest: Manifest, report: VerifyReport) -> None:
    from sdsnn_hw.network_header import HEADER_NAME, network_header

    if (folder / HEADER_NAME).read_text(encoding="ascii") != network_header(manifest):
        report.disagreements.append(f"{folder / HEADER_NAME}: differs from the manifest")


def run_config_value(manifest: Manifest, key: str) -> Any:
    """A key of the ``sdsnn run`` configuration the manifest records, or None."""
    run = (manifest.config or {}).get("run")
    return run.get(key) if isinstance(run, dict) else None


def export_test_split(
    manifest: Manifest, name: str, data_dir: Path | None
) -> tuple[np.ndarray, np.ndarray]:
    """The data set's test split, encoded as ``sdsnn run`` encodes it for this export.

    Raises:
        ManifestError: if the data set's input shape or classes do not fit the export.
    """
    data = load_dataset(name, data_dir)
    first = manifest.layers[0]
    # an fc layer 0 without pooling reads the map flattened: only its size must match
    as_map = first.kind != FC or first.pool > 1
    shape_ok = tuple(data.input_shape) == tuple(manifest.input_shape) or (
        not as_map and math.prod(data.input_shape) == manifest.inputs
    )
    if not shape_ok or data.n_classes != manifest.classes:
        raise ManifestError(
            f"data set {name}: inputs {list(data.input_shape)} and {data.n_classes} classes, "
            f"the export's 'input_shape' is {list(manifest.input_shape)} and 'classes' "
            f"{manifest.classes}"
        )
    seed = run_config_value(manifest, "stimulus_seed")
    seed = seed if isinstance(seed, int) else DEFAULT_STIMULUS_SEED
    training = run_config_value(manifest, "training")
    encoding = training.get("encoding", RATE) if isinstance(training, dict) else RATE
    return encode(data.x_test, manifest.time_steps, seed, encoding), data.y_test
