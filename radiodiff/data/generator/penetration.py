"""Loss of the direct (straight) ray through buildings, accumulated along the rays of a polar frame.

Multi-wall model in the spirit of COST 231 (Final Report, ch. 4.6) and ITU-R P.1238: every building wall the
ray crosses costs a fixed loss, every metre run inside a building a specific attenuation in dB/m. Along each
ray of the polar image a cumulative sum adds both, so one pass serves all pixels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["building_crossed_px", "penetration_loss_polar"]


def building_crossed_px(occupancy: np.ndarray, step_px: float) -> np.ndarray:
    """Length of building each ray has run through from the transmitter out to every polar sample.

    Args:
        occupancy: (A, R) float32 building occupancy along the rays (1 inside, 0 outside, bilinear in
            between, so a ray grazing a wall counts a fraction of it and shadows do not alias).
        step_px: pixels between two radius samples.
    Returns:
        (A, R) float32 length in pixels.
    """
    return np.cumsum(occupancy, axis=1, dtype=np.float32) * np.float32(step_px)


def penetration_loss_polar(
    occupancy: np.ndarray,
    crossed_px: np.ndarray,
    metres_per_pixel: float,
    wall_loss_db: float,
    interior_loss_db_per_m: float,
) -> np.ndarray:
    """Loss of the straight ray from the transmitter out to every polar sample.

    Args:
        occupancy: (A, R) float32 building occupancy along the rays.
        crossed_px: (A, R) float32 building length crossed so far (`building_crossed_px`).
        metres_per_pixel: ground resolution.
        wall_loss_db: loss per building wall crossed (each entry and each exit).
        interior_loss_db_per_m: specific attenuation inside buildings.
    Returns:
        (A, R) float32 loss in dB: 0 in line of sight, growing with every wall and metre of building crossed.
    """
    walls = np.zeros_like(occupancy)
    np.cumsum(np.abs(np.diff(occupancy, axis=1)), axis=1, out=walls[:, 1:])  # 1 per entry or exit
    return walls * np.float32(wall_loss_db) + crossed_px * np.float32(interior_loss_db_per_m * metres_per_pixel)
