import json

import numpy as np
import pytest

from sdsnn_hw.golden import GoldenNetwork
from sdsnn_hw.manifest import ManifestError, load_manifest
from tests.networks import random_network, write_network


@pytest.fixture
def export(tmp_path, rng):
    layers = random_network(rng, (6, 5, 3), weight_bits=6, v_bits=12, density=0.5)
    write_network(tmp_path, layers, np.ones((1, 3, 6)))
    return tmp_path / "export"


def _edit_manifest(folder, edit) -> None:
    """Change a field and re-seal the checksum, as a careless tool would."""
    from sdsnn_hw.fileio import sha256_bytes
    from sdsnn_hw.manifest import _canonical

    raw = json.loads((folder / "manifest.json").read_text())
    edit(raw)
    body = {k: v for k, v in raw.items() if k != "manifest_sha256"}
    raw["manifest_sha256"] = sha256_bytes(_canonical(body))
    (folder / "manifest.json").write_text(json.dumps(raw))


def test_manifest_roundtrip(export) -> None:
    manifest = load_manifest(export)
    assert [layer.n_out for layer in manifest.layers] == [5, 3]
    assert manifest.layers[0].ptr.file == "l0_ptr.mem"
    assert manifest.layers[0].weights.file == "l0_weights.mem"
    assert manifest.lanes == 8 and manifest.layers[0].kind == "fc"


def test_a_flipped_rom_digit_is_detected(export) -> None:
    rom = export / "l0_weights.mem"
    text = rom.read_text()
    rom.write_text(("1" if text[0] != "1" else "2") + text[1:])
    with pytest.raises(ManifestError, match=r"l0_weights\.mem: sha256 does not match"):
        GoldenNetwork.from_export(export)


def test_an_edited_manifest_is_detected(export) -> None:
    path = export / "manifest.json"
    path.write_text(path.read_text().replace('"v_th": ', '"v_th": 1', 1))
    with pytest.raises(ManifestError, match=r"'manifest_sha256' does not match"):
        load_manifest(export)


def test_a_missing_field_is_named(export) -> None:
    _edit_manifest(export, lambda raw: raw["layers"][1].pop("v_th"))
    with pytest.raises(ManifestError, match=r"field 'layers\[1\]\.v_th' is missing"):
        load_manifest(export)


def test_a_wrong_type_is_named(export) -> None:
    _edit_manifest(export, lambda raw: raw["layers"][0].update(n_out="5"))
    with pytest.raises(ManifestError, match=r"'layers\[0\]\.n_out' must be int, got str"):
        load_manifest(export)


def test_layers_that_do_not_chain_are_refused(export) -> None:
    _edit_manifest(export, lambda raw: raw.update(inputs=7))
    with pytest.raises(
        ManifestError, match=r"'input_shape' \[6, 1, 1\] holds 6 inputs, 'inputs' is 7"
    ):
        load_manifest(export)
    _edit_manifest(export, lambda raw: raw.update(inputs=6, input_shape=[1, 2, 3]))
    with pytest.raises(ManifestError, match=r"'layers\[0\]\.in_channels/in_height/in_width' must"):
        load_manifest(export)


def test_a_layer_must_read_the_previous_output_map(export) -> None:
    def edit(raw):
        raw["layers"][1].update(in_channels=1, in_height=5)

    _edit_manifest(export, edit)
    with pytest.raises(ManifestError, match=r"equal the output map of layers\[0\] \[5, 1, 1\]"):
        load_manifest(export)


def test_a_missing_rom_is_named(export) -> None:
    (export / "l1_ptr.mem").unlink()
    with pytest.raises(ManifestError, match=r"l1_ptr\.mem: memory file named in the manifest"):
        GoldenNetwork.from_export(export)


