"""Batching samples of different sizes: pad to the largest with a value no real pixel takes, plus a mask.

Every real channel is >= 0 (0 is a real reflectance, air's transmittance and the transmitter's distance), so
PAD_VALUE = -1 cannot be mistaken for data (FACTS §4: entrants pad with -1 too).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["PAD_VALUE", "pad_batch", "same_size_batches"]

PAD_VALUE = -1.0
"""The value of padded pixels in every channel."""


def pad_batch(images: Sequence[np.ndarray], multiple_of: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Stack (C, H_i, W_i) arrays into one batch padded at the bottom and right.

    Args:
        images: B arrays with the same C (a 2-D (H, W) array counts as C = 1).
        multiple_of: round the padded H and W up to a multiple of this (e.g. a network's downsampling factor).
    Returns:
        batch: (B, C, H, W) float32, PAD_VALUE outside each image;
        valid: (B, H, W) bool, True on each image's own pixels.
    """
    if not images:
        raise ValueError("pad_batch needs at least one image")
    if multiple_of < 1:
        raise ValueError(f"multiple_of = {multiple_of} must be >= 1")
    arrays = [np.asarray(a, dtype=np.float32) for a in images]
    arrays = [a[None] if a.ndim == 2 else a for a in arrays]
    if any(a.ndim != 3 or a.shape[0] != arrays[0].shape[0] for a in arrays):
        raise ValueError(f"images must all be (C, H, W) with one C, got {[a.shape for a in arrays]}")
    height = -(-max(a.shape[1] for a in arrays) // multiple_of) * multiple_of
    width = -(-max(a.shape[2] for a in arrays) // multiple_of) * multiple_of
    batch = np.full((len(arrays), arrays[0].shape[0], height, width), PAD_VALUE, dtype=np.float32)
    valid = np.zeros((len(arrays), height, width), dtype=bool)
    for i, a in enumerate(arrays):
        batch[i, :, : a.shape[1], : a.shape[2]] = a
        valid[i, : a.shape[1], : a.shape[2]] = True
    return batch, valid


def same_size_batches(sizes: Sequence[tuple[int, int]], batch_size: int) -> list[list[int]]:
    """Batches of item indices in order, each of at most `batch_size` items of one (H, W): every run of
    consecutive items of one size is cut into batches (maps are then scored at their own size, unpadded).

    Args:
        sizes: (H, W) of every item (a dataset's `sizes`).
        batch_size: the most items per batch.
    Returns:
        Lists of indices covering 0 .. len(sizes) - 1 once, in order.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size = {batch_size} must be >= 1")
    batches: list[list[int]] = []
    for i, size in enumerate(sizes):
        if batches and len(batches[-1]) < batch_size and sizes[batches[-1][0]] == size:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches
