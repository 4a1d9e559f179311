"""Pure transforms: resizing, normalisation, transmitter location/rendering and tx-aware crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from radiodiff.data.transforms import (
    crop,
    denormalize,
    locate_tx,
    normalize,
    render_tx,
    resize_map,
    resize_mask,
    sample_crop_window,
    scale_tx,
)


def test_normalisation_round_trip_over_all_grey_levels() -> None:
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    x = normalize(levels)
    assert x.dtype == np.float32 and x.min() == -1.0 and x.max() == 1.0
    np.testing.assert_array_equal(np.rint(denormalize(x) * 255).astype(np.uint8), levels)
    tensor = denormalize(torch.from_numpy(x))
    assert isinstance(tensor, torch.Tensor) and torch.allclose(tensor * 255, torch.arange(256.0).view(16, 16))


def test_resize_map_averages_areas_on_non_square_images() -> None:
    image = np.array([[0, 100, 10, 10], [100, 0, 30, 30]], np.uint8)  # (2, 4) -> (1, 2)
    np.testing.assert_array_equal(resize_map(image, (1, 2)), [[50, 20]])
    assert resize_map(np.zeros((30, 50), np.uint8), (12, 20)).shape == (12, 20)


def test_resize_mask_keeps_two_levels_and_same_size_is_a_no_op() -> None:
    mask = (np.random.default_rng(0).random((37, 53)) > 0.5).astype(np.uint8) * 255
    small = resize_mask(mask, (16, 24))
    assert small.shape == (16, 24) and set(np.unique(small)) <= {0, 255}
    assert resize_mask(mask, (37, 53)) is mask


def test_locate_tx_single_pixel_and_blob() -> None:
    antenna = np.zeros((20, 30), np.uint8)
    antenna[4, 25] = 255
    assert locate_tx(antenna) == (4.0, 25.0)
    antenna[10:12, 6:9] = 255  # a blob ...
    antenna[4, 25] = 200  # ... brighter than the old pixel: only the brightest pixels count
    assert locate_tx(antenna) == (10.5, 7.0)


def test_locate_tx_refuses_an_empty_antenna_image() -> None:
    with pytest.raises(ValueError, match="all zero"):
        locate_tx(np.zeros((4, 4), np.uint8))


def test_scale_tx_aligns_pixel_centres() -> None:
    assert scale_tx((7.0, 9.0), (16, 16), (16, 16)) == (7, 9)
    assert scale_tx((0.0, 255.0), (256, 256), (64, 64)) == (0, 63)
    assert scale_tx((128.0, 10.0), (256, 128), (64, 32)) == (32, 2)  # (128.5/4 - .5, 10.5/4 - .5) rounded
    assert scale_tx((3.0, 3.0), (8, 8), (32, 16)) == (14, 7)  # upsampling


def test_render_tx_one_pixel_and_disc() -> None:
    marker = render_tx((2, 5), (6, 9))
    assert marker.dtype == np.uint8 and marker.shape == (6, 9)
    assert marker.sum() == 255 and marker[2, 5] == 255
    assert (render_tx((2, 5), (6, 9), radius=1) == 255).sum() == 5
    with pytest.raises(ValueError, match="outside the grid"):
        render_tx((6, 0), (6, 9))


@pytest.mark.parametrize("use_torch", [False, True])
def test_random_crops_keep_the_tx_inside_the_margin(use_torch: bool) -> None:
    rng = np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0) if use_torch else np.random.default_rng(1)
    for _ in range(500):
        height, width = int(rng.integers(12, 70)), int(rng.integers(12, 70))
        ch, cw = int(rng.integers(9, height + 1)), int(rng.integers(9, width + 1))
        margin = int(rng.integers(0, (min(ch, cw) - 1) // 2 + 1))
        row, col = int(rng.integers(margin, height - margin)), int(rng.integers(margin, width - margin))
        top, left = sample_crop_window((row, col), (height, width), (ch, cw), margin, generator)
        assert 0 <= top <= height - ch and 0 <= left <= width - cw
        assert margin <= row - top <= ch - 1 - margin and margin <= col - left <= cw - 1 - margin


def test_random_crops_are_uniform_over_valid_windows() -> None:
    generator = np.random.default_rng(0)
    draws = [sample_crop_window((10, 10), (20, 24), (8, 10), 2, generator) for _ in range(4000)]
    tops, lefts = zip(*draws, strict=True)
    assert set(tops) == set(range(5, 9)) and set(lefts) == set(range(3, 9))  # every valid window reached
    counts = np.bincount(tops)[5:9]
    assert counts.min() > 0.8 * counts.mean()


def test_crop_window_is_flush_with_the_border_when_the_tx_is_too_close_to_it() -> None:
    generator = np.random.default_rng(0)
    assert sample_crop_window((0, 39), (32, 40), (16, 16), 4, generator) == (0, 24)


def test_crop_window_refuses_a_crop_larger_than_the_image() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        sample_crop_window((4, 4), (16, 16), (17, 8), 0, np.random.default_rng(0))


def test_crop_cuts_the_last_two_axes_of_arrays_and_tensors() -> None:
    image = np.arange(2 * 6 * 7).reshape(2, 6, 7)
    np.testing.assert_array_equal(crop(image, 1, 2, (3, 4)), image[:, 1:4, 2:6])
    assert crop(torch.from_numpy(image), 3, 3, (3, 4)).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="exceeds image shape"):
        crop(image, 4, 0, (3, 4))
