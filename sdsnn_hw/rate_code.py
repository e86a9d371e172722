"""Spike coding of training batches: rate coding from 16 random bits per input and step,
or deterministic sigma-delta coding (:func:`sdsnn_hw.data.encode_sigma_delta`).

``torch.bernoulli`` draws one double per spike and is the slowest part of a training
step on the CPU; two random bytes per spike and three uint8 comparisons give the same
code at 1/65,536 resolution. (The test-split stimulus every simulator reads is
:func:`sdsnn_hw.data.encode`.)
"""

from __future__ import annotations

import torch

from sdsnn_hw.data import RATE, SIGMA_DELTA_BITS, SIGMA_DELTA_ONE

LEVELS = 1 << 16


def rate_spikes(x: torch.Tensor, steps: int, generator: torch.Generator) -> torch.Tensor:
    """Spike trains of pixels ``x`` (batch, inputs) in [0, 1].

    ``spike[t, n, j] = u < ceil(x[n, j] * 65536)`` for a uniform 16-bit ``u``: a spike
    with probability ``x`` rounded up to a multiple of 2**-16 (0 never fires, 1 always).

    Returns:
        uint8 0/1, (steps, batch, inputs): time-major, as the network consumes it.
    """
    n = steps * x.numel()
    words = torch.randint(
        -(1 << 63),
        (1 << 63) - 1,
        (-(-2 * n // 8),),
        generator=generator,
        dtype=torch.int64,
        device=x.device,
    )
    draws = words.view(torch.uint8)[: 2 * n].view(2, steps, *x.shape)
    level = torch.ceil(x * LEVELS).to(torch.int32)
    high = (level >> 8).clamp(max=255).to(torch.uint8)
    low = (level & 255).to(torch.uint8)
    spikes = (draws[0] < high) | ((draws[0] == high) & (draws[1] < low)) | (level >= LEVELS)
    return spikes.view(torch.uint8)


def sigma_delta_spikes(x: torch.Tensor, steps: int) -> torch.Tensor:
    """:func:`sdsnn_hw.data.encode_sigma_delta` of pixels ``x`` (batch, inputs), the same
    bits, time-major: uint8 0/1 of shape (steps, batch, inputs)."""
    level = torch.round(x.float() * SIGMA_DELTA_ONE).to(torch.int64)
    t = torch.arange(steps + 1, device=x.device, dtype=torch.int64).view(-1, *[1] * x.dim())
    count = (t * level + SIGMA_DELTA_ONE // 2) >> SIGMA_DELTA_BITS
    return (count[1:] - count[:-1]).to(torch.uint8)


def training_spikes(
    x: torch.Tensor, steps: int, generator: torch.Generator, encoding: str = RATE
) -> torch.Tensor:
    """Spike trains of a training batch in ``encoding``; time-major uint8 0/1."""
    if encoding == RATE:
        return rate_spikes(x, steps, generator)
    return sigma_delta_spikes(x, steps)
