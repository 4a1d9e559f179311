"""The RadioMapSeer grey scale: path gain in dB <-> 8-bit grey level (FACTS §1).

RadioMapSeer truncates the path gain to a window of about -147 dB .. -47 dB and maps it linearly onto grey
levels 0..255; buildings and everything below the window are 0 (black). This module is the single definition
of that scale: datasets, EDA, evaluation and the generator import it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DB_PER_GREY", "GAIN_MAX_DB", "GAIN_MIN_DB", "GREY_MAX", "db_to_grey", "grey_to_db"]

GAIN_MIN_DB = -147.0
"""Path gain at grey level 0 (the floor: weaker gains and buildings are 0 too)."""
GAIN_MAX_DB = -47.0
"""Path gain at grey level 255 (stronger gains saturate)."""
GREY_MAX = 255
"""Largest grey level."""
DB_PER_GREY = (GAIN_MAX_DB - GAIN_MIN_DB) / GREY_MAX
"""Width of one grey step in dB (about 0.39 dB)."""


def db_to_grey(gain_db: np.ndarray, buildings_mask: np.ndarray | None = None) -> np.ndarray:
    """Path gain in dB -> RadioMapSeer grey levels.

    Args:
        gain_db: (H, W) path gain in dB (any real shape works); -inf and NaN count as below the window.
        buildings_mask: optional (H, W) array, non-zero inside buildings; those pixels become 0.
    Returns:
        uint8 array of the same shape: 0 below GAIN_MIN_DB and in buildings, 255 at or above GAIN_MAX_DB,
        linear (rounded to the nearest level) in between.
    """
    gain = np.asarray(gain_db, dtype=np.float64)
    level = np.rint((gain - GAIN_MIN_DB) / DB_PER_GREY)
    level = np.where(np.isnan(level), 0.0, level)
    grey = np.clip(level, 0, GREY_MAX).astype(np.uint8)
    if buildings_mask is not None:
        mask = np.asarray(buildings_mask)
        if mask.shape != grey.shape:
            raise ValueError(f"buildings_mask has shape {mask.shape}, expected the gain's shape {grey.shape}")
        grey[mask != 0] = 0
    return grey


def grey_to_db(grey: np.ndarray) -> np.ndarray:
    """RadioMapSeer grey levels -> path gain in dB (grey 0 reads as the floor GAIN_MIN_DB).

    Args:
        grey: grey levels 0..255 of any shape (uint8 or numbers on that scale).
    Returns:
        float64 array of the same shape in dB, GAIN_MIN_DB .. GAIN_MAX_DB.
    """
    level = np.asarray(grey, dtype=np.float64)
    if level.size and (level.min() < 0 or level.max() > GREY_MAX):
        raise ValueError(f"grey levels must lie in 0..{GREY_MAX}, got {level.min()} .. {level.max()}")
    return GAIN_MIN_DB + level * DB_PER_GREY
