"""Exploratory analysis of a data root in the ICASSP layout (`data.layout: icassp`, FACTS §4).

Every file is checked by the reader's index (missing outputs, positions or patterns, wrong sizes, an undecidable
axis order end the job with one line naming the file); a sample of at most `max_radio_maps` maps is decoded for:
counts per task, building, antenna and frequency; image sizes; path loss in dB per frequency and per antenna; the
slope of path loss against log10(distance) (free space: 20 dB per decade); the loss the walls add over free space
with the pattern (the radio map the models learn, radiodiff/data/icassp/dataset.py); the wall fraction; the
antennas' patterns; and a panel of samples.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from radiodiff.data.icassp.antenna import antenna_channel_db, pixel_geometry
from radiodiff.data.icassp.index import IcasspIndex, IcasspSample, index_icassp
from radiodiff.data.icassp.loader import load_sample
from radiodiff.data.icassp.preview import indoor_preview_panel
from radiodiff.data.icassp.scale import PATHLOSS_MAX_DB, PATHLOSS_MIN_DB
from radiodiff.eda.analysis import EdaResult
from radiodiff.eda.render import figure_rgb, new_figure

__all__ = ["INDOOR_FIGURES", "analyse_indoor", "indoor_metrics"]

INDOOR_FIGURES = ("counts", "sizes", "pathloss_by_frequency", "pathloss_by_antenna", "distance_slope", "patterns")
"""Figure names of the indoor analysis (plus `samples`), logged as `eda/figures/<name>.png`."""
_PIXELS_PER_MAP = 2000  # pixels sampled per map for the distributions and the slope fit


def analyse_indoor(root: str | Path, max_radio_maps: int = 0, seed: int = 0, progress: bool = False) -> EdaResult:
    """Index `root`, measure a sample of its maps and draw the figures.

    Args:
        root: a data root in the ICASSP layout.
        max_radio_maps: cap on the maps decoded (0: all).
        seed: seed of the map sample and of the pixel samples.
        progress: show a progress bar.
    """
    started = time.perf_counter()
    index = index_icassp(root)
    rng = np.random.default_rng(seed)
    chosen = list(index.samples)
    if max_radio_maps and len(chosen) > max_radio_maps:
        chosen = [chosen[i] for i in sorted(rng.choice(len(chosen), max_radio_maps, replace=False))]
    measured = [_measure(index, s, rng) for s in tqdm(chosen, desc="eda", unit="map", disable=not progress)]
    stats = _stats(index, chosen, measured)
    stats["seconds"] = time.perf_counter() - started
    figures = {
        "counts": _counts_figure(stats["counts"]),
        "sizes": _sizes_figure(index),
        "pathloss_by_frequency": _distribution_figure(chosen, measured, "frequency", "frequency token"),
        "pathloss_by_antenna": _distribution_figure(chosen, measured, "antenna", "antenna"),
        "distance_slope": _slope_figure(
            measured, stats["distance_slope_db_per_decade"], stats["distance_intercept_db"]
        ),
        "patterns": _patterns_figure(index),
        "samples": indoor_preview_panel(index, samples=4),
    }
    listing = "\n".join(f"{s.input_path.name} {s.size}" for s in index.samples)
    return EdaResult(Path(root), stats, figures, hashlib.sha256(listing.encode()).hexdigest())


def indoor_metrics(stats: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of the indoor `eda/stats.json` as `eda/...` metrics."""
    loss, excess = stats["pathloss_db"], stats["excess_over_free_space_db"]
    return {
        "eda/radio_maps": float(stats["counts"]["samples"]),
        "eda/measured_radio_maps": float(stats["counts"]["measured"]),
        "eda/buildings": float(len(stats["counts"]["per_building"])),
        "eda/pathloss_mean_db": loss["mean"],
        "eda/pathloss_std_db": loss["std"],
        "eda/excess_mean_db": excess["mean"],
        "eda/wall_fraction_mean": stats["wall_fraction"]["mean"],
        "eda/distance_slope_db_per_decade": stats["distance_slope_db_per_decade"],
        "eda/seconds": stats["seconds"],
    }


