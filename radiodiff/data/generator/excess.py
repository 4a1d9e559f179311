"""The excess length Δ of the dominant path over the straight line, from two complementary estimates.

- The single-corner excess Δ1 (`corners.py`, fine polar sampling): exact right behind one corner, a lower
  bound when a second building hides the pixel from that corner.
- The lattice geodesic G (`geodesic.py`): right within a few per cent around any number of corners. With E the
  true shortest length, d the straight distance, N the lattice norm, σ = STRETCH and s the slack of the
  raster: E - s <= G <= σ E + s, so (G - s) / σ - d <= Δ <= G + s - d; G - N(p - tx) is Δ measured in the
  lattice norm (its error cancels on straight lines and stays within σ - 1 of the path on bent ones).
The corner sees the pixel (to within s) when the lattice geodesic is no longer than the lattice length of the path
through that corner, i.e. G - N(p - tx) <= Λ1 (+ s), Λ1 being the corner path's excess in the lattice norm:
then Δ1, the exact value, is taken; otherwise the path bends more than once and G - N(p - tx) is.
"""

from __future__ import annotations

import numpy as np

from radiodiff.data.generator.geodesic import STRETCH

__all__ = ["excess_path_px"]


def excess_path_px(
    geodesic: np.ndarray,
    straight_norm: np.ndarray,
    distance: np.ndarray,
    corner_excess: tuple[np.ndarray, np.ndarray],
    slack_px: float,
) -> np.ndarray:
    """Excess length Δ of the dominant path.

    Args:
        geodesic: (H, W) lattice geodesic G in pixels (+inf where free space does not reach).
        straight_norm: (H, W) lattice norm N(p - tx) of the straight displacement from the geodesic's source.
        distance: (H, W) Euclidean straight distance d in pixels.
        corner_excess: (Δ1, Λ1), each (H, W) in pixels: the single-corner path's excess, Euclidean and lattice.
        slack_px: accuracy of G (rasterised corners: about 1.5 px per cell side).
    Returns:
        (H, W) float64 Δ in pixels, within (G - s) / σ - d <= Δ <= G + s - d and >= 0; +inf where G is.
    """
    euclidean, lattice = corner_excess
    lattice_excess = geodesic - straight_norm
    corner_sees_pixel = lattice_excess <= lattice + slack_px
    excess = np.where(corner_sees_pixel, euclidean, np.maximum(euclidean, lattice_excess))
    lower = np.maximum((geodesic - slack_px) / STRETCH - distance, 0.0)
    return np.clip(excess, lower, geodesic + slack_px - distance)