def test_a_missing_manifest_is_reported(tmp_path) -> None:
    with pytest.raises(ManifestError, match="manifest not found"):
        load_manifest(tmp_path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("acc_bits", 2, r"'layers\[0\]\.acc_bits' must be \d+ \(derived from the weights"),
        ("nnz", 7, r"'layers\[0\]\.nnz' must be \d+ \(derived from the weights"),
        ("layout_bits", {"dense_rows": 1, "csr_fanout": 1}, r"'layers\[0\]\.layout_bits' must"),
        ("bank_depth", 7, r"'layers\[0\]\.bank_depth' must be 1 \(derived"),
        ("ptr_bits", 9, r"'layers\[0\]\.ptr_bits' must be \d+ \(derived"),
        ("slot_bits", 9, r"'layers\[0\]\.slot_bits' must be \d+ \(derived"),
        ("weight_bits", 9, r"'layers\[0\]\.weight_bits' must be in 2\.\.8"),
        ("nnz", 31, r"'layers\[0\]\.nnz' must be at most the layer's 5 \* 6 = 30 weights"),
        ("kind", "lstm", r"'layers\[0\]\.kind' must be one of \('fc', 'conv'\)"),
        ("kind", "conv", r"'layers\[0\]\.kernel' must be int, got NoneType"),
        ("kernel", 3, r"'layers\[0\]\.kernel' must be null for an fc layer, got 3"),
        ("layout", "kernel_list", r"'layers\[0\]\.layout' must be one of \('dense_rows', "),
        ("bias_bits", 8, r"'layers\[0\]\.bias' must be dict, got NoneType"),
        ("bias_bits", 1, r"'layers\[0\]\.bias_bits' must be 0 \(no bias\) or in 2\.\.32"),
        ("pool", 2, r"'layers\[0\]\.pool' must divide the 1x1 input map, got 2"),
        ("out_height", 2, r"'layers\[0\]\.out_height' must be 1 \(derived"),
        ("layout", "dense", r"'layers\[0\]\.layout' must be one of"),
    ],
)
def test_a_resealed_derived_field_is_recomputed_and_refused(export, field, value, message):
    _edit_manifest(export, lambda raw: raw["layers"][0].update({field: value}))
    with pytest.raises(ManifestError, match=message):
        GoldenNetwork.from_export(export)


def test_resealed_lanes_are_refused(export) -> None:
    _edit_manifest(export, lambda raw: raw.update(lanes=3))
    with pytest.raises(ManifestError, match=r"field 'lanes' must be one of \(1, 2, 4, 8\)"):
        load_manifest(export)
    _edit_manifest(export, lambda raw: raw.update(lanes=4))
    with pytest.raises(ManifestError, match=r"'layers\[0\]\.bank_depth' must be 2"):
        load_manifest(export)


def test_a_non_canonical_encoding_is_refused(tmp_path, rng) -> None:
    """Swapping two words of one input keeps the weights but not the one encoding."""
    from sdsnn_hw.fileio import sha256_file

    layers = random_network(rng, (6, 5, 3), weight_bits=6, v_bits=12, density=0.8)
    write_network(tmp_path, layers, np.ones((1, 3, 6)), lanes=1, layout="csr_fanout")
    export = tmp_path / "export"
    manifest = load_manifest(export)
    layer = manifest.layers[0]
    rom = export / layer.weights.file
    words = rom.read_text().splitlines()
    ptr = [int(w, 16) for w in (export / layer.ptr.file).read_text().splitlines()]
    j = next(j for j in range(layer.n_in) if ptr[j + 1] - ptr[j] >= 2)
    a, b = ptr[j], ptr[j] + 1
    words[a], words[b] = words[b], words[a]
    rom.write_text("\n".join(words) + "\n")
    _edit_manifest(export, lambda raw: raw["layers"][0]["weights"].update(sha256=sha256_file(rom)))
    with pytest.raises(ManifestError, match="not the canonical"):
        GoldenNetwork.from_export(export)


