"""Training-time augmentation: shifts move pixels by a drawn offset, flips mirror rows."""

import pytest
import torch

from sdsnn_hw import config as cfg
from sdsnn_hw.augment import augment

SHAPE = (2, 5, 6)


def one_pixel_images(batch: int, y: int, x: int) -> torch.Tensor:
    images = torch.zeros(batch, *SHAPE)
    images[:, 1, y, x] = 1.0
    return images.reshape(batch, -1)


def positions(out: torch.Tensor) -> list[tuple[int, int]]:
    images = out.view(len(out), *SHAPE)
    assert not images[:, 0].any(), "a shift or flip leaked across channels"
    found = []
    for image in images[:, 1]:
        where = image.nonzero().tolist()
        found.append(tuple(where[0]) if where else None)
    return found


def test_nothing_to_do_returns_the_batch_itself() -> None:
    x = torch.rand(3, 60)
    assert augment(x, SHAPE, 0, False, torch.Generator().manual_seed(0)) is x


def test_a_shift_moves_each_image_by_its_own_offset_within_the_range() -> None:
    out = augment(one_pixel_images(400, 2, 3), SHAPE, 1, False, torch.Generator().manual_seed(1))
    moves = {(y - 2, x - 3) for y, x in positions(out)}
    assert moves == {(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}


def test_pixels_shifted_out_are_lost_and_zeros_enter() -> None:
    images = torch.ones(300, *SHAPE)
    out = augment(images.reshape(300, -1), SHAPE, 2, False, torch.Generator().manual_seed(2))
    out = out.view(300, *SHAPE)
    # an image moved by (dy, dx) keeps (5 - |dy|) * (6 - |dx|) ones per channel
    kept = out[:, 0].sum(dim=(1, 2))
    assert set(kept.tolist()) == {float((5 - dy) * (6 - dx)) for dy in range(3) for dx in range(3)}
    assert torch.equal(out[:, 0], out[:, 1])


def test_a_flip_mirrors_left_to_right_about_half_the_time() -> None:
    out = augment(one_pixel_images(1000, 4, 1), SHAPE, 0, True, torch.Generator().manual_seed(3))
    found = positions(out)
    assert set(found) == {(4, 1), (4, 4)}
    assert 400 < found.count((4, 4)) < 600


def test_the_same_generator_draws_the_same_augmentations() -> None:
    x = torch.rand(16, 60)
    a = augment(x, SHAPE, 2, True, torch.Generator().manual_seed(4))
    b = augment(x, SHAPE, 2, True, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, x)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("data.shift_pixels", 9, "must be in 0..8"),
        ("data.shift_pixels", -1, "must be in 0..8"),
        ("data.flip", 1, "must be true or false"),
    ],
)
def test_augmentation_keys_are_checked(key, value, expected) -> None:
    with pytest.raises(cfg.ConfigError, match=f"key '{key}' {expected}"):
        cfg.apply(cfg.TrainSetup(), {key: value}, "test")


def test_augmentation_keys_reach_the_training_configuration() -> None:
    setup = cfg.apply(cfg.TrainSetup(), {"data.shift_pixels": 2, "data.flip": True}, "test")
    assert (setup.training.shift_pixels, setup.training.flip) == (2, True)
    assert cfg.parse(cfg.to_toml(setup), "round trip") == setup
