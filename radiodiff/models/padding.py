"""Run size-constrained networks on maps of any size: pad on the bottom and right, then crop the result back.

Padding only at the bottom and right keeps every pixel's (row, col) unchanged, so transmitter positions and
the crop back need no offsets. The VAE needs sides that are multiples of its downsampling factor, the UNet's
tiles sides that are multiples of its coarsest stride and at least its tile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

__all__ = ["EMPTY", "crop_to", "pad_to", "padded_size", "run_padded"]

EMPTY = -1.0
"""Normalised grey level 0 (`data.transforms.normalize`): no building, no transmitter, no car, no signal."""


def padded_size(size: Sequence[int], multiple: int, minimum: Sequence[int] = (1, 1)) -> tuple[int, int]:
    """The smallest (H', W') >= max(size, minimum) whose sides are multiples of `multiple`.

    Args:
        size: (H, W) of the input.
        multiple: every side of the result is a multiple of it.
        minimum: (H_min, W_min); the result is at least this large.
    Returns:
        (H', W').
    """
    if multiple < 1:
        raise ValueError(f"padded_size: multiple = {multiple}; expected >= 1")
    return tuple(-(-max(int(s), int(m)) // multiple) * multiple for s, m in zip(size, minimum, strict=True))


def pad_to(x: torch.Tensor, size: Sequence[int], value: float = EMPTY) -> torch.Tensor:
    """Pad (..., H, W) to (..., H', W') with `value` at the bottom and right; the input itself if already there."""
    height, width = x.shape[-2:]
    if height > size[0] or width > size[1]:
        raise ValueError(f"pad_to: cannot pad a tensor of shape {tuple(x.shape)} down to {tuple(size)}")
    if (height, width) == tuple(size):
        return x
    return F.pad(x, (0, size[1] - width, 0, size[0] - height), value=value)


def crop_to(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """The top-left (..., H, W) of (..., H', W'): undoes `pad_to`."""
    return x[..., : size[0], : size[1]]


def run_padded(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, multiple: int, value: float = EMPTY
) -> torch.Tensor:
    """fn(x) for a size-preserving fn that needs sides that are multiples of `multiple`.

    Args:
        fn: maps (B, C, H', W') to (B, C_out, H', W').
        x: (B, C, H, W), any H and W.
        multiple: the side multiple fn needs.
        value: the padding value.
    Returns:
        (B, C_out, H, W): fn of the padded input, cropped back (fn(x) itself when no padding is needed).
    """
    size = x.shape[-2:]
    return crop_to(fn(pad_to(x, padded_size(size, multiple), value)), size)
