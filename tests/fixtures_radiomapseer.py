"""Tiny RadioMapSeer layouts of real PNG files for the data-layer tests (import from test modules)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image


def write_png(path: Path, pixels: np.ndarray) -> Path:
    """Write a uint8 (H, W) or (H, W, C) array as PNG, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)
    return path


def write_radiomapseer(
    root: Path,
    maps: int | Iterable[int] = 3,
    tx: int = 2,
    size: int | tuple[int, int] = 32,
    cars: bool = False,
    simulations: Iterable[str] = ("DPM",),
    seed: int = 0,
    sizes: dict[int, tuple[int, int]] | None = None,
    tx_border: int = 2,
) -> dict[tuple[int, int], tuple[int, int]]:
    """Write a RadioMapSeer layout: buildings, one-pixel antennas, radio maps (and car masks).

    Args:
        root: data root to create.
        maps: number of maps (ids 0..maps-1) or the map ids.
        tx: transmitters per map (ids 0..tx-1).
        size: (H, W) of every image (or the side of a square).
        cars: also write png/cars/{m}.png.
        simulations: folders under gain/ to fill.
        seed: seed of the random content.
        sizes: per-map (H, W) overriding `size`.
        tx_border: transmitters are placed at least this many pixels from the image border.
    Returns:
        (map, tx) -> the transmitter's (row, col) in its map's source grid.
    """
    rng = np.random.default_rng(seed)
    map_ids = range(maps) if isinstance(maps, int) else list(maps)
    default = (size, size) if isinstance(size, int) else tuple(size)
    positions = {}
    for m in map_ids:
        height, width = (sizes or {}).get(m, default)
        buildings = _random_rectangles(rng, height, width, count=3)
        write_png(root / "png/buildings_complete" / f"{m}.png", buildings)
        if cars:
            write_png(root / "png/cars" / f"{m}.png", _random_rectangles(rng, height, width, count=2, side=3))
        for k in range(tx):
            row = int(rng.integers(tx_border, height - tx_border))
            col = int(rng.integers(tx_border, width - tx_border))
            positions[m, k] = (row, col)
            antenna = np.zeros((height, width), np.uint8)
            antenna[row, col] = 255
            write_png(root / "png/antennas" / f"{m}_{k}.png", antenna)
            for simulation in simulations:
                write_png(root / "gain" / simulation / f"{m}_{k}.png", _radio_map(buildings, row, col))
    return positions


def _random_rectangles(rng: np.random.Generator, height: int, width: int, count: int, side: int = 8) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    side = min(side, height // 2, width // 2)
    for _ in range(count):
        top, left = int(rng.integers(0, height - side)), int(rng.integers(0, width - side))
        mask[top : top + side, left : left + side] = 255
    return mask


def _radio_map(buildings: np.ndarray, row: int, col: int) -> np.ndarray:
    """Grey levels falling with distance from the transmitter, 0 inside buildings (as in RadioMapSeer)."""
    rr, cc = np.indices(buildings.shape)
    distance = np.hypot(rr - row, cc - col)
    gain = 255.0 * np.exp(-distance / max(buildings.shape))
    return np.where(buildings > 0, 0, np.rint(gain)).astype(np.uint8)
