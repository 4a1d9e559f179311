"""Reading and writing the challenge's 8-bit PNG files with an exact channel count (one-line errors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from radiodiff.data.png_io import DataError

__all__ = ["png_size", "read_png", "write_png"]

_CHANNELS_OF_MODE = {"L": 1, "RGB": 3}


def read_png(path: Path, channels: int) -> np.ndarray:
    """Decode a whole 8-bit PNG that must have exactly `channels` channels.

    Args:
        path: the PNG file.
        channels: 1 (grey, mode L) or 3 (RGB).
    Returns:
        uint8 array (H, W) for 1 channel, (H, W, 3) for 3.
    Raises:
        DataError: missing, truncated or corrupt file, or another mode / channel count (naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with Image.open(path) as img:
            img.load()  # PIL decodes lazily: truncation shows up only on a full decode
            mode, pixels = img.mode, np.asarray(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"{path}: truncated or corrupt PNG ({reason})") from None
    found = _CHANNELS_OF_MODE.get(mode)
    if found != channels:
        what = f"{found} channel(s)" if found else f"mode {mode!r}"
        raise DataError(f"{path}: PNG has {what}; expected {channels} 8-bit channel(s)")
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def png_size(path: Path) -> tuple[int, int]:
    """(H, W) from the PNG header, without decoding the pixels.

    Raises:
        DataError: the file is not a readable image (naming it).
    """
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"{path}: truncated or corrupt PNG ({reason})") from None
    return height, width


def write_png(path: Path, pixels: np.ndarray) -> None:
    """Write (H, W) or (H, W, 3) uint8 pixels as an 8-bit PNG (the same pixels give the same bytes)."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError(f"{path}: expected (H, W) or (H, W, 3) uint8 pixels, got {pixels.dtype} {pixels.shape}")
    Image.fromarray(pixels).save(path, format="PNG")
