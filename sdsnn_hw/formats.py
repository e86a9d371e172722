"""Vendor formats of one memory image: Xilinx ``.coe``, Intel ``.mif`` and a C header.

Each holds exactly the words of the ``.mem`` file beside it (contract section 5), in
the same order, each word zero-padded to ``ceil(width / 4)`` hex digits. Every writer
has a parser that reads the file back, checking depth and width, so the tests (and
``sdsnn verify``) can show that all formats of a memory hold the same words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from sdsnn_hw.memfile import MemoryFileError, format_mem, hex_digits, parse_mem

LIMB_BITS = 64
"""The C header stores a word as ``uint64_t`` limbs, least significant first."""


def _check(words: Sequence[int], width: int) -> list[int]:
    words = [int(w) for w in words]
    for word in words:
        if word < 0 or word >> width:
            raise ValueError(f"a word does not fit in {width} bits")
    return words


def format_coe(words: Sequence[int], width: int, title: str) -> str:
    """Xilinx coefficient file (Vivado Block Memory Generator, ``radix 16``)."""
    digits = hex_digits(width)
    body = ",\n".join(f"{w:0{digits}x}" for w in _check(words, width))
    return (
        f"; {title}: {len(words)} words of {width} bits (sdsnn-hw, hardware contract 5)\n"
        "memory_initialization_radix=16;\n"
        f"memory_initialization_vector=\n{body};\n"
    )


def format_mif(words: Sequence[int], width: int, title: str) -> str:
    """Intel memory initialization file (Quartus), one ``address : word;`` per line."""
    digits = hex_digits(width)
    lines = [f"\t{a} : {w:0{digits}x};\n" for a, w in enumerate(_check(words, width))]
    return (
        f"-- {title}: {len(words)} words of {width} bits (sdsnn-hw, hardware contract 5)\n"
        f"WIDTH={width};\nDEPTH={len(words)};\nADDRESS_RADIX=UNS;\nDATA_RADIX=HEX;\n\n"
        f"CONTENT BEGIN\n{''.join(lines)}END;\n"
    )


def limbs(width: int) -> int:
    """``uint64_t`` limbs per word of ``width`` bits."""
    return -(-width // LIMB_BITS)


def c_name(stem: str) -> str:
    """A C identifier from a file stem (``l0_weights``)."""
    name = re.sub(r"\W", "_", stem)
    return f"m_{name}" if name[0].isdigit() else name


def format_header(words: Sequence[int], width: int, title: str) -> str:
    """C header: ``static const uint64_t NAME[DEPTH][LIMBS]``, limb 0 the least
    significant 64 bits of the word, with ``NAME_DEPTH``, ``NAME_WIDTH``, ``NAME_LIMBS``."""
    name = c_name(title)
    macro = name.upper()
    count = limbs(width)
    rows = []
    for word in _check(words, width):
        parts = []
        for i in range(count):
            bits = min(LIMB_BITS, width - i * LIMB_BITS)
            limb = (word >> (i * LIMB_BITS)) & ((1 << LIMB_BITS) - 1)
            parts.append(f"UINT64_C(0x{limb:0{hex_digits(bits)}x})")
        rows.append("    {" + ", ".join(parts) + "},\n")
    guard = f"SDSNN_{macro}_H"
    return (
        f"/* {title}: {len(words)} words of {width} bits (sdsnn-hw, hardware contract 5).\n"
        f" * Word a is {name}[a]; limb i holds bits [64*i +: 64], least significant first. */\n"
        f"#ifndef {guard}\n#define {guard}\n\n#include <stdint.h>\n\n"
        f"#define {macro}_DEPTH {len(words)}u\n#define {macro}_WIDTH {width}u\n"
        f"#define {macro}_LIMBS {count}u\n\n"
        f"static const uint64_t {name}[{macro}_DEPTH][{macro}_LIMBS] = {{\n"
        f"{''.join(rows)}}};\n\n#endif /* {guard} */\n"
    )


def _numbered(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise MemoryFileError(f"{path}: not an ASCII file") from None
    return list(enumerate(text.split("\n"), start=1))


def _word(path: Path, number: int, text: str, width: int) -> int:
    digits = hex_digits(width)
    if len(text) != digits or text.strip("0123456789abcdef"):
        raise MemoryFileError(
            f"{path}:{number}: {text!r} is not a {width}-bit word of {digits} lowercase hex digits"
        )
    value = int(text, 16)
    if value >> width:
        raise MemoryFileError(f"{path}:{number}: {text!r} does not fit in {width} bits")
    return value


def _depth(path: Path, words: list[int], depth: int) -> list[int]:
    if len(words) != depth:
        raise MemoryFileError(f"{path}: expected depth {depth} words, found {len(words)}")
    return words


def parse_coe(path: Path, depth: int, width: int) -> list[int]:
    """Words of a ``.coe`` file written by :func:`format_coe` (comments and blank lines
    ignored; radix 16; one word per line, ``,`` between words and ``;`` after the last)."""
    words: list[int] = []
    state = "radix"
    for number, line in _numbered(path):
        line = line.split(";", 1)[0] if line.startswith(";") else line.strip()
        if not line:
            continue
        if state == "radix":
            if line.replace(" ", "") != "memory_initialization_radix=16;":
                raise MemoryFileError(f"{path}:{number}: expected memory_initialization_radix=16;")
            state = "vector"
        elif state == "vector":
            if line.replace(" ", "") != "memory_initialization_vector=":
                raise MemoryFileError(f"{path}:{number}: expected memory_initialization_vector=")
            state = "words"
        elif state == "words":
            last = line.endswith(";")
            if not (last or line.endswith(",")):
                raise MemoryFileError(f"{path}:{number}: a word must end in ',' or ';'")
            words.append(_word(path, number, line[:-1], width))
            state = "end" if last else "words"
        else:
            raise MemoryFileError(f"{path}:{number}: text after the last word")
    if state != "end":
        raise MemoryFileError(f"{path}: the vector does not end in ';' (truncated file)")
    return _depth(path, words, depth)


_MIF_HEADER = re.compile(r"(WIDTH|DEPTH|ADDRESS_RADIX|DATA_RADIX)\s*=\s*(\w+)\s*;")
_MIF_WORD = re.compile(r"(\d+)\s*:\s*(\S+?)\s*;")


def parse_mif(path: Path, depth: int, width: int) -> list[int]:
    """Words of a ``.mif`` file written by :func:`format_mif` (one ``a : word;`` per
    line, addresses 0, 1, ... in order; ``--`` comments ignored)."""
    header: dict[str, str] = {}
    words: list[int] = []
    state = "header"
    for number, line in _numbered(path):
        line = line.split("--", 1)[0].strip()
        if not line:
            continue
        if state == "header" and line == "CONTENT BEGIN":
            expected = {
                "WIDTH": str(width),
                "DEPTH": str(depth),
                "ADDRESS_RADIX": "UNS",
                "DATA_RADIX": "HEX",
            }
            for key, value in expected.items():
                if header.get(key) != value:
                    raise MemoryFileError(
                        f"{path}: field '{key}' must be {value}, got {header.get(key)}"
                    )
            state = "words"
        elif state == "header":
            match = _MIF_HEADER.fullmatch(line)
            if not match:
                raise MemoryFileError(f"{path}:{number}: expected KEY=VALUE; or CONTENT BEGIN")
            header[match[1]] = match[2]
        elif state == "words" and line == "END;":
            state = "end"
        elif state == "words":
            match = _MIF_WORD.fullmatch(line)
            if not match or int(match[1]) != len(words):
                raise MemoryFileError(
                    f"{path}:{number}: expected '{len(words)} : <word>;', got {line!r:.60}"
                )
            words.append(_word(path, number, match[2], width))
        else:
            raise MemoryFileError(f"{path}:{number}: text after END;")
    if state != "end":
        raise MemoryFileError(f"{path}: no END; (truncated file)")
    return _depth(path, words, depth)


_LIMB = re.compile(r"UINT64_C\(0x([0-9a-fA-F]+)\)")


def parse_header(path: Path, depth: int, width: int) -> list[int]:
    """Words of a C header written by :func:`format_header`: its macros must state
    ``depth``, ``width`` and the limb count, and each row hold that many limbs."""
    text = "\n".join(line for _, line in _numbered(path))
    macro = c_name(path.stem).upper()
    for key, value in (("DEPTH", depth), ("WIDTH", width), ("LIMBS", limbs(width))):
        match = re.search(rf"#define {macro}_{key} (\d+)u", text)
        if not match or int(match[1]) != value:
            raise MemoryFileError(
                f"{path}: macro {macro}_{key} must be {value}, got {match and match[1]}"
            )
    body = text.partition("] = {")[2].rpartition("};")[0]
    if not body:
        raise MemoryFileError(f"{path}: no array initializer (truncated file)")
    words = []
    first_line = text[: text.index("] = {")].count("\n") + 1
    for offset, row in enumerate(body.split("\n")):
        row = row.strip()
        if not row:
            continue
        number = first_line + offset
        parts = _LIMB.findall(row)
        if not row.startswith("{") or not row.endswith("},") or len(parts) != limbs(width):
            raise MemoryFileError(
                f"{path}:{number}: expected a row of {limbs(width)} UINT64_C(0x...) limbs"
            )
        value = sum(int(p, 16) << (i * LIMB_BITS) for i, p in enumerate(parts))
        if any(int(p, 16) >> LIMB_BITS for p in parts) or value >> width:
            raise MemoryFileError(f"{path}:{number}: a word does not fit in {width} bits")
        words.append(value)
    return _depth(path, words, depth)


WRITERS: dict[str, Callable[[Sequence[int], int, str], str]] = {
    "mem": lambda words, width, _title: format_mem(words, width),
    "coe": format_coe,
    "mif": format_mif,
    "h": format_header,
}
"""Memory format -> writer ``(words, width, title) -> text``; files are ``<title>.<fmt>``."""

PARSERS: dict[str, Callable[[Path, int, int], list[int]]] = {
    "mem": parse_mem,
    "coe": parse_coe,
    "mif": parse_mif,
    "h": parse_header,
}
"""Memory format -> parser ``(path, depth, width) -> words``."""
