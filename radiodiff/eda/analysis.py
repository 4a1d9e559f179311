"""The whole analysis of a data root: scan every file, measure a sample of radio maps, draw the figures.

Nothing here talks to MLflow: `radiodiff.jobs.eda` logs the result. The scan touches every file (header and
closing chunk only); decoding is limited to every building mask and at most `max_radio_maps` sampled radio maps
with their antennas, so the analysis of the full RadioMapSeer data set stays within a minute or so.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from radiodiff.config_schema import ConfigError
from radiodiff.eda.figures import building_density_figure, per_map_figure, structure_figure, tx_heatmap_figure
from radiodiff.eda.gain_figures import gain_distance_figure, gain_los_figure, los_fraction_figure, path_gain_figure
from radiodiff.eda.measure import LOS_POINTS, Measurements, measure_sample
from radiodiff.eda.panels import gallery_figure, pick_spread, sample_panels_figure
from radiodiff.eda.scan import METADATA_FILE, DatasetScan, scan_dataset
from radiodiff.eda.stats import Ground, dataset_stats

__all__ = [
    "DEFAULT_MAX_RADIO_MAPS",
    "FIGURE_NAMES",
    "EdaResult",
    "analyse_dataset",
    "check_max_radio_maps",
    "draw_figures",
    "ground_of",
    "sample_pairs",
]

DEFAULT_MAX_RADIO_MAPS = 2000
"""Radio maps decoded for the statistics and figures (0: all of them)."""

RADIOMAPSEER_GROUND = Ground(1.0, None, "no generator.json: RadioMapSeer's 1 m per pixel; frequency unknown")
"""The physical scale assumed for data without generator parameters (FACTS §1)."""

FIGURE_NAMES = (
    "structure",
    "tx_positions",
    "building_density",
    "path_gain_histogram",
    "los_fraction",
    "gain_los_nlos",
    "gain_vs_distance",
    "per_map_stats",
    "sample_panels",
    "radio_map_gallery",
)
"""Names of the figures, logged as `eda/figures/<name>.png`."""


@dataclass(frozen=True)
class EdaResult:
    """The outcome of `analyse_dataset`."""

    root: Path
    """The data root analysed."""
    stats: dict[str, Any]
    """The JSON-ready statistics (`eda/stats.json`)."""
    figures: dict[str, np.ndarray]
    """Figure name -> (H, W, 3) uint8 RGB image, in FIGURE_NAMES order."""
    digest: str
    """SHA-256 of the data root's file listing."""


def analyse_dataset(
    root: str | Path,
    simulation: str = "DPM",
    setting: str = "static",
    max_radio_maps: int = DEFAULT_MAX_RADIO_MAPS,
    seed: int = 0,
    progress: bool = False,
) -> EdaResult:
    """Scan a RadioMapSeer-layout data root, measure a sample of its radio maps and draw every figure.

    Args:
        root: the data root.
        simulation: the folder under `gain/` to analyse.
        setting: "static" or "dynamic" (expects car masks).
        max_radio_maps: cap on the radio maps decoded for statistics and figures; 0 means all.
        seed: seed of the sample drawn when the cap applies.
        progress: show progress bars.
    Returns:
        The EdaResult; inconsistencies are reported in `stats["inconsistencies"]`, never raised.
    Raises:
        ConfigError: `max_radio_maps` is negative.
        DataError: `root` is not a folder or holds no `gain/<simulation>`.
    """
    check_max_radio_maps(max_radio_maps)
    started = time.perf_counter()
    scan = scan_dataset(root, simulation, setting, progress=progress)
    pairs = sample_pairs(scan.usable_pairs, max_radio_maps, seed)
    ground = ground_of(scan.metadata)
    measured = measure_sample(scan, pairs, ground.metres_per_pixel, progress=progress)
    figures = draw_figures(scan, measured, ground)
    sample = {"max_radio_maps": max_radio_maps, "seed": seed, "drawn": len(pairs), "los_points": LOS_POINTS}
    stats = dataset_stats(scan, measured, ground, sample)
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return EdaResult(scan.root, stats, figures, scan.digest())


def check_max_radio_maps(value: int) -> int:
    """Return the cap if it is allowed (0: all, or a positive count); else raise a ConfigError saying so."""
    if value < 0:
        raise ConfigError(f"max_radio_maps = {value} is out of range; allowed: 0 (all) or more")
    return value


def sample_pairs(pairs: Sequence[tuple[int, int]], cap: int, seed: int) -> list[tuple[int, int]]:
    """All pairs when there are at most `cap` (or `cap` is 0), else `cap` of them drawn without replacement.

    Returns:
        The chosen pairs, sorted (by map, so that each building mask is decoded once).
    """
    if cap == 0 or len(pairs) <= cap:
        return sorted(pairs)
    chosen = np.random.default_rng(seed).choice(len(pairs), size=cap, replace=False)
    return sorted(pairs[i] for i in chosen)


def ground_of(metadata: dict[str, Any]) -> Ground:
    """The physical scale recorded by the generator in generator.json, else RadioMapSeer's."""
    if "metres_per_pixel" not in metadata:
        return RADIOMAPSEER_GROUND
    frequency = metadata.get("frequency_ghz")
    return Ground(float(metadata["metres_per_pixel"]), float(frequency) if frequency else None, METADATA_FILE)


def draw_figures(scan: DatasetScan, measured: Measurements, ground: Ground) -> dict[str, np.ndarray]:
    """Every figure of the analysis. Returns FIGURE_NAMES -> (H, W, 3) uint8 RGB, in that order."""
    figures = {
        "structure": structure_figure(scan, measured),
        "tx_positions": tx_heatmap_figure(measured),
        "building_density": building_density_figure(measured),
        "path_gain_histogram": path_gain_figure(measured),
        "los_fraction": los_fraction_figure(measured),
        "gain_los_nlos": gain_los_figure(measured),
        "gain_vs_distance": gain_distance_figure(measured, ground),
        "per_map_stats": per_map_figure(measured),
        "sample_panels": sample_panels_figure(scan, pick_spread(measured.pairs, 4)),
        "radio_map_gallery": gallery_figure(scan, pick_spread(measured.pairs, 16)),
    }
    return figures
