"""Sparse weight layout: per-input fan-out lists (contract section 5, ``csr_fanout``).

For a layer with weights W (n_out, n_in), input j's synapses are syn[ptr[j]:ptr[j+1]],
each word ``{post_index, weight}`` with the weight in the low ``weight_bits`` bits
(two's complement) and the post-synaptic neuron index above it. Entries are ordered
by input, then by post index. An event-driven core reads only the fan-out of inputs
that spiked, so pruned synapses cost neither cycles nor memory reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdsnn_hw.neuron import unsigned_bits_for


@dataclass(frozen=True)
class FanoutLayout:
    """Encoded words and their widths.

    Attributes:
        ptr: n_in + 1 start offsets into ``syn``.
        syn: packed synapse words (at least one word: an all-zero filler when empty).
        ptr_bits, index_bits, weight_bits: field widths; syn words are
            ``index_bits + weight_bits`` wide.
        nnz: number of stored synapses.
    """

    ptr: np.ndarray
    syn: np.ndarray
    ptr_bits: int
    index_bits: int
    weight_bits: int
    nnz: int

    @property
    def syn_bits(self) -> int:
        return self.index_bits + self.weight_bits


def encode_fanout(weights: np.ndarray, weight_bits: int) -> FanoutLayout:
    """Encode an integer weight matrix (n_out, n_in) into fan-out lists."""
    n_out, n_in = weights.shape
    limit = (1 << (weight_bits - 1)) - 1
    if weights.size and (weights.min() < -limit or weights.max() > limit):
        raise ValueError(f"weights exceed the narrow {weight_bits}-bit range ±{limit}")
    posts, inputs = np.nonzero(weights)
    order = np.lexsort((posts, inputs))
    posts, inputs = posts[order], inputs[order]
    values = weights[posts, inputs].astype(np.int64)
    nnz = len(values)
    ptr = np.zeros(n_in + 1, dtype=np.uint64)
    np.cumsum(np.bincount(inputs, minlength=n_in), out=ptr[1:])
    index_bits = unsigned_bits_for(n_out - 1)
    unsigned_weights = (values & ((1 << weight_bits) - 1)).astype(np.uint64)
    syn = (posts.astype(np.uint64) << np.uint64(weight_bits)) | unsigned_weights
    if nnz == 0:
        syn = np.zeros(1, dtype=np.uint64)
    return FanoutLayout(ptr, syn, unsigned_bits_for(nnz), index_bits, weight_bits, nnz)


def decode_fanout(
    ptr: np.ndarray, syn: np.ndarray, n_out: int, index_bits: int, weight_bits: int
) -> np.ndarray:
    """Rebuild the dense int64 weight matrix (n_out, n_in) from fan-out lists.

    Raises:
        ValueError: if pointers decrease, overrun ``syn`` or a post index is out of range.
    """
    n_in = len(ptr) - 1
    ptr = ptr.astype(np.int64)
    if ptr[0] != 0 or np.any(np.diff(ptr) < 0) or ptr[-1] > len(syn):
        raise ValueError("pointer list is not a monotone range inside the synapse memory")
    nnz = int(ptr[-1])
    words = syn[:nnz].astype(np.int64)
    posts = words >> weight_bits
    if np.any(posts >= n_out) or np.any(posts >> index_bits):
        raise ValueError(f"a synapse names a neuron outside 0..{n_out - 1}")
    raw = words & ((1 << weight_bits) - 1)
    values = np.where(raw >= (1 << (weight_bits - 1)), raw - (1 << weight_bits), raw)
    if np.any(values == -(1 << (weight_bits - 1))):
        raise ValueError(f"a weight is the unused code -2**{weight_bits - 1} (narrow range)")
    inputs = np.repeat(np.arange(n_in), np.diff(ptr))
    same_input = inputs[1:] == inputs[:-1]
    if np.any(same_input & (posts[1:] <= posts[:-1])):
        raise ValueError("post indices of one input's fan-out are not strictly ascending")
    dense = np.zeros((n_out, n_in), dtype=np.int64)
    dense[posts, inputs] = values
    return dense
