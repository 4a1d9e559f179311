"""A cheap structural check of a PNG file: its header (size, bit depth) and its closing IEND chunk.

Decoding every file of the real data set (~56k radio maps per simulation) would take minutes; reading 33 bytes
at the start and 12 at the end of each file finds files that are not PNGs, empty, or cut short (a truncated
file loses its IEND chunk), and gives every image's size without decoding it.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from radiodiff.data.png_io import DataError

__all__ = ["PngHeader", "read_png_header"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR_END = 33  # signature (8) + length (4) + "IHDR" (4) + data (13) + CRC (4)
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # zero length, type, CRC: the last 12 bytes of every complete PNG
_SUPPORTED_BIT_DEPTHS = (1, 2, 4, 8)  # read_grey_png refuses 16-bit images


@dataclass(frozen=True)
class PngHeader:
    """What the IHDR chunk of a PNG says."""

    height: int
    """Rows of the image."""
    width: int
    """Columns of the image."""
    bit_depth: int
    """Bits per sample (1, 2, 4, 8 or 16)."""
    colour_type: int
    """PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA."""

    @property
    def size(self) -> tuple[int, int]:
        """(H, W)."""
        return self.height, self.width


def read_png_header(path: str | Path) -> PngHeader:
    """Read the header of a PNG file and check that the file ends with the IEND chunk.

    Args:
        path: the PNG file.
    Returns:
        The PngHeader.
    Raises:
        DataError: the file cannot be opened, is not a PNG, is truncated (no closing IEND chunk) or holds
            samples of more than 8 bits; the message names the file.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(_IHDR_END)
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(size - len(_IEND), 0))
            tail = handle.read(len(_IEND))
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or type(err).__name__})") from None
    if size == 0:
        raise DataError(f"{path}: empty file")
    if not head.startswith(_SIGNATURE) or head[12:16] != b"IHDR" or len(head) < _IHDR_END:
        raise DataError(f"{path}: not a PNG file (no PNG signature and IHDR chunk)")
    width, height, bit_depth, colour_type = struct.unpack(">IIBB", head[16:26])
    if tail != _IEND:
        raise DataError(f"{path}: truncated PNG (the file does not end with the IEND chunk)")
    if bit_depth not in _SUPPORTED_BIT_DEPTHS:
        raise DataError(f"{path}: {bit_depth}-bit PNG; expected 8-bit grey")
    return PngHeader(height=height, width=width, bit_depth=bit_depth, colour_type=colour_type)
