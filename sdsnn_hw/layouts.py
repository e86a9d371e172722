"""Weight memory layouts for the P-lane core (docs/microarchitecture.md, section 3).

Neuron ``n`` of a layer lives in bank ``n % P`` at address ``n // P``; a bank holds
``D = ceil(N_OUT / P)`` neurons. Both layouts store, per input ``j``, a run of
weight-ROM words, one word per core cycle, each word holding ``P`` slots (slot ``p``
in bits ``[p*SLOT_BITS +: SLOT_BITS]``, the weight in the low bits of a slot, a bank
address above it where the layout has one). A pointer memory of ``N_IN + 1`` word
offsets gives input ``j`` the words ``ptr[j] .. ptr[j+1] - 1``.

- ``dense_rows``: an input with at least one non-zero weight stores ``D`` words; slot
  ``p`` of word ``r`` is the weight of neuron ``r*P + p`` (0 beyond ``N_OUT``). Inputs
  whose column is all zero store nothing. Slots are ``W_BITS`` wide.
- ``csr_fanout``: the non-zero synapses of input ``j`` are sorted into their banks;
  word ``r`` slot ``p`` holds ``{address within bank, weight}`` of the ``r``-th synapse
  of ``j`` in bank ``p`` (ascending neuron order), or an empty slot (all zero). Input
  ``j`` stores ``max_p`` (synapses of ``j`` in bank ``p``) words. Slots are
  ``ADDR_BITS + W_BITS`` wide, ``ADDR_BITS = max(1, ceil(log2 D))``.

A layer whose weights are all zero stores one all-zero filler word, so every memory
has at least one word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdsnn_hw.neuron import unsigned_bits_for

LAYOUTS = ("dense_rows", "csr_fanout")
LANE_CHOICES = (1, 2, 4, 8)
DEFAULT_LANES = 8
AUTO = "auto"


def bank_depth(n_out: int, lanes: int) -> int:
    """Neurons per bank, ``D = ceil(n_out / lanes)``."""
    return -(-n_out // lanes)


def addr_bits_for(depth: int) -> int:
    """Width of a bank address: ``ceil(log2 depth)``, at least 1."""
    return max(1, (depth - 1).bit_length())


def slot_bits_for(layout: str, weight_bits: int, depth: int) -> int:
    """Width of one slot of a weight word."""
    _check_layout(layout)
    return weight_bits + (addr_bits_for(depth) if layout == "csr_fanout" else 0)


def _check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of: {', '.join(LAYOUTS)}")


def words_per_input(weights: np.ndarray, layout: str, lanes: int) -> np.ndarray:
    """Weight-ROM words each input occupies (and costs in cycles when it spikes).

    Args:
        weights: dense integer weights (n_out, n_in).
        layout: one of :data:`LAYOUTS`.
        lanes: P.

    Returns:
        int64 array (n_in,).
    """
    _check_layout(layout)
    weights = np.asarray(weights)
    n_out, n_in = weights.shape
    depth = bank_depth(n_out, lanes)
    nonzero = weights != 0
    if layout == "dense_rows":
        return np.where(nonzero.any(axis=0), depth, 0).astype(np.int64)
    padded = np.zeros((depth * lanes, n_in), bool)
    padded[:n_out] = nonzero
    per_bank = padded.reshape(depth, lanes, n_in).sum(axis=0)  # (lanes, n_in)
    return per_bank.max(axis=0).astype(np.int64)


@dataclass(frozen=True)
class LayoutImage:
    """The two memory images of one layer in one layout.

    Attributes:
        layout: ``dense_rows`` or ``csr_fanout``.
        lanes: P, slots per weight word.
        n_in, n_out: layer shape.
        weight_bits: weight field width (two's complement).
        addr_bits: bank address field width (0 for ``dense_rows``: no field).
        ptr: pointer memory, ``n_in + 1`` word offsets (int64).
        ptr_bits: pointer word width, the unsigned width of the word count.
        words: weight-ROM words as Python ints (at least one word).
        word_bits: weight word width, ``lanes * slot_bits``.
    """

    layout: str
    lanes: int
    n_in: int
    n_out: int
    weight_bits: int
    addr_bits: int
    ptr: np.ndarray
    ptr_bits: int
    words: tuple[int, ...]
    word_bits: int

    @property
    def depth(self) -> int:
        """Bank depth D."""
        return bank_depth(self.n_out, self.lanes)

    @property
    def slot_bits(self) -> int:
        return self.weight_bits + self.addr_bits

    @property
    def size_bits(self) -> int:
        """Bits of ROM the layer needs: pointer memory plus weight memory."""
        return len(self.ptr) * self.ptr_bits + len(self.words) * self.word_bits


def encode(weights: np.ndarray, weight_bits: int, lanes: int, layout: str) -> LayoutImage:
    """Encode dense integer weights (n_out, n_in) into ``layout`` for ``lanes`` lanes.

    Raises:
        ValueError: on an unknown layout or lane count, or a weight outside the
            narrow ``weight_bits`` range of the hardware contract.
    """
    _check_layout(layout)
    if lanes not in LANE_CHOICES:
        raise ValueError(f"lanes must be one of {LANE_CHOICES}, got {lanes}")
    weights = np.asarray(weights, dtype=np.int64)
    if weights.ndim != 2 or 0 in weights.shape:
        raise ValueError(f"weights must be a non-empty (n_out, n_in) matrix, got {weights.shape}")
    limit = (1 << (weight_bits - 1)) - 1
    if weights.size and (weights.min() < -limit or weights.max() > limit):
        raise ValueError(f"a weight is outside -{limit}..{limit} ({weight_bits} bits)")
    n_out, n_in = weights.shape
    depth = bank_depth(n_out, lanes)
    addr_bits = addr_bits_for(depth) if layout == "csr_fanout" else 0
    slot_bits = weight_bits + addr_bits
    counts = words_per_input(weights, layout, lanes)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    padded = np.zeros((depth * lanes, n_in), np.int64)
    padded[:n_out] = weights
    mask = (1 << weight_bits) - 1
    words: list[int] = []
    for j in np.flatnonzero(counts):
        column = padded[:, j].reshape(depth, lanes)  # [address, bank]
        slots = np.zeros((int(counts[j]), lanes), np.int64)
        if layout == "dense_rows":
            slots[:] = column & mask
        else:
            for p in range(lanes):
                addresses = np.flatnonzero(column[:, p])
                fields = (addresses << weight_bits) | (column[addresses, p] & mask)
                slots[: len(addresses), p] = fields
        for row in slots:
            word = 0
            for p in range(lanes - 1, -1, -1):
                word = (word << slot_bits) | int(row[p])
            words.append(word)
    return LayoutImage(
        layout=layout,
        lanes=lanes,
        n_in=n_in,
        n_out=n_out,
        weight_bits=weight_bits,
        addr_bits=addr_bits,
        ptr=ptr,
        ptr_bits=unsigned_bits_for(int(ptr[-1])),
        words=tuple(words) if words else (0,),
        word_bits=lanes * slot_bits,
    )


def decode(image: LayoutImage) -> np.ndarray:
    """Dense int64 weights (n_out, n_in) back from a layout image.

    Raises:
        ValueError: if the pointers or a slot are inconsistent with the layout.
    """
    _check_layout(image.layout)
    ptr = np.asarray(image.ptr, dtype=np.int64)
    if len(ptr) != image.n_in + 1 or ptr[0] != 0 or np.any(np.diff(ptr) < 0):
        raise ValueError("pointer memory must hold n_in + 1 non-decreasing offsets from 0")
    if ptr[-1] > len(image.words) or (ptr[-1] == 0 and len(image.words) != 1):
        raise ValueError("pointer memory and weight memory disagree on the word count")
    depth, lanes, wb = image.depth, image.lanes, image.weight_bits
    slot_mask, w_mask, half = (1 << image.slot_bits) - 1, (1 << wb) - 1, 1 << (wb - 1)
    padded = np.zeros((depth * lanes, image.n_in), np.int64)
    for j in range(image.n_in):
        lo, hi = int(ptr[j]), int(ptr[j + 1])
        if image.layout == "dense_rows" and hi - lo not in (0, depth):
            raise ValueError(f"input {j}: dense_rows stores 0 or {depth} words, found {hi - lo}")
        for r in range(lo, hi):
            word = image.words[r]
            for p in range(lanes):
                slot = (word >> (p * image.slot_bits)) & slot_mask
                code = slot & w_mask
                weight = code - (1 << wb) if code >= half else code
                if image.layout == "dense_rows":
                    padded[(r - lo) * lanes + p, j] = weight
                elif weight != 0:
                    address = slot >> wb
                    if address >= depth or padded[address * lanes + p, j] != 0:
                        raise ValueError(f"input {j}: bad or repeated bank address {address}")
                    padded[address * lanes + p, j] = weight
    if np.any(padded[image.n_out :]):
        raise ValueError("a weight targets a padding neuron beyond n_out")
    return padded[: image.n_out]


def encode_choice(
    weights: np.ndarray, weight_bits: int, lanes: int, layout: str = AUTO
) -> tuple[LayoutImage, dict[str, int]]:
    """Encode in every layout; keep ``layout``, or with ``auto`` the smallest in bits.

    Returns:
        The kept image and the size in bits of every candidate (ties go to the layout
        listed first in :data:`LAYOUTS`).
    """
    images = {name: encode(weights, weight_bits, lanes, name) for name in LAYOUTS}
    sizes = {name: image.size_bits for name, image in images.items()}
    if layout == AUTO:
        layout = min(LAYOUTS, key=lambda name: sizes[name])
    _check_layout(layout)
    return images[layout], sizes
