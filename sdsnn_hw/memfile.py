"""Memory image files: one word per line in hex, the format ``$readmemh`` reads.

Contract section 5: lowercase hex, each word zero-padded to ceil(width / 4) digits,
no address markers, no comments, a newline after every word.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class MemoryFileError(ValueError):
    """A memory image does not match what its manifest entry promises."""


def hex_digits(width: int) -> int:
    return (width + 3) // 4


def format_mem(words: np.ndarray, width: int) -> str:
    """Render unsigned words (each < 2**width) as ``$readmemh`` text."""
    words = np.asarray(words, dtype=np.uint64)
    if words.size and int(words.max()) >> width:
        raise ValueError(f"a word does not fit in {width} bits")
    digits = hex_digits(width)
    return "".join(f"{int(w):0{digits}x}\n" for w in words)


def parse_mem(path: Path, depth: int, width: int) -> np.ndarray:
    """Read a ``.mem`` file back, checking its depth and word width.

    Raises:
        MemoryFileError: naming the file and line that break the format.
    """
    lines = path.read_text(encoding="ascii").splitlines()
    if len(lines) != depth:
        raise MemoryFileError(f"{path}: expected depth {depth} words, found {len(lines)}")
    digits = hex_digits(width)
    words = np.empty(depth, dtype=np.uint64)
    for number, line in enumerate(lines, start=1):
        try:
            value = int(line, 16)
        except ValueError:
            raise MemoryFileError(f"{path}:{number}: {line!r} is not a hex word") from None
        if len(line) != digits or value >> width:
            raise MemoryFileError(
                f"{path}:{number}: {line!r} is not a {width}-bit word of {digits} hex digits"
            )
        words[number - 1] = value
    return words