def _measure(index: IcasspIndex, sample: IcasspSample, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Pixel samples of one map: path loss, log10 distance (m) and excess over free space with the pattern."""
    arrays = load_sample(index, sample)
    height, width = sample.size
    pick = rng.integers(0, height * width, size=min(_PIXELS_PER_MAP, height * width))
    distance, _ = pixel_geometry(sample.size, sample.tx_row, sample.tx_col)
    antenna = antenna_channel_db(
        sample.size, sample.tx_row, sample.tx_col, sample.azimuth_deg, arrays.pattern_dbi, arrays.frequency_mhz
    )
    loss = arrays.pathloss_db.ravel()[pick]
    return {
        "loss": loss,
        "log_distance": np.log10(np.maximum(distance.ravel()[pick], 0.25)),
        "excess": loss - np.clip(antenna.ravel()[pick], PATHLOSS_MIN_DB, PATHLOSS_MAX_DB),
        "wall_fraction": np.asarray(float((arrays.inputs[1] > 0).mean())),
    }


def _summary(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {}
    quantiles = np.percentile(values, [1, 50, 99])
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "p01": float(quantiles[0]),
        "median": float(quantiles[1]),
        "p99": float(quantiles[2]),
        "max": float(values.max()),
    }


def _stats(index: IcasspIndex, chosen: list[IcasspSample], measured: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    def per(field: str) -> dict[str, int]:
        return {str(k): v for k, v in sorted(Counter(getattr(s, field) for s in index.samples).items())}

    loss = np.concatenate([m["loss"] for m in measured])
    log_distance = np.concatenate([m["log_distance"] for m in measured])
    far = log_distance > 0  # beyond 1 m: the near field of the transmitter's own pixel is left out
    slope, intercept = np.polyfit(log_distance[far], loss[far], 1) if far.sum() > 2 else (np.nan, np.nan)
    sizes = np.asarray([s.size for s in index.samples])
    by = {
        field: {str(value): _summary(_losses_where(chosen, measured, field, value)) for value in index.values(field)}
        for field in ("frequency", "antenna")
    }
    return {
        "counts": {
            "samples": len(index.samples),
            "measured": len(chosen),
            "per_task": per("task"),
            "per_building": per("building"),
            "per_antenna": per("antenna"),
            "per_frequency": per("frequency"),
        },
        "axis_order": index.axis_order,
        "image_sizes": {
            "distinct": len({tuple(s) for s in sizes.tolist()}),
            "height": _summary(sizes[:, 0].astype(float)),
            "width": _summary(sizes[:, 1].astype(float)),
            "square_fraction": float((sizes[:, 0] == sizes[:, 1]).mean()),
        },
        "pathloss_db": _summary(loss),
        "pathloss_db_by": by,
        "excess_over_free_space_db": _summary(np.concatenate([m["excess"] for m in measured])),
        "distance_slope_db_per_decade": float(slope),
        "distance_intercept_db": float(intercept),
        "wall_fraction": _summary(np.asarray([float(m["wall_fraction"]) for m in measured])),
    }


def _losses_where(
    chosen: list[IcasspSample], measured: list[dict[str, np.ndarray]], field: str, value: int
) -> np.ndarray:
    """The sampled path losses of the measured maps whose `field` is `value` (empty when none was measured: a
    capped sample may miss a frequency or an antenna)."""
    losses = [m["loss"] for s, m in zip(chosen, measured, strict=True) if getattr(s, field) == value]
    return np.concatenate(losses) if losses else np.empty(0, dtype=np.float32)


def _counts_figure(counts: dict[str, Any]) -> np.ndarray:
    figure = new_figure(10, 3)
    for axes, field in zip(
        figure.subplots(1, 4), ("per_task", "per_building", "per_antenna", "per_frequency"), strict=True
    ):
        axes.bar(list(counts[field]), list(counts[field].values()), color="tab:blue")
        axes.set(title=field.replace("_", " "), ylabel="samples")
    return figure_rgb(figure)


def _sizes_figure(index: IcasspIndex) -> np.ndarray:
    figure = new_figure(4.5, 4)
    axes = figure.subplots()
    sizes = np.asarray([s.size for s in index.samples])
    axes.scatter(sizes[:, 1], sizes[:, 0], s=12, alpha=0.5)
    axes.set(xlabel="width (px, 0.25 m each)", ylabel="height (px)", title="image sizes (one point per sample)")
    return figure_rgb(figure)


def _distribution_figure(
    chosen: list[IcasspSample], measured: list[dict[str, np.ndarray]], field: str, label: str
) -> np.ndarray:
    figure = new_figure(6, 3.5)
    axes = figure.subplots()
    for value in sorted({getattr(s, field) for s in chosen}):
        loss = _losses_where(chosen, measured, field, value)
        axes.hist(
            loss,
            bins=60,
            range=(PATHLOSS_MIN_DB, PATHLOSS_MAX_DB),
            histtype="step",
            density=True,
            label=f"{label} {value}",
        )
    axes.set(xlabel="path loss (dB)", ylabel="density", title=f"path loss by {label}")
    axes.legend()
    return figure_rgb(figure)


def _slope_figure(measured: list[dict[str, np.ndarray]], slope: float, intercept: float) -> np.ndarray:
    """Path loss against log10 distance, the fitted line, and a 20 dB/decade free-space line through its 1 m value."""
    figure = new_figure(5, 4)
    axes = figure.subplots()
    x = np.concatenate([m["log_distance"] for m in measured])
    y = np.concatenate([m["loss"] for m in measured])
    axes.hexbin(x, y, gridsize=50, bins="log", cmap="viridis")
    ends = np.asarray([0.0, max(float(x.max()), 0.1)])
    axes.plot(ends, intercept + slope * ends, color="tab:red", label=f"fit: {slope:.1f} dB/decade")
    axes.plot(ends, intercept + 20 * ends, color="black", linestyle="--", label="20 dB/decade (free space)")
    axes.legend(loc="lower right", fontsize=8)
    axes.set(
        xlabel="log10 distance (m)",
        ylabel="path loss (dB)",
        title=f"fitted slope {slope:.1f} dB/decade (free space 20)",
    )
    return figure_rgb(figure)


def _patterns_figure(index: IcasspIndex) -> np.ndarray:
    figure = new_figure(5, 5)
    axes = figure.add_subplot(projection="polar")
    axes.set_theta_direction(-1)  # degrees off boresight turn clockwise as the image is shown (docs/icassp.md)
    angles = np.deg2rad(np.arange(360))
    for antenna, gains in sorted(index.patterns.items()):
        axes.plot(angles, gains, label=f"Ant{antenna}")
    axes.set_title("radiation patterns (dBi)")
    axes.legend(loc="lower left", fontsize=8)
    return figure_rgb(figure)
