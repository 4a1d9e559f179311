"""Rays around the transmitter: resampling a map onto (angle, radius) samples and back, with `cv2.warpPolar`.

In the polar image row i is the ray at angle 2π i / A (from +x toward +row) and column j the radius
j * step_px; a cumulative operation along a row follows one straight ray away from the transmitter, which is
how the engine finds, for all pixels at once, what lies between them and the transmitter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

__all__ = ["PolarFrame"]

_MAX_ANGLES = 4096


@dataclass(frozen=True)
class PolarFrame:
    """The polar sampling of an (H, W) map around a transmitter."""

    shape: tuple[int, int]
    """(H, W) of the map."""
    centre_xy: tuple[float, float]
    """Transmitter as (col, row): OpenCV's (x, y) order."""
    max_radius: float
    """Radius of the last column in pixels (reaches every map corner)."""
    angles: int
    """Rows A of the polar image."""
    radii: int
    """Columns R of the polar image."""

    @classmethod
    def around(cls, shape: tuple[int, int], tx: tuple[int, int], angles_per_pixel: float = 1.0) -> PolarFrame:
        """The frame for a transmitter: about one radius sample per pixel, `angles_per_pixel` angular samples
        per pixel of arc at the farthest map corner (capped at 4096 angles).

        Args:
            shape: (H, W) of the map.
            tx: (row, col) of the transmitter.
            angles_per_pixel: angular sampling density at the largest radius.
        Returns:
            The PolarFrame.
        """
        rows = (-tx[0], shape[0] - 1 - tx[0])
        cols = (-tx[1], shape[1] - 1 - tx[1])
        max_radius = max(math.hypot(r, c) for r in rows for c in cols) + 2.0
        angles = min(_MAX_ANGLES, math.ceil(2 * math.pi * max_radius * angles_per_pixel))
        radii = 2 * math.ceil((math.ceil(max_radius) + 1) / 2)  # even: `every_other_radius` stays aligned
        return cls(shape, (float(tx[1]), float(tx[0])), max_radius, angles, radii)

    def every_other_radius(self) -> PolarFrame:
        """The frame of columns 0, 2, 4, ... of this one (half the radial resolution, same rays)."""
        return replace(self, radii=self.radii // 2)

    @property
    def step_px(self) -> float:
        """Distance in pixels between two radius samples."""
        return self.max_radius / self.radii

    def radius_px(self) -> np.ndarray:
        """(1, R) float32 radius of every column in pixels."""
        return (np.arange(self.radii, dtype=np.float32) * np.float32(self.step_px))[None, :]

    def to_polar(self, image: np.ndarray) -> np.ndarray:
        """Bilinear resampling of an (H, W) float32 map onto the (A, R) rays (0 beyond the map)."""
        flags = cv2.WARP_POLAR_LINEAR | cv2.INTER_LINEAR | cv2.WARP_FILL_OUTLIERS
        return cv2.warpPolar(image, (self.radii, self.angles), self.centre_xy, self.max_radius, flags)

    def to_map(self, polar: np.ndarray) -> np.ndarray:
        """Bilinear resampling of an (A, R) float32 polar image back onto the (H, W) map."""
        flags = cv2.WARP_POLAR_LINEAR | cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        height, width = self.shape
        return cv2.warpPolar(polar, (width, height), self.centre_xy, self.max_radius, flags)
