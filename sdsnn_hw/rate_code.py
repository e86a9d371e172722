"""Rate coding of training batches, from 16 random bits per input and step.

``torch.bernoulli`` draws one double per spike and is the slowest part of a training
step on the CPU; two random bytes per spike and three uint8 comparisons give the same
code at 1/65,536 resolution. (The test-split stimulus every simulator reads is
:func:`sdsnn_hw.data.encode_rate`, unchanged.)
"""

from __future__ import annotations

import torch

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
