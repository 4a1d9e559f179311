"""Excess path length of the bend around the nearest shadow edge, for every shadowed polar sample at once.

A sample at angle θ and radius r is shadowed when its ray crosses a building before r. Walking in angle away
from θ, the shadow ends at the first ray that is either clear up to r or a silhouette: a ray whose first
building hit lies much farther than its neighbour's (the neighbour grazed the corner of a nearer building).
The last ray before that stop grazes the silhouette corner c, at radius h (its first hit) and angle θ_c. The
path bent at c is longer than the straight one by

    Δ = h + |p - c| - r

the exact excess of the single-edge dominant path (Wölfle & Landstorfer 1998) when c sees p, and a lower
bound otherwise (`excess.py` tells the two apart). Cumulative max / min along the angle axis find the stops
of all samples in one pass.
"""

from __future__ import annotations

import numpy as np

from radiodiff.data.generator.geodesic import lattice_norm
from radiodiff.data.generator.polar import PolarFrame

__all__ = ["BLOCKED_PX", "NO_EDGE_PX", "blocked_rays", "corner_excess_polar"]

NO_EDGE_PX = 1e6
"""Excess reported where no shadow edge exists at that radius (the transmitter is walled in)."""
BLOCKED_PX = 0.5
"""A ray counts as obstructed once it has run through this many pixels of building."""


def blocked_rays(crossed_px: np.ndarray) -> np.ndarray:
    """Whether the straight ray to each polar sample is obstructed: it has crossed half a pixel of building.

    Args:
        crossed_px: (A, R) building length crossed along the rays (`penetration.building_crossed_px`).
    Returns:
        (A, R) bool.
    """
    return crossed_px > np.float32(BLOCKED_PX)


def corner_excess_polar(
    blocked: np.ndarray, frame: PolarFrame, silhouette_jump_px: float = 10.0
) -> tuple[np.ndarray, np.ndarray]:
    """Excess length of the path bent around the nearest silhouette corner, Euclidean and lattice.

    The lattice excess is the same path's excess measured in the lattice norm N of `geodesic.py`:
    N(c - tx) + N(p - c) - N(p - tx). Comparing it with the lattice geodesic tells whether the corner really
    sees the pixel (`excess.py`).

    Args:
        blocked: (A, R) bool, the straight ray to the sample is obstructed (`blocked_rays`).
        frame: the polar frame around the transmitter.
        silhouette_jump_px: neighbouring rays whose first hits lie this much apart have a corner between
            them (about a street width: smaller steps are a wall seen at a grazing angle).
    Returns:
        (euclidean, lattice): (A, R) float32 excesses in pixels, 0 where the straight ray is clear,
        NO_EDGE_PX where no edge exists.
    """
    angles, radii = blocked.shape
    step = np.float32(frame.step_px)
    first_hit = np.where(blocked.any(axis=1), np.argmax(blocked, axis=1), radii).astype(np.float32) * step
    half_rays = _HalfRays(angles)
    radius = frame.radius_px()
    row = np.arange(angles, dtype=np.int16)[:, None]
    px, py = radius * half_rays.cos[2 * row], radius * half_rays.sin[2 * row]
    straight_norm = radius * half_rays.norm[2 * row]
    best = np.full(blocked.shape, np.float32(NO_EDGE_PX))
    best_lattice = best.copy()
    stops = _nearest_stops(blocked, first_hit, silhouette_jump_px)
    for stop, toward in zip(stops, (1, -1), strict=True):
        found = np.abs(row - stop) < angles  # else no stop on this side
        h = _wrapped_lookup(first_hit, stop + toward)  # the ray before the stop grazes the corner
        corner = np.remainder(2 * stop.astype(np.int32) + toward, 2 * angles)  # half-ray between the two
        cx, cy = h * half_rays.cos[corner], h * half_rays.sin[corner]
        euclidean = h + np.hypot(px - cx, py - cy) - radius
        better = found & (euclidean < best)
        lattice = h * half_rays.norm[corner] + lattice_norm(py - cy, px - cx) - straight_norm
        np.copyto(best, euclidean, where=better)
        np.copyto(best_lattice, lattice, where=better)
    zero = np.float32(0)
    return np.where(blocked, np.maximum(best, zero), zero), np.where(blocked, best_lattice, zero)


class _HalfRays:
    """cos, sin and lattice norm of the unit vector at every half-ray angle k π / A, k = 0 .. 2A - 1."""

    def __init__(self, angles: int) -> None:
        theta = np.arange(2 * angles, dtype=np.float64) * (np.pi / angles)
        self.cos = np.cos(theta).astype(np.float32)
        self.sin = np.sin(theta).astype(np.float32)
        self.norm = lattice_norm(self.sin, self.cos)


def _nearest_stops(blocked: np.ndarray, first_hit: np.ndarray, jump_px: float) -> tuple[np.ndarray, np.ndarray]:
    """For every (angle, radius) sample, the nearest stop ray strictly before / strictly after it.

    A stop is a ray clear at that radius or the far side of a silhouette (its first hit `jump_px` beyond its
    neighbour's on the sample's side). Angles wrap around: the results may lie in the previous
    lap (< 0) or the next (>= A); where no stop exists they are at least A away from the sample's own row.
    int16 (A <= 4096): the accumulations are memory-bound.
    """
    angles = blocked.shape[0]
    row = np.arange(angles, dtype=np.int16)[:, None]
    far, lap = np.int16(2 * angles), np.int16(angles)
    jump = np.float32(jump_px)
    beyond_left = (first_hit > np.roll(first_hit, -1) + jump)[:, None]  # a corner lies on its right
    beyond_right = (first_hit > np.roll(first_hit, 1) + jump)[:, None]  # a corner lies on its left
    left = np.maximum.accumulate(np.where(~blocked | beyond_left, row, -far), axis=0)
    left = np.where(left < 0, left[-1:] - lap, left)  # wrap: the column's last stop, one lap back
    left = np.concatenate([left[-1:] - lap, left[:-1]])  # strictly before: the previous row's answer
    right = np.minimum.accumulate(np.where(~blocked | beyond_right, row, far)[::-1], axis=0)[::-1]
    right = np.where(right >= angles, right[:1] + lap, right)  # wrap: the first stop, one lap on
    right = np.concatenate([right[1:], right[:1] + lap])  # strictly after: the next row's answer
    return left, right


def _wrapped_lookup(per_ray: np.ndarray, index: np.ndarray) -> np.ndarray:
    """`per_ray[index % A]` for int16 indices in [-4A, 4A), via a table of 8 laps (a modulo of a large int16
    array costs more than the whole lookup)."""
    angles = per_ray.shape[0]
    return np.tile(per_ray, 8)[index + np.int16(4 * angles)]
