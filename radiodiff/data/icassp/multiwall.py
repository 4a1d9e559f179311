"""The indoor generator's propagation: the multi-wall model (COST 231 sec. 4.7.2; ITU-R P.1238 style).

    PL(p) = FSPL(d_p, f) - G_ant(theta_p - azimuth) + s(f) * sum_{walls w crossed by tx -> p} L_w

The first two terms are the antenna channel (antenna.py). L_w is the wall's G grey level (its transmission loss
in dB at REFERENCE_MHZ, materials.py) and s(f) = (f / REFERENCE_MHZ)^FREQUENCY_EXPONENT makes walls lossier at
higher frequencies (material losses grow with frequency, ITU-R P.2040 sec. 3; one exponent for all materials
is this generator's simplification). A wall is crossed where the straight line from the transmitter's pixel
to p passes from air (G = 0) into a wall pixel, so a thick wall counts once. The result is clipped to the
output's grey range (scale.py) when written.
"""

from __future__ import annotations

import numpy as np

from radiodiff.data.icassp.antenna import antenna_channel_db

__all__ = [
    "FREQUENCY_EXPONENT",
    "REFERENCE_MHZ",
    "crossed_wall_loss_db",
    "multiwall_pathloss_db",
    "wall_loss_scale",
]

REFERENCE_MHZ = 1800.0
"""The frequency at which a wall's loss equals its G grey level."""
FREQUENCY_EXPONENT = 0.5
"""s(f)'s exponent: 868 MHz walls lose 0.69x, 3.5 GHz walls 1.39x their 1.8 GHz loss."""

_SAMPLES_PER_CHUNK = 2_000_000  # ray samples held at once: bounds the memory of the vectorised walk
_PIXELS_PER_CHUNK = 2048  # pixels per chunk: small enough that a chunk's reaches are similar


def wall_loss_scale(frequency_mhz: float) -> float:
    """s(f) = (f / REFERENCE_MHZ)^FREQUENCY_EXPONENT."""
    return float((frequency_mhz / REFERENCE_MHZ) ** FREQUENCY_EXPONENT)


def crossed_wall_loss_db(transmittance: np.ndarray, tx_row: int, tx_col: int) -> np.ndarray:
    """sum of L_w over the walls the straight line from the transmitter to each pixel enters.

    The ray to a pixel at Chebyshev distance m from the transmitter is sampled at n >= 2 m + 2 evenly spaced
    points t in [0, 1] (rounded to pixels), so consecutive samples are at most half a pixel apart along both
    axes and no wall of one pixel's thickness is skipped; a wall is entered where a sample is a wall pixel and
    the previous one is air. Pixels are walked in chunks of similar m, vectorised over each chunk.

    Args:
        transmittance: (H, W) G channel (0 = air).
        tx_row, tx_col: the transmitter's pixel (in air).
    Returns:
        (H, W) float32 sum of the entered walls' G values, in dB.
    """
    g = np.asarray(transmittance, dtype=np.float32)
    height, width = g.shape
    rows, cols = (a.ravel() for a in np.indices((height, width), dtype=np.int32))
    reach = np.maximum(np.abs(rows - tx_row), np.abs(cols - tx_col))
    order = np.argsort(reach, kind="stable")
    flat = g.ravel()
    total = np.empty(height * width, dtype=np.float32)
    chunk = max(1, min(_PIXELS_PER_CHUNK, _SAMPLES_PER_CHUNK // (2 * int(reach.max()) + 2)))
    for start in range(0, order.size, chunk):
        pixels = order[start : start + chunk]
        t = np.linspace(0.0, 1.0, 2 * int(reach[pixels[-1]]) + 2, dtype=np.float32)
        r = np.rint(tx_row + np.outer(rows[pixels] - tx_row, t)).astype(np.int32)
        c = np.rint(tx_col + np.outer(cols[pixels] - tx_col, t)).astype(np.int32)
        values = flat[r * width + c]  # (P, n) G along each ray, from the transmitter to the pixel
        entered = (values[:, 1:] > 0) & (values[:, :-1] == 0)
        total[pixels] = np.where(entered, values[:, 1:], 0.0).sum(axis=1)
    return total.reshape(height, width)


def multiwall_pathloss_db(
    transmittance: np.ndarray,
    tx_row: int,
    tx_col: int,
    azimuth_deg: float,
    pattern_dbi: np.ndarray,
    frequency_mhz: float,
) -> np.ndarray:
    """PL(p) of the multi-wall model at every pixel, unclipped.

    Args:
        transmittance: (H, W) G channel (0 = air), 0.25 m per pixel.
        tx_row, tx_col: the transmitter's pixel.
        azimuth_deg: boresight direction (antenna.py's convention).
        pattern_dbi: (360,) antenna gains in dBi.
        frequency_mhz: carrier frequency.
    Returns:
        (H, W) float32 path loss in dB.
    """
    free = antenna_channel_db(transmittance.shape, tx_row, tx_col, azimuth_deg, pattern_dbi, frequency_mhz)
    walls = crossed_wall_loss_db(transmittance, tx_row, tx_col)
    return free + np.float32(wall_loss_scale(frequency_mhz)) * walls
