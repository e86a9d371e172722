"""Every format of a memory holds the same words; the contract's worked examples hold."""

import re
from pathlib import Path

import numpy as np
import pytest

from sdsnn_hw.formats import PARSERS, WRITERS
from sdsnn_hw.layouts import encode
from sdsnn_hw.manifest import MEMORY_FORMATS, load_manifest, read_memory
from sdsnn_hw.memfile import MemoryFileError
from sdsnn_hw.stimulus import Stimulus, save_stimulus
from tests.networks import random_network, write_network

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "hardware-contract.md"


def contract_table(marker: str) -> list[list[str]]:
    """The rows of the table after ``<!-- marker -->`` in the contract, cells unquoted."""
    text = CONTRACT.read_text(encoding="utf-8")
    lines = text[text.index(f"<!-- {marker} -->") :].splitlines()[1:]
    rows = []
    for line in lines[2:]:  # header and rule
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    assert rows, f"no table after <!-- {marker} -->"
    return rows


@pytest.mark.parametrize("fmt", MEMORY_FORMATS)
@pytest.mark.parametrize("width", [1, 4, 7, 8, 48, 64, 65, 130, 400])
def test_every_format_parses_back_to_the_same_words(tmp_path, rng, fmt, width) -> None:
    words = [int(w) for w in rng.integers(0, 1 << min(width, 62), size=5)]
    words += [(1 << width) - 1, 0]  # every bit set, and none
    path = tmp_path / f"l0_weights.{fmt}"
    path.write_text(WRITERS[fmt](words, width, "l0_weights"), encoding="ascii")
    assert PARSERS[fmt](path, len(words), width) == words


def test_an_export_lists_every_format_of_every_memory_with_its_sha256(tmp_path, rng) -> None:
    layers = random_network(rng, (6, 5, 3), weight_bits=6, v_bits=12, density=0.6)
    manifest, _ = write_network(tmp_path, layers, np.ones((1, 2, 6)))
    folder = tmp_path / "export"
    manifest = load_manifest(folder)  # the written manifest, checked
    assert manifest.formats == ("mem",) and manifest.files == []
    from sdsnn_hw.export import write_export

    manifest = write_export(folder, layers, 3, 2, formats=("coe", "mif", "h"))
    manifest = load_manifest(folder)
    assert manifest.formats == ("mem", "coe", "mif", "h")
    for memory in manifest.memories:
        words = read_memory(folder, memory)
        for fmt in ("coe", "mif", "h"):
            (spec,) = [f for f in manifest.files if f.memory == memory.file and f.format == fmt]
            assert PARSERS[fmt](folder / spec.file, memory.depth, memory.width) == words
    assert "network.h" in [f.file for f in manifest.files]
    header = (folder / "network.h").read_text()
    assert "#define SDSNN_L1_N_OUT 3" in header and '#include "l0_weights.h"' in header


@pytest.mark.parametrize("fmt", MEMORY_FORMATS)
def test_a_truncated_memory_is_named(tmp_path, fmt) -> None:
    path = tmp_path / f"l0_ptr.{fmt}"
    text = WRITERS[fmt]([1, 2, 3], 4, "l0_ptr")
    path.write_text(text[: text.rindex("3")])
    with pytest.raises(MemoryFileError, match=rf"l0_ptr\.{fmt}"):
        PARSERS[fmt](path, 3, 4)


@pytest.mark.parametrize("fmt", MEMORY_FORMATS)
def test_an_over_long_memory_is_named(tmp_path, fmt) -> None:
    path = tmp_path / f"l0_ptr.{fmt}"
    path.write_text(WRITERS[fmt]([1, 2, 3, 4], 4, "l0_ptr"))
    with pytest.raises(MemoryFileError, match=rf"l0_ptr\.{fmt}: .*(depth|DEPTH)"):
        PARSERS[fmt](path, 3, 4)


