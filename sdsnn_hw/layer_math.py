"""Integer arithmetic of one layer step, per layer kind (contract sections 3 and 3.1).

NumPy functions over whole batches: the golden model and the conv cost model use them.
Currents are computed in float64 and converted back: every partial sum is an integer
inside the ``ACC_BITS`` range, far below 2**53 where float64 stops being exact (a
layer would need 2**45 weights to get there), and BLAS products are much faster than
NumPy's integer ones.
"""

from __future__ import annotations

import numpy as np

from sdsnn_hw.netspec import CONV
from sdsnn_hw.neuron import signed_bits_for


def sum_pool(maps: np.ndarray, k: int) -> np.ndarray:
    """k x k window sums of (samples, C, H, W) spikes: the counts 0..k*k AP<k> feeds on."""
    if k == 1:
        return maps
    n, c, h, w = maps.shape
    return maps.reshape(n, c, h // k, k, w // k, k).sum(axis=(3, 5), dtype=np.int64)


def layer_inputs(
    spikes: np.ndarray, in_shape: tuple[int, int, int], pool: int, as_map: bool
) -> np.ndarray:
    """A layer's integer inputs from the previous layer's spikes (samples, neurons).

    Returns (samples, C, H/pool, W/pool) when ``as_map``, else the same flattened in C
    order (the columns of an fc layer).
    """
    maps = sum_pool(spikes.reshape(len(spikes), *in_shape), pool)
    return maps if as_map else maps.reshape(len(spikes), -1)


def conv_same(inputs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Stride-1 'same' convolution (cross-correlation, zero padding K // 2).

    ``out[n, o, y, x] = sum_{c, dy, dx} w[o, c, dy, dx] * in[n, c, y + dy - p, x + dx - p]``

    Args:
        inputs: (samples, C, H, W) integer counts.
        weights: (O, C, K, K) integers.

    Returns:
        int64 (samples, O, H, W).
    """
    k = weights.shape[-1]
    p = k // 2
    padded = np.pad(inputs.astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(2, 3))
    # windows[n, c, y, x, dy, dx] = in[n, c, y + dy - p, x + dx - p]
    out = np.tensordot(windows, weights.astype(np.float64), axes=([1, 4, 5], [1, 2, 3]))
    return out.transpose(0, 3, 1, 2).astype(np.int64)


def layer_current(
    kind: str,
    weights: np.ndarray,
    bias: np.ndarray | None,
    inputs: np.ndarray,
) -> np.ndarray:
    """``I + b`` of every neuron, int64 (samples, n_out), neurons in C order.

    Args:
        kind: ``fc`` or ``conv``.
        weights: (n_out, n_in) for fc, (O, C, K, K) for conv.
        bias: per neuron (fc) or per output channel (conv), or None.
        inputs: from :func:`layer_inputs` (a map for conv, flat for fc).
    """
    if kind == CONV:
        current = conv_same(inputs, weights)
        if bias is not None:
            current += bias[None, :, None, None]
        return current.reshape(len(inputs), -1)
    current = (inputs.astype(np.float64) @ weights.T.astype(np.float64)).astype(np.int64)
    return current if bias is None else current + bias[None, :]


def acc_bits(
    weights: np.ndarray, weight_bits: int, pool: int = 1, bias: np.ndarray | None = None
) -> int:
    """``ACC_BITS`` (contract section 3): the smallest signed width that holds, for every
    output unit (fc neuron, conv output channel), ``pool**2`` times the sum of its
    positive weights plus its bias if positive, the same for the negative side, and
    one weight.

    An input count reaches ``pool**2`` (AP<k> sums ``k*k`` spikes), and a conv neuron
    sees at most its whole filter, so no current and no bias added to it can leave
    this range. Without pooling and bias this is :func:`sdsnn_hw.neuron.accumulator_bits`.
    """
    rows = np.asarray(weights, dtype=np.int64).reshape(weights.shape[0], -1)
    scale = pool * pool
    positive = scale * np.clip(rows, 0, None).sum(axis=1)
    negative = scale * np.clip(rows, None, 0).sum(axis=1)
    if bias is not None:
        positive = positive + np.clip(bias, 0, None)
        negative = negative + np.clip(bias, None, 0)
    return max(
        weight_bits, signed_bits_for(int(negative.min(initial=0)), int(positive.max(initial=0)))
    )


def tap_reach(size: int, kernel: int) -> np.ndarray:
    """bool (size, kernel): whether tap ``d`` of an input at position ``i`` lands inside
    the map, at output position ``i + K // 2 - d`` (one axis of 'same' padding)."""
    target = np.arange(size)[:, None] + kernel // 2 - np.arange(kernel)[None, :]
    return (target >= 0) & (target < size)
