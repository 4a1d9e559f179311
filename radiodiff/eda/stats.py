"""The statistics of a data root as one JSON-ready dict (the run's `eda/stats.json`); pure functions."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from radiodiff.data.gain_scale import GREY_MAX, grey_to_db
from radiodiff.eda.issues import ISSUE_KINDS, count_by_kind
from radiodiff.eda.measure import Measurements
from radiodiff.eda.scan import DatasetScan

__all__ = ["PERCENTILES", "Ground", "dataset_stats", "describe", "describe_histogram"]

PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
"""Percentiles reported for every distribution."""


@dataclass(frozen=True)
class Ground:
    """The physical scale of the images: where distances and the free-space reference come from."""

    metres_per_pixel: float
    """Ground resolution."""
    frequency_ghz: float | None
    """Carrier frequency when known (generated data), else None."""
    source: str
    """Where these values come from (generator.json, or the RadioMapSeer default)."""


def describe(values: Sequence[float] | np.ndarray) -> dict[str, float | int | None]:
    """count, mean, std, min, percentiles and max of the finite values (only `count` when there are none)."""
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return {"count": 0}
    out: dict[str, float | int | None] = {"count": int(data.size), "mean": float(data.mean())}
    out.update({"std": float(data.std()), "min": float(data.min())})
    out.update({f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(data, PERCENTILES), strict=True)})
    out["max"] = float(data.max())
    return out


def describe_histogram(counts: np.ndarray, values: np.ndarray) -> dict[str, float | int | None]:
    """`describe` of the distribution that puts counts[i] samples at values[i] (exact, without expanding it).

    Args:
        counts: (N,) non-negative sample counts.
        values: (N,) the value of each bin, ascending.
    Returns:
        count, mean, std, min, percentiles (the value at which the cumulative share first reaches q %), max.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return {"count": 0}
    mean = float((counts * values).sum() / total)
    std = float(math.sqrt(max((counts * (values - mean) ** 2).sum() / total, 0.0)))
    share = np.cumsum(counts) / total
    present = np.nonzero(counts)[0]
    out: dict[str, float | int | None] = {"count": int(total), "mean": mean, "std": std}
    out["min"] = float(values[present[0]])
    out.update({f"p{q}": float(values[np.searchsorted(share, q / 100 - 1e-12)]) for q in PERCENTILES})
    out["max"] = float(values[present[-1]])
    return out


def dataset_stats(scan: DatasetScan, measured: Measurements, ground: Ground, sample: dict[str, Any]) -> dict[str, Any]:
    """Everything `eda/stats.json` holds.

    Args:
        scan: what the scan found (counts, sizes, inconsistencies).
        measured: the measurements of the sampled radio maps (its decode issues are included).
        ground: the physical scale used for distances.
        sample: how the radio maps were sampled (cap, seed, ...), recorded as given.
    Returns:
        A JSON-serialisable dict (NaN written as null).
    """
    issues = [*scan.issues, *measured.issues]
    stats = {
        "data_root": str(scan.root.resolve()),
        "simulation": scan.simulation,
        "counts": _counts(scan, measured),
        "transmitters_per_map": describe(list(Counter(m for m, _ in scan.antennas.files).values())),
        "radio_maps_per_map": describe(list(Counter(m for m, _ in scan.gains[scan.simulation].files).values())),
        "image_sizes": _image_sizes(scan),
        "usual_size": list(scan.usual_size) if scan.usual_size else None,
        "ground": {"metres_per_pixel": ground.metres_per_pixel, "frequency_ghz": ground.frequency_ghz},
        "ground_source": ground.source,
        "sample": sample,
        "path_gain_db": _path_gain(measured),
        "mean_gain_db_per_radio_map": describe(measured.mean_gain_db),
        "coverage_per_radio_map": describe(measured.coverage),
        "building_density_per_map": describe(list(measured.building_density.values())),
        "los_fraction_per_radio_map": describe(measured.los_fraction),
        "tx_in_building_fraction": float(np.mean(measured.tx_in_building)) if measured.tx_in_building else None,
        "inconsistencies": {
            "count": len(issues),
            "by_kind": count_by_kind(issues),
            "kinds": ISSUE_KINDS,
            "list": [issue.as_dict() for issue in issues],
        },
    }
    return _json_safe(stats)


def _counts(scan: DatasetScan, measured: Measurements) -> dict[str, Any]:
    """Files per layout folder (named as the layout says, sound or not) and how many were usable and measured."""
    analysed = scan.gains[scan.simulation].files
    return {
        "maps": len(scan.buildings.files),
        "transmitters": len(scan.antennas.files),
        "radio_maps": len(analysed),
        "cars": len(scan.cars.files),
        "maps_with_radio_maps": len({m for m, _ in analysed}),
        "per_simulation": {name: len(listing.files) for name, listing in scan.gains.items()},
        "usable_radio_maps": len(scan.usable_pairs),
        "measured_radio_maps": len(measured.pairs),
        "files_checked": len(scan.headers) + sum(issue.kind == "unreadable" for issue in scan.issues),
    }


def _image_sizes(scan: DatasetScan) -> dict[str, dict[str, int]]:
    """Per layout folder: "HxW" -> number of sound files of that size."""
    sizes: dict[str, dict[str, int]] = {}
    for listing in [scan.buildings, scan.antennas, scan.cars, *scan.gains.values()]:
        found = Counter(scan.headers[p].size for p in listing.files.values() if p in scan.headers)
        if found:
            sizes[listing.folder] = {f"{h}x{w}": n for (h, w), n in sorted(found.items())}
    return sizes


def _path_gain(measured: Measurements) -> dict[str, Any]:
    """Path gain in dB of the street pixels of the sample: all of them (floor at GAIN_MIN_DB) and above the floor."""
    counts = measured.grey_counts
    levels_db = grey_to_db(np.arange(GREY_MAX + 1))
    total = counts.sum()
    return {
        "street_pixels": describe_histogram(counts, levels_db),
        "above_floor": describe_histogram(np.concatenate([[0], counts[1:]]), levels_db),
        "floor_fraction": float(counts[0] / total) if total else None,
        "los": describe_histogram(measured.los_grey_counts, levels_db),
        "nlos": describe_histogram(measured.nlos_grey_counts, levels_db),
    }


def _json_safe(value: Any) -> Any:
    """NaN and infinities become None (JSON has neither), floats keep 6 decimals, numpy scalars become Python."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value
