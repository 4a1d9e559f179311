"""Reading a sample of radio maps once and measuring what the statistics and figures need.

Per radio map: mean path gain, coverage (share of street pixels above the floor), line-of-sight fraction and
the transmitter's position. Over the sample: pixel counts per grey level (all, LOS, NLOS) and a 2-D histogram of
gain versus distance. Per map: the building density of every sound building mask. Memory stays constant in the
number of radio maps: only histograms and a few numbers per radio map are kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from tqdm import tqdm

from radiodiff.data.gain_scale import GREY_MAX, grey_to_db
from radiodiff.data.png_io import DataError, read_grey_png
from radiodiff.data.transforms import locate_tx
from radiodiff.eda.issues import Issue
from radiodiff.eda.los import grid_points, line_of_sight
from radiodiff.eda.scan import DatasetScan

__all__ = ["DISTANCE_BINS", "LOS_POINTS", "Measurements", "measure_sample"]

DISTANCE_BINS = 48
"""Log-spaced distance bins of the gain-versus-distance histogram."""
LOS_POINTS = 1024
"""Pixels per radio map tested for line of sight (a regular grid)."""
LEVELS = GREY_MAX + 1


@dataclass
class Measurements:
    """What one pass over the sampled radio maps measured."""

    metres_per_pixel: float
    """Ground resolution used for distances."""
    distance_edges_m: np.ndarray
    """(DISTANCE_BINS + 1,) log-spaced distance bin edges in metres."""
    pairs: list[tuple[int, int]] = field(default_factory=list)
    """(map, tx) of every radio map measured, in order."""
    mean_gain_db: list[float] = field(default_factory=list)
    """Mean path gain over the street (non-building) pixels; the floor counts as GAIN_MIN_DB."""
    coverage: list[float] = field(default_factory=list)
    """Share of street pixels above the floor (grey > 0)."""
    los_fraction: list[float] = field(default_factory=list)
    """Share of the tested street pixels in line of sight of the transmitter."""
    tx_relative: list[tuple[float, float]] = field(default_factory=list)
    """Transmitter (row / H, col / W) in [0, 1)."""
    tx_in_building: list[bool] = field(default_factory=list)
    """Whether the transmitter pixel is a building pixel."""
    grey_counts: np.ndarray = field(default_factory=lambda: np.zeros(LEVELS, np.int64))
    """(256,) street pixels per grey level over the sample."""
    los_grey_counts: np.ndarray = field(default_factory=lambda: np.zeros(LEVELS, np.int64))
    """(256,) tested street pixels in line of sight, per grey level."""
    nlos_grey_counts: np.ndarray = field(default_factory=lambda: np.zeros(LEVELS, np.int64))
    """(256,) tested street pixels out of line of sight, per grey level."""
    gain_distance_counts: np.ndarray = field(default_factory=lambda: np.zeros((DISTANCE_BINS, LEVELS), np.int64))
    """(DISTANCE_BINS, 256) street pixels above the floor per (distance bin, grey level)."""
    building_density: dict[int, float] = field(default_factory=dict)
    """Map id -> share of building pixels, for every sound building mask (not only the sampled maps)."""
    issues: list[Issue] = field(default_factory=list)
    """Files that passed the header check but failed to decode, and antennas without a transmitter."""


def measure_sample(
    scan: DatasetScan, pairs: Sequence[tuple[int, int]], metres_per_pixel: float, progress: bool = False
) -> Measurements:
    """Read the sampled radio maps (and every building mask) and measure them.

    Args:
        scan: the data root's scan.
        pairs: (map, tx) pairs to read, a subset of `scan.usable_pairs`, sorted by map.
        metres_per_pixel: ground resolution of the images.
        progress: show a progress bar.
    Returns:
        The Measurements; files that fail to decode are skipped and listed in `issues`.
    """
    size = scan.usual_size or (1, 1)
    top = math.hypot(*size) * metres_per_pixel
    edges = np.geomspace(metres_per_pixel, max(top, 2 * metres_per_pixel), DISTANCE_BINS + 1)
    out = Measurements(metres_per_pixel, edges)
    _measure_buildings(scan, out)
    mask_of, mask = -1, np.zeros((0, 0), bool)  # pairs come sorted by map: decode each mask once
    for m, k in tqdm(pairs, desc="eda: measuring radio maps", unit="radio map", disable=not progress):
        if m not in out.building_density:  # its mask failed to decode (already an issue)
            continue
        if mask_of != m:
            mask_of, mask = m, read_grey_png(scan.path(scan.buildings.files[m])) > 0
        grey = _read(scan, scan.gains[scan.simulation].files[m, k], out.issues)
        tx = _read_tx(scan, scan.antennas.files[m, k], out.issues)
        if grey is not None and tx is not None:
            _measure_gain(out, (m, k), mask, tx, grey)
            _measure_los(out, mask, tx, grey)
            _measure_distance(out, mask, tx, grey)
    return out


def _measure_buildings(scan: DatasetScan, out: Measurements) -> None:
    """Building density of every sound building mask."""
    for m, relative in sorted(scan.buildings.files.items()):
        if relative in scan.headers:
            mask = _read(scan, relative, out.issues)
            if mask is not None:
                out.building_density[m] = float(np.mean(mask > 0))


def _read(scan: DatasetScan, relative: str, issues: list[Issue]) -> np.ndarray | None:
    """Decode a grey PNG; a failure becomes an `unreadable` issue and None."""
    try:
        return read_grey_png(scan.path(relative))
    except DataError as err:
        issues.append(Issue("unreadable", relative, str(err).split(": ", 1)[-1]))
        return None


def _read_tx(scan: DatasetScan, relative: str, issues: list[Issue]) -> tuple[float, float] | None:
    """The transmitter position of an antenna image; an empty image becomes a `no_transmitter` issue."""
    antenna = _read(scan, relative, issues)
    if antenna is None:
        return None
    try:
        return locate_tx(antenna)
    except ValueError:
        issues.append(Issue("no_transmitter", relative, "antenna image is all zero"))
        return None


def _measure_gain(
    out: Measurements, pair: tuple[int, int], buildings: np.ndarray, tx: tuple[float, float], grey: np.ndarray
) -> None:
    """Mean gain, coverage and transmitter position of one radio map; its street pixels into the histogram.

    `buildings` is (H, W) bool, `tx` the (row, col) of the transmitter, `grey` the (H, W) uint8 radio map (the
    same in the other `_measure_*` helpers).
    """
    counts = np.bincount(grey[~buildings], minlength=LEVELS)
    street = int(counts.sum())
    height, width = grey.shape
    out.pairs.append(pair)
    mean_level = float(counts @ np.arange(LEVELS)) / street if street else math.nan
    out.mean_gain_db.append(float(grey_to_db(mean_level)) if street else math.nan)  # the scale is linear
    out.coverage.append(1.0 - counts[0] / street if street else math.nan)
    out.tx_relative.append((tx[0] / height, tx[1] / width))
    out.tx_in_building.append(bool(buildings[round(tx[0]), round(tx[1])]))
    out.grey_counts += counts


def _measure_los(out: Measurements, buildings: np.ndarray, tx: tuple[float, float], grey: np.ndarray) -> None:
    """LOS fraction on a grid of street pixels, and their grey levels split into LOS and NLOS."""
    points = grid_points(grey.shape, LOS_POINTS)
    points = points[~buildings[points[:, 0], points[:, 1]]]
    visible = line_of_sight(buildings, tx, points)
    point_grey = grey[points[:, 0], points[:, 1]]
    out.los_fraction.append(float(visible.mean()) if visible.size else math.nan)
    out.los_grey_counts += np.bincount(point_grey[visible], minlength=LEVELS)
    out.nlos_grey_counts += np.bincount(point_grey[~visible], minlength=LEVELS)


def _measure_distance(out: Measurements, buildings: np.ndarray, tx: tuple[float, float], grey: np.ndarray) -> None:
    """Street pixels above the floor into the (log distance, grey level) histogram (tx rounded to a pixel)."""
    height, width = grey.shape
    table = _distance_bin_table(height, width, out.metres_per_pixel, tuple(out.distance_edges_m))
    row = min(max(round(tx[0]), 0), height - 1)
    col = min(max(round(tx[1]), 0), width - 1)
    bins = table[height - 1 - row : 2 * height - 1 - row, width - 1 - col : 2 * width - 1 - col]
    keep = ~buildings & (grey > 0) & (bins >= 0)
    flat = np.bincount(bins[keep].astype(np.intp) * LEVELS + grey[keep], minlength=DISTANCE_BINS * LEVELS)
    out.gain_distance_counts += flat.reshape(DISTANCE_BINS, LEVELS)


@lru_cache(maxsize=8)
def _distance_bin_table(height: int, width: int, metres_per_pixel: float, edges: tuple[float, ...]) -> np.ndarray:
    """int16 (2H - 1, 2W - 1): distance bin of every pixel offset (-1 below the first edge, i.e. the tx pixel).

    The (H, W) window whose centre offset sits at the transmitter gives every pixel's bin without any
    per-map distance computation.
    """
    rows, cols = np.indices((2 * height - 1, 2 * width - 1))
    distance = np.hypot(rows - (height - 1), cols - (width - 1)) * metres_per_pixel
    bins = np.searchsorted(np.asarray(edges), distance, side="right") - 1
    bins = np.minimum(bins, DISTANCE_BINS - 1)  # offsets beyond the usual diagonal join the last bin
    return bins.astype(np.int16)
