"""Procedural city layouts (building masks) and transmitter placement, in physical units.

A map is a street grid (optionally rotated) whose blocks are parks, courtyard (perimeter) blocks or parcels
carrying rectangles, L and U shapes, towers or small detached houses. Street widths, block sizes, setbacks and
the share of built parcels come from one `CityStyle` per map, drawn between a sparse suburb and a dense
downtown. Everything is measured in metres and rasterised at the end, so `metres_per_pixel` only changes the
resolution, not the city. Deterministic given the `numpy.random.Generator`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["CityStyle", "draw_style", "generate_city", "outdoor_mask", "place_transmitters"]

_SUBPIXEL_BITS = 4  # cv2.fillPoly fixed-point precision: 1/16 pixel
_MIN_GAP_M = 1.5  # setbacks below this become 0: no hairline slits between neighbouring buildings
_MIN_WING_M = 5.0  # narrowest wing an L or U building keeps next to its notch


@dataclass(frozen=True)
class CityStyle:
    """Layout parameters of one map (lengths in metres)."""

    street_m: tuple[float, float]
    """Range of street widths."""
    avenue_prob: float
    """Chance that a street is a double-width avenue."""
    block_m: tuple[float, float]
    """Range of block sides between streets."""
    parcels: tuple[int, int]
    """Range of parcels per block side."""
    setback_m: tuple[float, float]
    """Range of the gap between a parcel's edge and its building."""
    built: float
    """Share of parcels that carry a building."""
    park_prob: float
    """Chance that a whole block is a park or an open square."""
    courtyard_prob: float
    """Chance that a whole block is one perimeter building around a courtyard."""
    rotation_deg: float
    """Rotation of the street grid."""


def draw_style(rng: np.random.Generator) -> CityStyle:
    """Draw one map's style between a sparse suburb (density 0) and a dense downtown (density 1).

    Args:
        rng: the map's random generator.
    Returns:
        The CityStyle of the map.
    """
    t = float(rng.uniform(0.0, 1.0))  # the map's density
    rotation = 0.0 if rng.random() < 0.5 else float(rng.uniform(-45.0, 45.0))
    return CityStyle(
        street_m=(_lerp(10.0, 7.0, t), _lerp(18.0, 14.0, t)),
        avenue_prob=0.15,
        block_m=(_lerp(45.0, 35.0, t), _lerp(100.0, 80.0, t)),
        parcels=(1, round(_lerp(4.0, 3.0, t))),  # suburbs: more, smaller parcels (detached houses)
        setback_m=(_lerp(3.0, 0.0, t), _lerp(8.0, 2.0, t)),
        built=_lerp(0.55, 0.95, t),
        park_prob=_lerp(0.15, 0.05, t),
        courtyard_prob=_lerp(0.05, 0.35, t),
        rotation_deg=rotation,
    )


def _lerp(sparse: float, dense: float, density: float) -> float:
    """Interpolate a layout parameter between its suburb (density 0) and downtown (density 1) values."""
    return sparse + (dense - sparse) * density


def generate_city(
    size: int, metres_per_pixel: float, rng: np.random.Generator, style: CityStyle | None = None
) -> np.ndarray:
    """Draw one city map.

    Args:
        size: side of the square map in pixels.
        metres_per_pixel: ground resolution.
        rng: the map's random generator.
        style: layout parameters; None draws them from `rng`.
    Returns:
        (size, size) uint8 mask, 255 inside buildings, 0 in free space.
    """
    style = style or draw_style(rng)
    half_extent = size * metres_per_pixel * 0.75  # covers the map's corners after any rotation
    shapes: list[tuple[np.ndarray, int]] = []
    xs = _street_cuts(-half_extent, half_extent, style, rng)
    ys = _street_cuts(-half_extent, half_extent, style, rng)
    for x0, x1 in xs:
        for y0, y1 in ys:
            shapes.extend(_block_shapes(x0, y0, x1, y1, style, rng))
    return _rasterise(shapes, size, metres_per_pixel, style.rotation_deg)


