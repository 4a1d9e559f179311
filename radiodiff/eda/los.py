"""Line of sight on a building mask: a pixel is LOS when the straight segment from the transmitter crosses no
building pixel. A vectorised sampled check on a subsample of pixels, cheap enough for thousands of radio maps."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["grid_points", "line_of_sight"]


def grid_points(shape: tuple[int, int], max_points: int) -> np.ndarray:
    """A regular grid of at most about `max_points` pixels covering an image evenly.

    Args:
        shape: (H, W) of the image.
        max_points: wanted number of points (>= 1); the stride is the smallest that stays within it.
    Returns:
        int64 (N, 2) array of (row, col) pixel indices.
    """
    if max_points < 1:
        raise ValueError(f"max_points = {max_points} must be >= 1")
    height, width = shape
    stride = max(1, math.ceil(math.sqrt(height * width / max_points)))
    rows = np.arange(stride // 2, height, stride)
    cols = np.arange(stride // 2, width, stride)
    grid = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1)
    return grid.reshape(-1, 2).astype(np.int64)


def line_of_sight(buildings: np.ndarray, tx: tuple[float, float], points: np.ndarray) -> np.ndarray:
    """Whether each point sees the transmitter across the building mask.

    The segment tx -> point is sampled about once per pixel of the longest segment, end points excluded
    (a transmitter inside a building therefore sees nothing; the point's own pixel is not tested).

    Args:
        buildings: (H, W) bool, True inside buildings.
        tx: the transmitter's (row, col) in pixels.
        points: int (N, 2) (row, col) pixels to test.
    Returns:
        bool (N,): True where no sampled pixel of the segment is a building.
    """
    points = np.asarray(points)
    if points.size == 0:
        return np.zeros(0, dtype=bool)
    height, width = buildings.shape
    origin = np.clip(np.asarray(tx, dtype=np.float32), 0, [height - 1, width - 1])
    delta = points.astype(np.float32) - origin  # (N, 2)
    steps = max(2, math.ceil(float(np.hypot(delta[:, 0], delta[:, 1]).max())))
    t = (np.arange(1, steps, dtype=np.float32) / steps)[:, None]  # (S - 1, 1), interior of every segment
    # Samples lie between two in-image end points, so they are >= 0: adding 0.5 and truncating rounds them.
    rows = (origin[0] + 0.5 + t * delta[:, 0]).astype(np.int32)  # (S - 1, N)
    cols = (origin[1] + 0.5 + t * delta[:, 1]).astype(np.int32)
    return ~np.ravel(buildings)[rows * width + cols].any(axis=0)
