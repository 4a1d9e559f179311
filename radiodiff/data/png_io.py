"""Reading the 8-bit grey PNG files of a RadioMapSeer-style data set, with one-line errors naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["DataError", "read_grey_png"]

# PIL modes whose pixels are 8-bit (after dropping alpha); anything else (16-bit, float, CMYK) is refused.
_ALPHA_MODES = {"LA", "RGBA", "PA"}
_EIGHT_BIT_MODES = {"1", "L", "P", "RGB"} | _ALPHA_MODES


class DataError(ValueError):
    """A data file or folder is missing or malformed; the one-line message names it and what was expected."""


def read_grey_png(path: str | Path) -> np.ndarray:
    """Read a PNG as an 8-bit grey image, decoding it completely.

    Grey stored as RGB(A) with three equal channels is accepted; an alpha channel must be fully opaque.

    Args:
        path: the PNG file.
    Returns:
        uint8 array of shape (H, W).
    Raises:
        DataError: the file is missing, truncated or corrupt, or not grey (naming the file and the reason).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with Image.open(path) as img:
            img.load()  # PIL decodes lazily: force the whole decode so that truncation shows up here
            mode = img.mode
            pixels = np.asarray(_resolve_mode(img)) if mode in _EIGHT_BIT_MODES else None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"{path}: truncated or corrupt PNG ({reason})") from None
    if pixels is None:
        raise DataError(f"{path}: unsupported PNG mode {mode!r}; expected 8-bit grey (mode 'L')")
    return _to_grey(pixels, path)


def _resolve_mode(img: Image.Image) -> Image.Image:
    """Palette images become RGBA (checked like any RGBA), bilevel ones 0/255 grey."""
    if img.mode == "P":
        return img.convert("RGBA")
    if img.mode == "1":
        return img.convert("L")
    return img


def _to_grey(pixels: np.ndarray, path: Path) -> np.ndarray:
    """(H, W) or (H, W, C) 8-bit pixels -> (H, W) uint8 grey, refusing colour and transparency."""
    if pixels.ndim == 2:
        return np.ascontiguousarray(pixels, dtype=np.uint8)
    channels = pixels.shape[2]
    if channels in (2, 4):
        if not np.all(pixels[..., -1] == 255):
            raise DataError(f"{path}: PNG has transparent pixels; expected an opaque grey image")
        pixels = pixels[..., :-1]
        channels -= 1
    if channels == 1:
        return np.ascontiguousarray(pixels[..., 0], dtype=np.uint8)
    if channels == 3:
        red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
        if not (np.array_equal(red, green) and np.array_equal(red, blue)):
            raise DataError(f"{path}: PNG is colour (RGB with unequal channels); expected a grey image")
        return np.ascontiguousarray(red, dtype=np.uint8)
    raise DataError(f"{path}: PNG has {channels} channels; expected 1 (grey) or 3 equal ones")