@pytest.mark.parametrize("fmt", MEMORY_FORMATS)
def test_a_word_wider_than_its_width_is_named_with_its_line(tmp_path, fmt) -> None:
    path = tmp_path / f"l0_ptr.{fmt}"
    path.write_text(WRITERS[fmt]([1, 0x7F, 3], 8, "l0_ptr").replace("7f", "ff"))
    if fmt == "h":  # its macros state the width: keep them at 7 bits
        path.write_text(path.read_text().replace("_WIDTH 8u", "_WIDTH 7u"))
    else:
        path.write_text(path.read_text().replace("WIDTH=8;", "WIDTH=7;"))
    with pytest.raises(MemoryFileError, match=rf"l0_ptr\.{fmt}:\d+: .*(7 bits)"):
        PARSERS[fmt](path, 3, 7)


def _weights(shape: str, spec: str) -> np.ndarray:
    weights = np.zeros([int(n) for n in shape.split("x")], dtype=np.int64)
    for item in spec.split():
        index, value = item.split("=")
        weights[tuple(int(i) for i in index.split(","))] = int(value)
    return weights


@pytest.mark.parametrize("row", contract_table("layout-examples"), ids=lambda row: row[0])
def test_the_contract_layout_examples_encode_as_written(row) -> None:
    layout, weight_bits, lanes, shape, spec, ptr, words, bits = row
    image = encode(_weights(shape, spec), int(weight_bits), int(lanes), layout)
    assert " ".join(f"{p:x}" for p in image.ptr) == ptr
    digits = (image.word_bits + 3) // 4
    assert " ".join(f"{w:0{digits}x}" for w in image.words) == words
    assert len(image.ptr) * image.ptr_bits + len(image.words) * image.word_bits == int(bits)


@pytest.mark.parametrize("row", contract_table("stimulus-packing"))
def test_the_contract_stimulus_bit_order_is_numpy_packbits(tmp_path, row) -> None:
    bits, packed = row
    spikes = np.array([[[int(b) for b in bits.split()]]], dtype=np.uint8)
    save_stimulus(tmp_path / "s.npz", Stimulus(spikes, np.zeros(1, np.int64)))
    with np.load(tmp_path / "s.npz") as data:
        assert " ".join(f"{b:02x}" for b in data["spikes"].ravel()) == packed
        assert data["shape"].dtype == np.int64 and data["shape"].tolist() == list(spikes.shape)


def test_the_contract_vendor_format_example_is_what_the_writers_write() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    assert "`memory_initialization_vector=` / `f1,` / `02;`" in text
    assert "f1,\n02;\n" in WRITERS["coe"]([0xF1, 0x02], 8, "l0_weights")
    assert "\t0 : f1;\n\t1 : 02;\n" in WRITERS["mif"]([0xF1, 0x02], 8, "l0_weights")
    header = WRITERS["h"]([0xF1, 0x02], 8, "l0_weights")
    assert re.search(r"\{UINT64_C\(0xf1\)\},\n    \{UINT64_C\(0x02\)\},", header)


def test_the_c_headers_compile_and_hold_the_mem_words(tmp_path, rng) -> None:
    """network.h includes every memory header; a C program prints every word back."""
    import shutil
    import subprocess

    from sdsnn_hw.export import write_export

    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler (cc): the Verilator tests need one too")
    layers = random_network(rng, (6, 5, 3), weight_bits=6, v_bits=12, density=0.6)
    manifest = write_export(tmp_path / "e", layers, 3, 2, lanes=8, formats=("h",))
    prints = []
    for memory in manifest.memories:
        name = memory.file.removesuffix(".mem")
        macro = name.upper()
        prints.append(
            f"for (unsigned a = 0; a < {macro}_DEPTH; a++) {{\n"
            f'  for (unsigned i = {macro}_LIMBS; i-- > 0;) printf("%016llx", '
            f'(unsigned long long){name}[a][i]);\n  printf("\\n");\n}}'
        )
    program = tmp_path / "e" / "dump.c"
    program.write_text(
        '#include <stdio.h>\n#include "network.h"\nint main(void) {\n'
        + "\n".join(prints)
        + "\nreturn SDSNN_LAYERS == 2 && SDSNN_L1_N_OUT == 3 ? 0 : 1;\n}\n"
    )
    binary = tmp_path / "dump"
    subprocess.run([compiler, "-std=c99", "-Wall", "-Werror", "-o", binary, program], check=True)
    out = subprocess.run([binary], capture_output=True, text=True, check=True).stdout.split()
    expected = [w for m in manifest.memories for w in read_memory(tmp_path / "e", m)]
    assert [int(word, 16) for word in out] == expected
