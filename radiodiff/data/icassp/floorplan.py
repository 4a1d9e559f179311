"""Procedural floor plans: a facade of concrete with windows, rooms from recursive splits, corridors, doors.

A plan is an (H, W) uint8 array of material ids (materials.py; 0 = air). The building fills the image: the
facade (2 px of concrete, glass windows) runs along the border. The interior box is split recursively along its
longer side by a one-pixel internal wall of a random interior material, at a random position leaving rooms of
at least MIN_ROOM_PX on both sides; each wall has a door (a gap of DOOR_PX). The first split of a large enough
building is a corridor (two parallel walls CORRIDOR_PX apart, a door into it every ~DOOR_SPACING_PX).
Splitting stops below 2 MIN_ROOM_PX + 1 or, from depth 2 on, with probability STOP_PROBABILITY (halls).
"""

from __future__ import annotations

import numpy as np

from radiodiff.data.icassp.materials import AIR, INTERIOR, MATERIALS, OUTER, WINDOW

__all__ = ["generate_floorplan", "interior_air"]

MIN_ROOM_PX = 10
"""Smallest room side: 2.5 m."""
DOOR_PX = 4
"""Door width: 1 m."""
CORRIDOR_PX = 6
"""Corridor width: 1.5 m."""
DOOR_SPACING_PX = 24
"""One corridor door per this many pixels of corridor wall."""
WINDOW_SHARE = 0.35
"""Share of the facade's segments that are glass."""
WINDOW_SEGMENT_PX = 8
STOP_PROBABILITY = 0.3
CORRIDOR_PROBABILITY = 0.7

Box = tuple[int, int, int, int]  # top, left, bottom, right: the free region [top, bottom) x [left, right)


def generate_floorplan(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A random floor plan.

    Args:
        height, width: image size in pixels (>= 16 each).
        rng: the building's random generator.
    Returns:
        (height, width) uint8 material ids.
    """
    if min(height, width) < 16:
        raise ValueError(f"floor plan {height}x{width} is too small; both sides must be >= 16 px")
    plan = np.zeros((height, width), dtype=np.uint8)
    _facade(plan, rng)
    t = MATERIALS[OUTER - 1].thickness_px
    _split(plan, (t, t, height - t, width - t), 0, rng)
    return plan


def interior_air(plan: np.ndarray) -> np.ndarray:
    """(N, 2) (row, col) of the air pixels at least one pixel away from every wall: where transmitters go."""
    air = plan == AIR
    inner = air[1:-1, 1:-1].copy()
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)):
        inner &= air[1 + dr : plan.shape[0] - 1 + dr, 1 + dc : plan.shape[1] - 1 + dc]
    return np.argwhere(inner) + 1


def _facade(plan: np.ndarray, rng: np.random.Generator) -> None:
    t = MATERIALS[OUTER - 1].thickness_px
    plan[:t], plan[-t:], plan[:, :t], plan[:, -t:] = OUTER, OUTER, OUTER, OUTER
    height, width = plan.shape
    for side, length in (("top", width), ("bottom", width), ("left", height), ("right", height)):
        for start in range(t + 2, length - t - WINDOW_SEGMENT_PX - 2, WINDOW_SEGMENT_PX + 2):
            if rng.random() < WINDOW_SHARE:
                span = slice(start, start + WINDOW_SEGMENT_PX)
                {"top": plan[:t, span], "bottom": plan[-t:, span], "left": plan[span, :t], "right": plan[span, -t:]}[
                    side
                ][...] = WINDOW


def _split(plan: np.ndarray, box: Box, depth: int, rng: np.random.Generator) -> None:
    top, left, bottom, right = box
    horizontal = (bottom - top) >= (right - left)  # a wall along a row cuts the taller side
    low, high = (top, bottom) if horizontal else (left, right)
    if high - low < 2 * MIN_ROOM_PX + 1 or (depth >= 2 and rng.random() < STOP_PROBABILITY):
        return
    material = int(rng.choice(INTERIOR))
    corridor = depth == 0 and high - low >= 2 * MIN_ROOM_PX + CORRIDOR_PX + 2 and rng.random() < CORRIDOR_PROBABILITY
    if corridor:
        at = int(rng.integers(low + MIN_ROOM_PX, high - MIN_ROOM_PX - CORRIDOR_PX - 1 + 1))
        other = at + CORRIDOR_PX + 1
        for wall in (at, other):
            _wall(plan, box, horizontal, wall, material, rng, doors=None)
        sides = ((low, at), (other + 1, high))
    else:
        at = int(rng.integers(low + MIN_ROOM_PX, high - MIN_ROOM_PX))
        _wall(plan, box, horizontal, at, material, rng, doors=1)
        sides = ((low, at), (at + 1, high))
    for start, end in sides:
        child = (start, left, end, right) if horizontal else (top, start, bottom, end)
        _split(plan, child, depth + 1, rng)


def _wall(plan: np.ndarray, box: Box, horizontal: bool, at: int, material: int, rng, doors: int | None) -> None:
    """Draw a one-pixel wall across `box` at row (horizontal) or column `at`, with doors cut into it."""
    top, left, bottom, right = box
    start, end = (left, right) if horizontal else (top, bottom)
    line = plan[at, start:end] if horizontal else plan[start:end, at]
    line[...] = material
    count = doors if doors is not None else max(1, (end - start) // DOOR_SPACING_PX)
    for _ in range(count):
        door = int(rng.integers(0, max(1, end - start - DOOR_PX)))
        line[door : door + DOOR_PX] = AIR