def test_a_resealed_depth_is_refused(export) -> None:
    _edit_manifest(export, lambda raw: raw["layers"][1]["ptr"].update(depth=99))
    with pytest.raises(ManifestError, match=r"'layers\[1\]\.ptr\.depth' must be 6 \(derived"):
        load_manifest(export)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda raw: raw.update(colour="red"),
            r"field 'colour' is not a field of manifest version 5",
        ),
        (
            lambda raw: raw["layers"][0].update(gain=2),
            r"field 'layers\[0\]\.gain' is not a field of manifest version 5",
        ),
        (
            lambda raw: raw["layers"][1]["ptr"].update(offset=0),
            r"field 'layers\[1\]\.ptr\.offset' is not a field",
        ),
        (lambda raw: raw.pop("source"), r"field 'source' is missing"),
        (lambda raw: raw.update(formats=["coe"]), r"field 'formats' must hold 'mem'"),
        (lambda raw: raw.update(formats=["mem", "mem"]), r"field 'formats' must hold 'mem'"),
        (lambda raw: raw.update(formats=["mem", "coe"]), r"must list one 'coe' file of l0_ptr"),
        (lambda raw: raw.update(formats=["mem", "nir"]), r"must list the network's 'nir' file"),
        (lambda raw: raw.update(time_steps=1 << 31), r"'time_steps' must be in 1\.\.2147483647"),
        (
            lambda raw: raw["layers"][0].update(neuron_index=[0, 2, 1, 2, 4]),
            r"'layers\[0\]\.neuron_index' must list n_out = 5 distinct integers",
        ),
        (
            lambda raw: raw["layers"][1].update(neuron_index=[0, 1, 3]),
            r"'layers\[1\]\.neuron_index' must be 0\.\.2 \(output neurons are never removed\)",
        ),
        (
            lambda raw: raw["layers"][0]["weights"].update(sha256="ABC"),
            r"'layers\[0\]\.weights\.sha256' must be 64 lowercase hex digits",
        ),
    ],
)
def test_resealed_unknown_or_out_of_range_fields_are_refused(export, edit, message) -> None:
    _edit_manifest(export, edit)
    with pytest.raises(ManifestError, match=message):
        load_manifest(export)


@pytest.mark.parametrize("version", [4, 6, "5"])
def test_an_unknown_manifest_version_is_refused(export, version) -> None:
    _edit_manifest(export, lambda raw: raw.update(version=version))
    with pytest.raises(ManifestError, match=r"field 'version' must be 5 .*, got '?" + str(version)):
        load_manifest(export)


def test_a_files_entry_must_name_its_memory(tmp_path, rng) -> None:
    from sdsnn_hw.export import write_export

    layers = random_network(rng, (6, 5, 3), weight_bits=6, v_bits=12, density=0.5)
    write_export(tmp_path, layers, 3, 2, formats=("coe",))
    _edit_manifest(tmp_path, lambda raw: raw["files"][0].update(memory="l9_ptr.mem"))
    with pytest.raises(ManifestError, match=r"'files\[0\]\.memory' of a 'coe' file must be a"):
        load_manifest(tmp_path)


def test_the_exporter_never_drops_an_output_neuron(tmp_path, rng) -> None:
    from dataclasses import replace

    from sdsnn_hw.export import remove_dead_neurons, write_export

    layers = random_network(rng, (6, 5, 3), weight_bits=6, v_bits=12, density=0.5)
    layers[1].weights[2] = 0  # an output neuron that can never fire stays
    kept = remove_dead_neurons(layers)
    assert kept[-1].neuron_index.tolist() == [0, 1, 2]
    bad = [kept[0], replace(kept[1], neuron_index=np.array([0, 1, 4]))]
    with pytest.raises(ValueError, match="must keep its 3 output neurons"):
        write_export(tmp_path / "x", bad, 3, 2)
    assert not (tmp_path / "x").exists()


def test_the_contract_canonical_json_examples() -> None:
    """Section 6: floats, key order, escaping and the sha256 of a worked example."""
    from sdsnn_hw.fileio import sha256_bytes
    from sdsnn_hw.manifest import _canonical
    from tests.test_formats import contract_table

    for value, canonical in contract_table("canonical-floats"):
        number = eval(value)  # the table writes Python expressions such as 0.1 + 0.2
        assert _canonical({"x": number}) == b'{"x":' + canonical.encode() + b"}"
    ((body, canonical, digest),) = contract_table("canonical-manifest")
    assert _canonical(json.loads(body)) == canonical.encode("ascii")
    assert sha256_bytes(canonical.encode("ascii")) == digest


def test_the_contract_readout_examples() -> None:
    from tests.test_formats import contract_table

    for counts, prediction in contract_table("readout-examples"):
        assert int(np.argmax([int(c) for c in counts.split(",")])) == int(prediction)
