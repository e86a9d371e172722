"""Training-time image augmentation: random shifts and horizontal flips.

Applied to the pixels of each training batch before rate coding, on the batch's device
and from the trainer's generator, so a resumed run draws the same augmentations. The
test split is never augmented: every simulator reads the same stimulus.
"""

from __future__ import annotations

import torch


def augment(
    x: torch.Tensor,
    shape: tuple[int, int, int],
    shift: int,
    flip: bool,
    generator: torch.Generator,
) -> torch.Tensor:
    """Pixels ``x`` (batch, C*H*W) of ``shape`` images, each moved and maybe mirrored.

    Each image moves by its own ``dy, dx`` drawn uniformly from ``-shift..shift`` (pixels
    that enter are 0, those that leave are lost) and, with ``flip``, is mirrored left to
    right with probability 1/2.

    Returns:
        A new tensor of ``x``'s shape and dtype; ``x`` itself when there is nothing to do.
    """
    if shift == 0 and not flip:
        return x
    batch = len(x)
    channels, height, width = shape
    images = x.view(batch, channels, height, width)
    device = x.device
    if flip:
        mirror = torch.randint(0, 2, (batch,), generator=generator, device=device).bool()
        images = torch.where(mirror[:, None, None, None], images.flip(-1), images)
    if shift:
        dy, dx = torch.randint(
            -shift, shift + 1, (2, batch), generator=generator, device=device
        ).unbind(0)
        padded = torch.nn.functional.pad(images, (shift, shift, shift, shift))
        rows = (shift - dy)[:, None] + torch.arange(height, device=device)  # (batch, H)
        cols = (shift - dx)[:, None] + torch.arange(width, device=device)  # (batch, W)
        index_b = torch.arange(batch, device=device)[:, None, None, None]
        index_c = torch.arange(channels, device=device)[None, :, None, None]
        images = padded[index_b, index_c, rows[:, None, :, None], cols[:, None, None, :]]
    return images.reshape(batch, -1)
