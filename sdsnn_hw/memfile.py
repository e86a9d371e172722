"""Memory image files: one word per line in hex, the format ``$readmemh`` reads.

Contract section 5: lowercase hex, each word zero-padded to ceil(width / 4) digits,
no address markers, no comments, a newline after every word. Words may be wider than
64 bits (a P-lane weight word holds P slots), so they are Python integers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class MemoryFileError(ValueError):
    """A memory image does not match what its manifest entry promises."""


def hex_digits(width: int) -> int:
    return (width + 3) // 4


def format_mem(words: Iterable[int], width: int) -> str:
    """Render unsigned words (each < 2**width) as ``$readmemh`` text."""
    digits = hex_digits(width)
    lines = []
    for word in words:
        word = int(word)
        if word < 0 or word >> width:
            raise ValueError(f"a word does not fit in {width} bits")
        lines.append(f"{word:0{digits}x}\n")
    return "".join(lines)


def parse_mem(path: Path, depth: int, width: int) -> list[int]:
    """Read a ``.mem`` file back, checking its depth and word width.

    Raises:
        MemoryFileError: naming the file and line that break the format.
    """
    try:
        lines = path.read_text(encoding="ascii").split("\n")
    except UnicodeDecodeError:
        raise MemoryFileError(f"{path}: not an ASCII memory image") from None
    if lines[-1] != "":
        raise MemoryFileError(f"{path}: the last word has no newline")
    lines.pop()
    if len(lines) != depth:
        raise MemoryFileError(f"{path}: expected depth {depth} words, found {len(lines)}")
    digits = hex_digits(width)
    words = []
    for number, line in enumerate(lines, start=1):
        if len(line) != digits or line.strip("0123456789abcdef"):
            raise MemoryFileError(
                f"{path}:{number}: {line!r} is not a {width}-bit word of {digits} lowercase "
                "hex digits"
            )
        value = int(line, 16)
        if value >> width:
            raise MemoryFileError(f"{path}:{number}: {line!r} does not fit in {width} bits")
        words.append(value)
    return words
