"""The shortest route through free space (the dominant path around building corners) on a lattice graph.

The dominant path model (Wölfle & Landstorfer, "Dominant paths for the field strength prediction", IEEE VTC
1998) follows the shortest route through free space from the transmitter to each pixel, bending only at
building corners. Its length G is found by Dijkstra's algorithm (`scipy.sparse.csgraph.dijkstra`) on a graph
whose nodes are the free cells of a coarse grid (a cell is a building only if all its pixels are, so no street
closes) and whose edges are the 16 lattice steps (±1, 0), (0, ±1), (±1, ±1), (±1, ±2), (±2, ±1) that cross no
building cell. A lattice path measures a straight line in the polygonal norm N(v) whose unit ball has a vertex
at every step direction: at most STRETCH = 1 / cos(13.3°) = 1.027 times its Euclidean length (the widest gap
between step directions is 26.6°; with 8 neighbours it would be 45° and 8 %). The graph depends only on the
city, so it is built once per map and searched once per transmitter.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

__all__ = ["STRETCH", "FreeSpaceGraph", "lattice_norm"]

_MAX_STEP = 2
_STEPS = [
    (dy, dx)
    for dy in range(_MAX_STEP + 1)
    for dx in range(-_MAX_STEP, _MAX_STEP + 1)
    if (dy, dx) > (0, 0) and math.gcd(dy, dx) == 1
]
"""The 8 lattice steps of a half plane (with their negatives: the 16-neighbourhood)."""
_OCTANT = sorted(((dy, dx) for dy, dx in _STEPS if 0 <= dy <= dx), key=lambda s: math.atan2(*s))
"""Step directions from 0° to 45°: (0, 1), (1, 2), (1, 1)."""
STRETCH = 1.0 / math.cos(max(math.atan2(*b) - math.atan2(*a) for a, b in itertools.pairwise(_OCTANT)) / 2)
"""Largest ratio of lattice length to Euclidean length of a straight line: 1 / cos(26.6° / 2) = 1.027."""


def _facets() -> list[tuple[float, float]]:
    """Linear functionals (w_big, w_small) of the unit ball's edges between neighbouring step directions."""
    units = [np.array([dx, dy]) / math.hypot(dy, dx) for dy, dx in _OCTANT]
    return [tuple(np.linalg.solve(np.stack([a, b]), np.ones(2))) for a, b in itertools.pairwise(units)]


_FACETS = _facets()


def lattice_norm(dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Lattice length N(v) of a straight displacement: the graph distance across an empty map.

    The unit ball of N is the polygon through the unit step directions, so N(v) is the largest of the linear
    functionals w with w . u_a = w . u_b = 1 on each edge (u_a, u_b) of the polygon (v folded into 0°..45°).

    Args:
        dy, dx: displacement components in pixels, broadcastable arrays (float32 stays float32).
    Returns:
        N(v) in pixels, same shape as the broadcast inputs.
    """
    ady, adx = np.abs(dy), np.abs(dx)
    big, small = np.maximum(adx, ady), np.minimum(adx, ady)
    norm = None
    for w_big, w_small in _FACETS:
        facet = big * np.asarray(w_big, big.dtype) + small * np.asarray(w_small, big.dtype)
        norm = facet if norm is None else np.maximum(norm, facet, out=norm)
    return norm


@dataclass(frozen=True)
class FreeSpaceGraph:
    """The lattice graph of the free space of one map."""

    shape: tuple[int, int]
    """(H, W) of the map in pixels."""
    factor: int
    """Pixels per coarse cell side."""
    graph: csr_matrix
    """(N, N) edge lengths in pixels between the N = ceil(H / f) * ceil(W / f) cells (one direction)."""

    @classmethod
    def build(cls, buildings: np.ndarray, factor: int = 1) -> FreeSpaceGraph:
        """Build the graph of a building mask.

        Args:
            buildings: (H, W) mask, non-zero inside buildings.
            factor: pixels per coarse cell side (lengths are then good to about 2 x factor pixels).
        Returns:
            The FreeSpaceGraph.
        """
        free = ~_all_solid_cells(np.asarray(buildings) != 0, factor)
        rows, cols = free.shape
        index = np.arange(rows * cols).reshape(rows, cols)
        sources, targets, lengths = [], [], []
        for step in _STEPS:
            ok = _step_is_free(free, step)
            sources.append(index[ok])
            targets.append(index[ok] + step[0] * cols + step[1])
            lengths.append(np.full(int(ok.sum()), math.hypot(*step) * factor))
        edges = (np.concatenate(lengths), (np.concatenate(sources), np.concatenate(targets)))
        return cls(np.asarray(buildings).shape, factor, csr_matrix(edges, shape=(rows * cols, rows * cols)))

    def source_px(self, tx: tuple[int, int]) -> tuple[float, float]:
        """(row, col) in pixels of the centre of the cell holding the transmitter, where distances start."""
        f = self.factor
        return (tx[0] // f * f + (f - 1) / 2, tx[1] // f * f + (f - 1) / 2)

    def distance_px(self, tx: tuple[int, int]) -> np.ndarray:
        """Shortest lattice-path length from the transmitter's cell, interpolated to every pixel.

        Args:
            tx: (row, col) of the transmitter, in free space.
        Returns:
            (H, W) float64 length in pixels; +inf where free space does not reach (closed courtyards).
        """
        f = self.factor
        cols = -(-self.shape[1] // f)
        cells = dijkstra(self.graph, directed=False, indices=(tx[0] // f) * cols + tx[1] // f).reshape(-1, cols)
        return cells if f == 1 else _upsample(cells, f, self.shape)


def _all_solid_cells(solid: np.ndarray, factor: int) -> np.ndarray:
    """(ceil(H / f), ceil(W / f)) mask of the f x f cells made only of building pixels."""
    height, width = solid.shape
    padded = np.zeros((-(-height // factor) * factor, -(-width // factor) * factor), dtype=bool)
    padded[:height, :width] = solid
    cells = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    return cells.all(axis=(1, 3))


def _step_is_free(free: np.ndarray, step: tuple[int, int]) -> np.ndarray:
    """(rows, cols) bool: the step from each cell lands inside the grid and crosses only free cells."""
    rows, cols = free.shape
    padded = np.zeros((rows + 6, cols + 6), dtype=bool)
    padded[3:-3, 3:-3] = free
    ok = free.copy()
    for cy, cx in _cells_crossed(step):
        ok &= padded[3 + cy : 3 + cy + rows, 3 + cx : 3 + cx + cols]
    return ok


def _cells_crossed(step: tuple[int, int]) -> set[tuple[int, int]]:
    """Cells whose interior the segment from (0, 0) to `step` passes through (corner touches excluded)."""
    t = (np.arange(256) + 0.5) / 256  # sample points strictly inside the segment, never on a corner
    return {(int(y), int(x)) for y, x in zip(np.floor(t * step[0] + 0.5), np.floor(t * step[1] + 0.5), strict=True)}


def _upsample(cells: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation of per-cell values to pixels, ignoring unreachable (infinite) cells."""
    reachable = np.isfinite(cells)
    size = (cells.shape[1] * factor, cells.shape[0] * factor)
    total = cv2.resize(np.where(reachable, cells, 0.0), size, interpolation=cv2.INTER_LINEAR)
    weight = cv2.resize(reachable.astype(np.float64), size, interpolation=cv2.INTER_LINEAR)
    nearest = np.repeat(np.repeat(reachable, factor, axis=0), factor, axis=1)
    values = np.where(nearest & (weight > 0), total / np.maximum(weight, 1e-12), np.inf)
    return values[: shape[0], : shape[1]]