def place_transmitters(buildings: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Draw distinct transmitter pixels uniformly in the outdoor free space (possibly next to a wall).

    Outdoor free space is the largest connected free region (the street network with its squares and open
    courtyards); closed courtyards are left out, since a transmitter there lights almost nothing outside.

    Args:
        buildings: (H, W) mask, non-zero inside buildings.
        count: number of transmitters.
        rng: the map's random generator.
    Returns:
        (count, 2) int64 array of (row, col) positions, each in free space.
    """
    outdoor = np.flatnonzero(outdoor_mask(buildings).ravel())
    if outdoor.size < count:
        raise ValueError(f"map has {outdoor.size} outdoor pixels, cannot place {count} distinct transmitters")
    chosen = rng.choice(outdoor, size=count, replace=False)
    return np.stack(np.unravel_index(chosen, buildings.shape), axis=1).astype(np.int64)


def outdoor_mask(buildings: np.ndarray) -> np.ndarray:
    """The largest 8-connected region of free pixels.

    Args:
        buildings: (H, W) mask, non-zero inside buildings.
    Returns:
        (H, W) bool mask (all False if the map has no free pixel).
    """
    free = (np.asarray(buildings) == 0).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=8)
    if count < 2:
        return np.zeros(free.shape, dtype=bool)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))  # label 0 is the buildings
    return labels == largest


def _street_cuts(lo: float, hi: float, style: CityStyle, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Blocks along one axis as (start, end) in metres, separated by streets of random width."""
    blocks = []
    pos = lo - float(rng.uniform(0.0, style.block_m[1]))
    while pos < hi:
        street = float(rng.uniform(*style.street_m))
        street *= 2.0 if rng.random() < style.avenue_prob else 1.0
        block = float(rng.uniform(*style.block_m))
        blocks.append((pos + street, pos + street + block))
        pos += street + block
    return blocks


def _block_shapes(
    x0: float, y0: float, x1: float, y1: float, style: CityStyle, rng: np.random.Generator
) -> list[tuple[np.ndarray, int]]:
    """Polygons (with fill value 1 = building, 0 = hole) of one block."""
    roll = rng.random()
    if roll < style.park_prob:
        return _park(x0, y0, x1, y1, rng)
    if roll < style.park_prob + style.courtyard_prob and min(x1 - x0, y1 - y0) > 30.0:
        depth = float(rng.uniform(9.0, 16.0))
        return _courtyard(x0, y0, x1, y1, depth)
    shapes = []
    for px0, px1 in _split(x0, x1, style, rng):
        for py0, py1 in _split(y0, y1, style, rng):
            if rng.random() < style.built:
                shapes.extend(_parcel_building(px0, py0, px1, py1, style, rng))
    return shapes


def _split(lo: float, hi: float, style: CityStyle, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Cut [lo, hi] into 1..parcels pieces of random proportions."""
    pieces = int(rng.integers(style.parcels[0], style.parcels[1] + 1))
    weights = rng.uniform(0.6, 1.4, size=pieces)
    edges = lo + (hi - lo) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def _parcel_building(
    x0: float, y0: float, x1: float, y1: float, style: CityStyle, rng: np.random.Generator
) -> list[tuple[np.ndarray, int]]:
    """One building on a parcel: rectangle, L, U, tower or courtyard, inset by the setback."""
    s = float(rng.uniform(*style.setback_m))
    s = 0.0 if s < _MIN_GAP_M else s  # neighbours either touch (terraced rows) or leave a walkable gap
    x0, y0, x1, y1 = x0 + s, y0 + s, x1 - s, y1 - s
    w, h = x1 - x0, y1 - y0
    if min(w, h) < 6.0:
        return []
    kind = rng.choice(["rect", "L", "U", "tower", "courtyard"], p=[0.4, 0.25, 0.15, 0.12, 0.08])
    if kind == "tower" and min(w, h) > 16.0:
        side = float(rng.uniform(0.4, 0.7)) * min(w, h)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        return [(_rect(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), 1)]
    if kind == "courtyard" and min(w, h) > 28.0:
        return _courtyard(x0, y0, x1, y1, float(rng.uniform(8.0, min(w, h) / 3)))
    if kind in ("L", "U") and min(w, h) > 4 * _MIN_WING_M:
        return [(_rect(x0, y0, x1, y1), 1), (_notch(x0, y0, x1, y1, str(kind), rng), 0)]
    return [(_rect(x0, y0, x1, y1), 1)]


def _notch(x0: float, y0: float, x1: float, y1: float, kind: str, rng: np.random.Generator) -> np.ndarray:
    """The rectangle cut out of a parcel building to make an L (corner cut) or a U (side cut)."""
    w, h = x1 - x0, y1 - y0
    cw = min(float(rng.uniform(0.35, 0.6)) * w, w - 2 * _MIN_WING_M)
    ch = min(float(rng.uniform(0.35, 0.6)) * h, h - _MIN_WING_M)
    if kind == "L":
        cx = x0 if rng.random() < 0.5 else x1 - cw
        cy = y0 if rng.random() < 0.5 else y1 - ch
        return _rect(cx, cy, cx + cw, cy + ch)
    cx = x0 + (w - cw) / 2
    cy = y0 if rng.random() < 0.5 else y1 - ch
    return _rect(cx, cy, cx + cw, cy + ch)


def _courtyard(x0: float, y0: float, x1: float, y1: float, depth: float) -> list[tuple[np.ndarray, int]]:
    """A perimeter building `depth` metres deep around an open courtyard."""
    return [(_rect(x0, y0, x1, y1), 1), (_rect(x0 + depth, y0 + depth, x1 - depth, y1 - depth), 0)]


def _park(x0: float, y0: float, x1: float, y1: float, rng: np.random.Generator) -> list[tuple[np.ndarray, int]]:
    """An open square or park, sometimes with one small pavilion."""
    if rng.random() < 0.5:
        return []
    cx, cy = float(rng.uniform(x0 + 10, x1 - 10)), float(rng.uniform(y0 + 10, y1 - 10))
    side = float(rng.uniform(5.0, 9.0))
    return [(_rect(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), 1)]


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """(4, 2) corners of an axis-aligned rectangle (x, y) in the grid frame."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _rasterise(
    shapes: list[tuple[np.ndarray, int]], size: int, metres_per_pixel: float, rotation_deg: float
) -> np.ndarray:
    """Rotate the grid-frame polygons about the map centre and fill them, in order, into a pixel mask."""
    theta = np.deg2rad(rotation_deg)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    centre = np.array([size / 2.0, size / 2.0])
    mask = np.zeros((size, size), dtype=np.uint8)
    scale = float(1 << _SUBPIXEL_BITS)
    for polygon, value in shapes:
        pixels = polygon @ rot.T / metres_per_pixel + centre - 0.5  # pixel centres at integer coordinates
        points = np.rint(pixels * scale).astype(np.int32)
        cv2.fillPoly(mask, [points], 255 * value, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
    return mask
