"""The antenna channel: free-space path loss minus the antenna gain toward every pixel (FACTS §4).

    FSPL(d, f) [dB] = 20 log10(d / 1 m) + 20 log10(f / 1 MHz) - 27.55       (Friis, free space; ITU-R P.525)
    A(p) [dB]       = FSPL(max(d_p, D_MIN), f) - G_ant((theta_p - azimuth) mod 360)

d_p is the distance from the transmitter's pixel centre to pixel p's (0.25 m per pixel), clamped at
D_MIN = one pixel so the transmitter's own pixel stays finite. theta_p = atan2(row_p - row_tx, col_p - col_tx)
in degrees: 0 along +column (the generator's +X), 90 along +row (+Y), i.e. clockwise as the image is shown;
the azimuth is measured the same way, and G_ant is the pattern file's gain, linearly interpolated between
whole degrees. `antenna_channel_db` is the input of the "antenna" VAE; `free_space_baseline_db` is the same
quantity clipped to the output's grey range, a prediction that ignores every wall.
"""

from __future__ import annotations

import numpy as np

from radiodiff.data.icassp.layout import METRES_PER_PIXEL, PATTERN_ANGLES
from radiodiff.data.icassp.scale import PATHLOSS_MAX_DB, PATHLOSS_MIN_DB

__all__ = [
    "MIN_DISTANCE_M",
    "antenna_channel_db",
    "free_space_baseline_db",
    "fspl_db",
    "pattern_gain_db",
    "pixel_geometry",
]

MIN_DISTANCE_M = METRES_PER_PIXEL
"""D_MIN: distances below one pixel count as one pixel."""


def fspl_db(distance_m: np.ndarray, frequency_mhz: float) -> np.ndarray:
    """Free-space path loss in dB (ITU-R P.525 eq. 6 in metres and MHz), distances clamped at MIN_DISTANCE_M."""
    distance = np.maximum(np.asarray(distance_m, dtype=np.float64), MIN_DISTANCE_M)
    return 20.0 * np.log10(distance) + 20.0 * np.log10(frequency_mhz) - 27.55


def pixel_geometry(
    shape: tuple[int, int], tx_row: float, tx_col: float, metres_per_pixel: float = METRES_PER_PIXEL
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) and direction (degrees in [0, 360), convention above) of every pixel from the transmitter.

    Returns:
        Two (H, W) float64 arrays.
    """
    rows, cols = np.indices(shape, dtype=np.float64)
    d_row, d_col = rows - tx_row, cols - tx_col
    return np.hypot(d_row, d_col) * metres_per_pixel, np.degrees(np.arctan2(d_row, d_col)) % 360.0


def pattern_gain_db(pattern_dbi: np.ndarray, relative_deg: np.ndarray) -> np.ndarray:
    """The pattern's gain at angles from the boresight, linearly interpolated and periodic over 360 degrees."""
    pattern = np.asarray(pattern_dbi, dtype=np.float64)
    if pattern.shape != (PATTERN_ANGLES,):
        raise ValueError(f"pattern has shape {pattern.shape}; expected ({PATTERN_ANGLES},)")
    return np.interp(np.asarray(relative_deg, dtype=np.float64) % 360.0, np.arange(PATTERN_ANGLES), pattern, period=360)


def antenna_channel_db(
    shape: tuple[int, int],
    tx_row: float,
    tx_col: float,
    azimuth_deg: float,
    pattern_dbi: np.ndarray,
    frequency_mhz: float,
    metres_per_pixel: float = METRES_PER_PIXEL,
) -> np.ndarray:
    """A(p) = FSPL(d_p, f) - G_ant(theta_p - azimuth) at every pixel, unclipped.

    Args:
        shape: (H, W) of the image.
        tx_row, tx_col: the transmitter's pixel (IcasspSample.tx_row / tx_col).
        azimuth_deg: the boresight direction.
        pattern_dbi: (360,) gains in dBi (IcasspIndex.patterns[antenna]).
        frequency_mhz: carrier frequency (layout.FREQUENCIES_MHZ).
        metres_per_pixel: image resolution.
    Returns:
        (H, W) float32 in dB.
    """
    distance, direction = pixel_geometry(shape, tx_row, tx_col, metres_per_pixel)
    gain = pattern_gain_db(pattern_dbi, direction - azimuth_deg)
    return (fspl_db(distance, frequency_mhz) - gain).astype(np.float32)


def free_space_baseline_db(
    shape: tuple[int, int],
    tx_row: float,
    tx_col: float,
    azimuth_deg: float,
    pattern_dbi: np.ndarray,
    frequency_mhz: float,
    metres_per_pixel: float = METRES_PER_PIXEL,
) -> np.ndarray:
    """The free-space-plus-pattern prediction: `antenna_channel_db` clipped to the output's dB range.

    Returns:
        (H, W) float32 path loss in dB, PATHLOSS_MIN_DB .. PATHLOSS_MAX_DB.
    """
    channel = antenna_channel_db(shape, tx_row, tx_col, azimuth_deg, pattern_dbi, frequency_mhz, metres_per_pixel)
    return np.clip(channel, PATHLOSS_MIN_DB, PATHLOSS_MAX_DB)
