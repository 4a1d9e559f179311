"""Pure image transforms of the data layer: resizing, [-1, 1] normalisation, the transmitter channel and
tx-aware random crops. Positions are (row, col) in pixels; sizes are (H, W).
"""

from __future__ import annotations

from typing import TypeVar

import cv2
import numpy as np
import torch

__all__ = [
    "crop",
    "denormalize",
    "locate_tx",
    "normalize",
    "render_tx",
    "resize_map",
    "resize_mask",
    "sample_crop_window",
    "scale_tx",
]

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, torch.Tensor)
Generator = np.random.Generator | torch.Generator


def resize_map(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a grey radio map with area averaging (cv2.INTER_AREA: no aliasing when shrinking).

    Args:
        image: uint8 (H, W).
        size: output (H', W').
    Returns:
        uint8 (H', W'); the input itself when it already has that size.
    """
    return _resize(image, size, cv2.INTER_AREA)


def resize_mask(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a building or car mask with nearest-neighbour sampling (keeps the mask's two levels).

    Args:
        image: uint8 (H, W).
        size: output (H', W').
    Returns:
        uint8 (H', W'); the input itself when it already has that size.
    """
    return _resize(image, size, cv2.INTER_NEAREST)


def _resize(image: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    if image.ndim != 2:
        raise ValueError(f"expected a grey image of shape (H, W), got shape {tuple(image.shape)}")
    height, width = size
    if image.shape == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=interpolation)  # cv2 takes (W, H)


def normalize(image: np.ndarray) -> np.ndarray:
    """Grey levels to [-1, 1] as RadioDiff does: x / 255, then (x - 0.5) / 0.5 (FACTS §1).

    Args:
        image: uint8 (or float grey levels in 0..255) of any shape.
    Returns:
        float32 array of the same shape in [-1, 1].
    """
    unit = np.asarray(image, dtype=np.float32) / 255.0
    return (unit - 0.5) / 0.5


def denormalize(x: ArrayOrTensor) -> ArrayOrTensor:
    """The inverse of `normalize` up to the /255: [-1, 1] -> [0, 1] (the scale metrics use, FACTS §3).

    Args:
        x: array or tensor of any shape in [-1, 1].
    Returns:
        The same type and shape, x * 0.5 + 0.5 (multiply by 255 for grey levels).
    """
    return x * 0.5 + 0.5


def locate_tx(antenna: np.ndarray) -> tuple[float, float]:
    """The transmitter position in an antenna image: centroid of its brightest pixels.

    Args:
        antenna: uint8 (H, W), a bright pixel or blob at the transmitter.
    Returns:
        (row, col) as floats in the image's pixel grid.
    Raises:
        ValueError: the image is all zero (no transmitter).
    """
    peak = antenna.max()
    if peak == 0:
        raise ValueError("antenna image is all zero: no transmitter pixel")
    rows, cols = np.nonzero(antenna == peak)
    return float(rows.mean()), float(cols.mean())


def scale_tx(
    position: tuple[float, float], source_size: tuple[int, int], target_size: tuple[int, int]
) -> tuple[int, int]:
    """Map a (row, col) position to the pixel of a resized grid that covers it (pixel centres align).

    Args:
        position: (row, col) in the source grid.
        source_size: (H, W) of the source grid.
        target_size: (H', W') of the resized grid.
    Returns:
        Integer (row, col) inside [0, H'-1] x [0, W'-1].
    """
    out = []
    for value, src, dst in zip(position, source_size, target_size, strict=True):
        scaled = (value + 0.5) * dst / src - 0.5
        out.append(int(np.clip(np.floor(scaled + 0.5), 0, dst - 1)))
    return out[0], out[1]


def render_tx(position: tuple[int, int], size: tuple[int, int], radius: int = 0) -> np.ndarray:
    """Draw the transmitter channel at output resolution (resizing a one-pixel image would lose the pixel).

    Args:
        position: integer (row, col) inside the grid.
        size: (H, W) of the output.
        radius: 0 for a one-pixel marker, r for a disc of radius r pixels.
    Returns:
        uint8 (H, W): 255 on the marker, 0 elsewhere (same grey levels as RadioMapSeer's antenna images).
    """
    height, width = size
    row, col = position
    if not (0 <= row < height and 0 <= col < width):
        raise ValueError(f"tx position {(row, col)} lies outside the grid of size {(height, width)}")
    rr, cc = np.ogrid[:height, :width]
    disc = (rr - row) ** 2 + (cc - col) ** 2 <= radius**2
    return np.where(disc, 255, 0).astype(np.uint8)


def sample_crop_window(
    tx_position: tuple[int, int],
    image_size: tuple[int, int],
    crop_size: tuple[int, int],
    margin: int,
    generator: Generator,
) -> tuple[int, int]:
    """Draw a crop window that keeps the transmitter at least `margin` pixels from each of its borders.

    Uniform over all valid windows (rows and columns are independent). Where the transmitter lies closer than
    `margin` to the image border itself no window can satisfy the margin on that side; the window is then
    flush with that border (the best possible).

    Args:
        tx_position: integer (row, col) of the transmitter in the image.
        image_size: (H, W) of the image.
        crop_size: (h, w) of the window, at most (H, W).
        margin: minimum distance in pixels between the transmitter and the window's borders.
        generator: numpy Generator or torch Generator (the only source of randomness).
    Returns:
        (top, left) of the window: it covers rows top..top+h-1 and columns left..left+w-1.
    """
    corner = []
    for pos, full, part in zip(tx_position, image_size, crop_size, strict=True):
        if not 0 < part <= full:
            raise ValueError(f"crop size {tuple(crop_size)} does not fit in image size {tuple(image_size)}")
        # pos - start >= margin and (start + part - 1) - pos >= margin, with 0 <= start <= full - part
        low, high = max(0, pos + margin - part + 1), min(full - part, pos - margin)
        if low > high:  # tx within `margin` of the image border: the window flush with that border
            low = high = 0 if pos < margin else full - part
        corner.append(_randint(generator, low, high))
    return corner[0], corner[1]


def _randint(generator: Generator, low: int, high: int) -> int:
    """An integer uniform in [low, high] (inclusive) from a numpy or torch generator."""
    if isinstance(generator, np.random.Generator):
        return int(generator.integers(low, high + 1))
    return int(torch.randint(low, high + 1, (1,), generator=generator).item())


def crop(image: ArrayOrTensor, top: int, left: int, size: tuple[int, int]) -> ArrayOrTensor:
    """Cut the window of `size` at (top, left) from the last two axes.

    Args:
        image: array or tensor (..., H, W).
        top, left: the window's corner.
        size: (h, w) of the window.
    Returns:
        (..., h, w), a view of the input.
    """
    height, width = size
    if top < 0 or left < 0 or top + height > image.shape[-2] or left + width > image.shape[-1]:
        raise ValueError(
            f"crop window at {(top, left)} of size {(height, width)} exceeds image shape {tuple(image.shape)}"
        )
    return image[..., top : top + height, left : left + width]
