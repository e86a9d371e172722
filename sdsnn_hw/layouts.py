"""Weight memory layouts for the P-lane core (contract section 5), a registry by layer kind.

Every layout stores, per input (an fc input ``j``, a conv input channel ``c``), a run
of weight-ROM words, one word per core cycle (per kernel tap for conv), each word
holding ``P`` slots (slot ``p`` in bits ``[p*SLOT_BITS +: SLOT_BITS]``). A slot holds a
*kernel*: the ``T`` weights (``T = K*K`` taps for conv, one weight for fc) from the input
to one output unit (fc neuron, conv output channel), tap ``t`` in bits
``[t*W_BITS +: W_BITS]``, and above them a bank address where the layout has one.
Output unit ``o`` belongs to lane bank ``o % P`` at address ``o // P``; a bank holds
``R = ceil(N_OUT / P)`` units (``N_OUT``: neurons for fc, output channels for conv). A
pointer memory of ``N_IN + 1`` word offsets gives input ``i`` the words
``ptr[i] .. ptr[i+1] - 1``.

Two shapes of layout serve both kinds; an fc layer is the ``T = 1`` case:

- dense (``dense_rows`` for fc, ``dense_kernels`` for conv): an input with at least one
  non-zero weight stores ``R`` words; slot ``p`` of word ``r`` is the kernel of unit
  ``r*P + p`` (all zero beyond ``N_OUT``). Inputs whose weights are all zero store
  nothing. Slots are ``T * W_BITS`` wide.
- lists (``csr_fanout`` for fc, ``kernel_list`` for conv): the non-zero kernels of input
  ``i`` are sorted into their banks; word ``r`` slot ``p`` holds ``{address, kernel}`` of
  the ``r``-th non-zero kernel of ``i`` in bank ``p`` (ascending unit order), or an
  empty slot (all zero). Input ``i`` stores ``max_p`` (its kernels in bank ``p``) words.
  An all-zero kernel is not stored: no slot, no word, no cycle. Slots are
  ``ADDR_BITS + T * W_BITS`` wide, ``ADDR_BITS = max(1, ceil(log2 R))``.

A third shape, ``tap_list`` (conv only), stores single taps: the non-zero weights of
input channel ``c`` to the units of bank ``p`` (ascending unit, then tap) fill slot
``p`` of successive words as ``{address, tap, weight}``, ``TAP_BITS = max(1,
ceil(log2 T))`` bits of tap index above the ``W_BITS`` weight. Channel ``c`` stores
``max_p`` (its non-zero weights in bank ``p``) words; each word is one core cycle,
every lane on its own tap, so zero weights inside a kept kernel cost nothing.

A layer whose weights are all zero stores one all-zero filler word, so every memory
has at least one word.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

import numpy as np

from sdsnn_hw.netspec import CONV, FC
from sdsnn_hw.neuron import unsigned_bits_for

LANE_CHOICES = (1, 2, 4, 8)
DEFAULT_LANES = 8
AUTO = "auto"


@dataclass(frozen=True)
class Layout:
    """One entry of the registry.

    Attributes:
        name: the manifest's ``layout``.
        kind: the layer kind it stores.
        addressed: slots carry a bank address (lists) or not (dense).
        per_tap: a slot holds one tap ``{address, tap, weight}`` instead of a kernel.
    """

    name: str
    kind: str
    addressed: bool
    per_tap: bool = False


REGISTRY: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout("dense_rows", FC, addressed=False),
        Layout("csr_fanout", FC, addressed=True),
        Layout("dense_kernels", CONV, addressed=False),
        Layout("kernel_list", CONV, addressed=True),
        Layout("tap_list", CONV, addressed=True, per_tap=True),
    )
}
"""Every layout by name; per kind in this order, which breaks size ties."""


def layouts_for(kind: str) -> tuple[str, ...]:
    """The layouts of one layer kind, in registry order."""
    return tuple(name for name, layout in REGISTRY.items() if layout.kind == kind)


LAYOUTS = layouts_for(FC)
"""The fc layouts (the RTL core's ``LAYOUT`` parameter is an index into this)."""
ALL_LAYOUTS = tuple(REGISTRY)


def bank_depth(n_out: int, lanes: int) -> int:
    """Units per bank, ``ceil(n_out / lanes)``."""
    return -(-n_out // lanes)


def addr_bits_for(depth: int) -> int:
    """Width of a bank address: ``ceil(log2 depth)``, at least 1."""
    return max(1, (depth - 1).bit_length())


def tap_bits_for(taps: int) -> int:
    """Width of a tap index of a ``tap_list`` slot: ``ceil(log2 taps)``, at least 1."""
    return max(1, (taps - 1).bit_length())


def slot_bits_for(layout: str, weight_bits: int, depth: int, taps: int = 1) -> int:
    """Width of one slot: ``taps`` weights (one weight and its tap index for
    ``tap_list``), plus a bank address of ``depth`` units."""
    entry = _layout(layout)
    address = addr_bits_for(depth) if entry.addressed else 0
    if entry.per_tap:
        return address + tap_bits_for(taps) + weight_bits
    return address + taps * weight_bits


def _layout(name: str) -> Layout:
    if name not in REGISTRY:
        raise ValueError(f"unknown layout {name!r}; expected one of: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def _kernels(weights: np.ndarray, layout: Layout) -> np.ndarray:
    """Weights as kernels (n_out, n_in, taps): fc (n_out, n_in), conv (O, C, K, K)."""
    weights = np.asarray(weights, dtype=np.int64)
    ndim = 2 if layout.kind == FC else 4
    if weights.ndim != ndim or 0 in weights.shape:
        wanted = "(n_out, n_in)" if ndim == 2 else "(out_channels, in_channels, K, K)"
        raise ValueError(
            f"layout {layout.name} stores {layout.kind} weights {wanted}, got {weights.shape}"
        )
    if ndim == 4 and weights.shape[2] != weights.shape[3]:
        raise ValueError(f"a conv kernel must be square, got {weights.shape[2:]}")
    return weights.reshape(*weights.shape[:2], -1)


def words_per_input(weights: np.ndarray, layout: str, lanes: int) -> np.ndarray:
    """Weight-ROM words each input (fc input, conv input channel) occupies.

    Args:
        weights: fc (n_out, n_in) or conv (O, C, K, K) integers.
        layout: a layout of the weights' kind.
        lanes: P.

    Returns:
        int64 array (n_in,) or (C,).
    """
    entry = _layout(layout)
    kernels = _kernels(weights, entry) != 0
    # slots each (unit, input) needs: its non-zero taps, or one per non-zero kernel
    items = kernels.sum(axis=2) if entry.per_tap else kernels.any(axis=2)  # (n_out, n_in)
    n_out, n_in = items.shape
    depth = bank_depth(n_out, lanes)
    if not entry.addressed:
        return np.where(items.any(axis=0), depth, 0).astype(np.int64)
    padded = np.zeros((depth * lanes, n_in), np.int64)
    padded[:n_out] = items
    per_bank = padded.reshape(depth, lanes, n_in).sum(axis=0)  # (lanes, n_in)
    return per_bank.max(axis=0).astype(np.int64)


@dataclass(frozen=True)
class LayoutImage:
    """The two memory images of one layer in one layout.

    Attributes:
        layout: a name of :data:`REGISTRY`.
        lanes: P, slots per weight word.
        n_in, n_out: inputs and output units (conv: input and output channels).
        weight_bits: weight field width (two's complement).
        addr_bits: bank address field width (0 for dense layouts: no field).
        ptr: pointer memory, ``n_in + 1`` word offsets (int64).
        ptr_bits: pointer word width, the unsigned width of the word count.
        words: weight-ROM words as Python ints (at least one word).
        word_bits: weight word width, ``lanes * slot_bits``.
        taps: weights per kernel, ``K*K`` for conv, 1 for fc.
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
    taps: int = 1

    @property
    def depth(self) -> int:
        """Units per bank R: the words of a dense input, the range of list addresses."""
        return bank_depth(self.n_out, self.lanes)

    @property
    def slot_bits(self) -> int:
        if _layout(self.layout).per_tap:
            return self.addr_bits + tap_bits_for(self.taps) + self.weight_bits
        return self.taps * self.weight_bits + self.addr_bits

    @property
    def size_bits(self) -> int:
        """Bits of ROM the layer needs: pointer memory plus weight memory."""
        return len(self.ptr) * self.ptr_bits + len(self.words) * self.word_bits


def encode(weights: np.ndarray, weight_bits: int, lanes: int, layout: str) -> LayoutImage:
    """Encode integer weights (fc (n_out, n_in), conv (O, C, K, K)) into ``layout``.

    Raises:
        ValueError: on an unknown layout or lane count, weights of the other kind, or a
            weight outside the narrow ``weight_bits`` range of the hardware contract.
    """
    entry = _layout(layout)
    if lanes not in LANE_CHOICES:
        raise ValueError(f"lanes must be one of {LANE_CHOICES}, got {lanes}")
    kernels = _kernels(weights, entry)
    limit = (1 << (weight_bits - 1)) - 1
    if kernels.min() < -limit or kernels.max() > limit:
        raise ValueError(f"a weight is outside -{limit}..{limit} ({weight_bits} bits)")
    n_out, n_in, taps = kernels.shape
    depth = bank_depth(n_out, lanes)
    addr_bits = addr_bits_for(depth) if entry.addressed else 0
    slot_bits = slot_bits_for(layout, weight_bits, depth, taps)
    counts = words_per_input(weights, layout, lanes)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    fields = _pack_taps(kernels & ((1 << weight_bits) - 1), weight_bits)  # (n_out, n_in)
    padded = np.zeros((depth * lanes, n_in), fields.dtype)
    padded[:n_out] = fields
    present = np.zeros((depth * lanes, n_in), bool)
    present[:n_out] = np.any(kernels != 0, axis=2)
    address_shift = taps * weight_bits
    words: list[int] = []
    for i in np.flatnonzero(counts):
        if entry.per_tap:
            slots = _tap_slots(kernels[:, i], lanes, int(counts[i]), weight_bits)
        else:
            column = padded[:, i].reshape(depth, lanes).tolist()  # [address][bank]
            slots = column
            if entry.addressed:
                slots = [[0] * lanes for _ in range(int(counts[i]))]
                stored = present[:, i].reshape(depth, lanes)
                for p in range(lanes):
                    for r, address in enumerate(np.flatnonzero(stored[:, p]).tolist()):
                        slots[r][p] = (address << address_shift) | column[address][p]
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
        taps=taps,
    )


def _tap_slots(kernels: np.ndarray, lanes: int, count: int, weight_bits: int) -> list[list[int]]:
    """``tap_list`` slots of one input: ``count`` words of ``lanes`` slots; slot ``p`` of
    word ``r`` is ``{address, tap, weight}`` of the ``r``-th non-zero weight of bank ``p``
    (ascending unit, then tap), or 0.

    Args:
        kernels: the input's kernels (n_out, taps).
    """
    taps = kernels.shape[1]
    tap_shift = weight_bits
    address_shift = weight_bits + tap_bits_for(taps)
    slots = [[0] * lanes for _ in range(count)]
    filled = [0] * lanes
    for unit, tap in zip(*np.nonzero(kernels), strict=True):  # row-major: unit, then tap
        bank, address = int(unit) % lanes, int(unit) // lanes
        code = int(kernels[unit, tap]) & ((1 << weight_bits) - 1)
        slots[filled[bank]][bank] = (address << address_shift) | (int(tap) << tap_shift) | code
        filled[bank] += 1
    return slots


def _pack_taps(codes: np.ndarray, weight_bits: int) -> np.ndarray:
    """Unsigned tap codes (..., taps) packed into one field, tap ``t`` at ``t * W_BITS``.

    int64 while the field fits (every fc kernel), Python ints beyond.
    """
    taps = codes.shape[-1]
    dtype = np.int64 if taps * weight_bits <= 62 else object
    packed = np.zeros(codes.shape[:-1], dtype)
    for t in range(taps):
        packed = packed | (codes[..., t].astype(dtype) << (t * weight_bits))
    return packed


def decode(image: LayoutImage) -> np.ndarray:
    """Integer weights back from a layout image: fc (n_out, n_in), conv (O, C, K, K).

    Raises:
        ValueError: if the pointers or a slot are inconsistent with the layout.
    """
    entry = _layout(image.layout)
    kernel = isqrt(image.taps)
    if kernel * kernel != image.taps or (entry.kind == FC and image.taps != 1):
        raise ValueError(f"{image.taps} taps is not a square kernel of a {entry.kind} layer")
    ptr = np.asarray(image.ptr, dtype=np.int64)
    if len(ptr) != image.n_in + 1 or ptr[0] != 0 or np.any(np.diff(ptr) < 0):
        raise ValueError("pointer memory must hold n_in + 1 non-decreasing offsets from 0")
    if ptr[-1] > len(image.words) or (ptr[-1] == 0 and len(image.words) != 1):
        raise ValueError("pointer memory and weight memory disagree on the word count")
    depth, lanes, wb, taps = image.depth, image.lanes, image.weight_bits, image.taps
    slot_mask, w_mask, half = (1 << image.slot_bits) - 1, (1 << wb) - 1, 1 << (wb - 1)
    kernels = np.zeros((depth * lanes, image.n_in, taps), np.int64)
    for i in range(image.n_in):
        lo, hi = int(ptr[i]), int(ptr[i + 1])
        if not entry.addressed and hi - lo not in (0, depth):
            raise ValueError(
                f"input {i}: {image.layout} stores 0 or {depth} words, found {hi - lo}"
            )
        for r in range(lo, hi):
            word = image.words[r]
            for p in range(lanes):
                slot = (word >> (p * image.slot_bits)) & slot_mask
                if entry.per_tap:
                    _decode_tap(slot, image, kernels, i, p)
                    continue
                codes = [(slot >> (t * wb)) & w_mask for t in range(taps)]
                kernel_weights = [c - (1 << wb) if c >= half else c for c in codes]
                if not entry.addressed:
                    kernels[(r - lo) * lanes + p, i] = kernel_weights
                elif any(kernel_weights):
                    address = slot >> (taps * wb)
                    if address >= depth or kernels[address * lanes + p, i].any():
                        raise ValueError(f"input {i}: bad or repeated bank address {address}")
                    kernels[address * lanes + p, i] = kernel_weights
    if np.any(kernels[image.n_out :]):
        raise ValueError("a weight targets a padding unit beyond n_out")
    kernels = kernels[: image.n_out]
    if entry.kind == FC:
        return kernels[:, :, 0]
    return kernels.reshape(image.n_out, image.n_in, kernel, kernel)


def _decode_tap(slot: int, image: LayoutImage, kernels: np.ndarray, i: int, lane: int) -> None:
    """Place one ``tap_list`` slot of input ``i`` into ``kernels`` (units, inputs, taps)."""
    wb, tap_bits = image.weight_bits, tap_bits_for(image.taps)
    code = slot & ((1 << wb) - 1)
    if code == 0:
        if slot:
            raise ValueError(f"input {i}: an empty tap_list slot must be all zero")
        return
    tap = (slot >> wb) & ((1 << tap_bits) - 1)
    address = slot >> (wb + tap_bits)
    unit = address * image.lanes + lane
    if tap >= image.taps or address >= image.depth or kernels[unit, i, tap]:
        raise ValueError(f"input {i}: bad or repeated tap {tap} at bank address {address}")
    kernels[unit, i, tap] = code - (1 << wb) if code >> (wb - 1) else code


CYCLE_SLACK = 1.10
"""``auto`` keeps the smallest layout among those within this factor of the fewest
issue cycles per event (:func:`event_cycles`)."""


def event_cycles(weights: np.ndarray, layout: str, lanes: int) -> float:
    """Issue cycles of one event, averaged over the inputs (fc) or input channels (conv)
    with every kernel tap inside the map: a word is one cycle, a conv word of a kernel
    layout one per tap (contract section 7)."""
    entry = _layout(layout)
    taps = _kernels(weights, entry).shape[2]
    per_word = 1 if entry.per_tap else taps
    return float(words_per_input(weights, layout, lanes).mean() * per_word)


def encode_choice(
    weights: np.ndarray, weight_bits: int, lanes: int, layout: str = AUTO
) -> tuple[LayoutImage, dict[str, int]]:
    """Encode in every layout of the weights' kind (4-d: conv, else fc); keep ``layout``,
    or with ``auto`` the smallest in bits of those whose :func:`event_cycles` are within
    :data:`CYCLE_SLACK` of the fewest.

    Returns:
        The kept image and the size in bits of every candidate (ties go to the layout
        listed first in :data:`REGISTRY`).

    Raises:
        ValueError: if ``layout`` is not ``auto`` or a layout of that kind.
    """
    kind = CONV if np.ndim(weights) == 4 else FC
    candidates = layouts_for(kind)
    if layout != AUTO and layout not in candidates:
        raise ValueError(
            f"layout {layout!r} does not store {kind} layers; expected one of: "
            f"{', '.join(candidates)}"
        )
    images = {name: encode(weights, weight_bits, lanes, name) for name in candidates}
    sizes = {name: image.size_bits for name, image in images.items()}
    if layout == AUTO:
        cycles = {name: event_cycles(weights, name, lanes) for name in candidates}
        fast = [name for name in candidates if cycles[name] <= CYCLE_SLACK * min(cycles.values())]
        layout = min(fast, key=lambda name: sizes[name])
    return images[layout], sizes
