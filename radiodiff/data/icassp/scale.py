"""The uint8 scales of the challenge images (FACTS §4): one grey level is one dB, or one metre.

- Output (path loss): grey level = path loss in dB. The generator clips to 0 .. PATHLOSS_MAX_DB; the
  challenge's maps lie in about that range, and 160 dB is far below any indoor receiver's sensitivity.
- Input R (reflectance) and G (transmittance): grey level = the material's value in dB; 0 is air. The
  generator's wall loss is read from G (multiwall.py).
- Input B (distance to the transmitter): grey level = distance in metres (0.25 m per pixel, so a 640 px side
  spans 160 m and the diagonal fits in 255 levels); clipped to GREY_MAX.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GREY_MAX", "PATHLOSS_MAX_DB", "PATHLOSS_MIN_DB", "distance_to_grey", "pathloss_to_grey"]

GREY_MAX = 255
"""Largest uint8 level."""
PATHLOSS_MIN_DB = 0.0
"""Smallest path loss written (grey 0)."""
PATHLOSS_MAX_DB = 160.0
"""Largest path loss written: larger losses are clipped to it."""


def pathloss_to_grey(pathloss_db: np.ndarray) -> np.ndarray:
    """Path loss in dB -> output grey levels.

    Args:
        pathloss_db: (H, W) path loss in dB.
    Returns:
        (H, W) uint8: the loss rounded to whole dB and clipped to PATHLOSS_MIN_DB .. PATHLOSS_MAX_DB.
    """
    clipped = np.clip(np.rint(np.asarray(pathloss_db, dtype=np.float64)), PATHLOSS_MIN_DB, PATHLOSS_MAX_DB)
    return clipped.astype(np.uint8)


def distance_to_grey(distance_m: np.ndarray) -> np.ndarray:
    """Distance in metres -> the B channel's grey levels (rounded, clipped to 0 .. GREY_MAX).

    Args:
        distance_m: (H, W) distance to the transmitter in metres.
    Returns:
        (H, W) uint8.
    """
    return np.clip(np.rint(np.asarray(distance_m, dtype=np.float64)), 0, GREY_MAX).astype(np.uint8)
