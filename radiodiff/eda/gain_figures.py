"""Figures of the path gain of the sampled radio maps: its distribution, line of sight, and gain versus distance.
Each function returns an (H, W, 3) uint8 RGB image (`render.figure_rgb`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from radiodiff.data.gain_scale import DB_PER_GREY, GAIN_MAX_DB, GAIN_MIN_DB, GREY_MAX, grey_to_db
from radiodiff.eda.measure import Measurements
from radiodiff.eda.render import GAIN_LABEL, figure_rgb, integer_ticks, new_figure, no_data
from radiodiff.eda.stats import Ground
from radiodiff.viz import radio_map_rgb

__all__ = ["free_space_gain_db", "gain_distance_figure", "gain_los_figure", "los_fraction_figure", "path_gain_figure"]

_LEVELS = np.arange(1, GREY_MAX + 1)  # grey levels above the floor
_PAIR_EDGES_DB = GAIN_MIN_DB + (np.arange(0, GREY_MAX + 2, 2) - 0.5) * DB_PER_GREY  # bins of 2 levels (0.78 dB)


def free_space_gain_db(distance_m: np.ndarray, frequency_ghz: float) -> np.ndarray:
    """Free-space path gain, minus the free-space path loss 20 log10(d_m) + 20 log10(f_MHz) - 27.55 (FACTS §4)."""
    return -(20 * np.log10(distance_m) + 20 * math.log10(frequency_ghz * 1000) - 27.55)


def path_gain_figure(measured: Measurements) -> np.ndarray:
    """Share of street pixels per grey level in dB, bars coloured on the radio-map colour scale."""
    figure = new_figure(9, 4.8)
    axes = figure.subplots()
    counts = measured.grey_counts
    total = int(counts.sum())
    if total == 0:
        no_data(axes)
        return figure_rgb(figure)
    colours = radio_map_rgb(_LEVELS[None, :].astype(np.float64))[0] / 255.0
    share = 100 * counts[1:] / total
    axes.bar(grey_to_db(_LEVELS), share, width=DB_PER_GREY, color=colours, linewidth=0)
    floor = 100 * counts[0] / total
    axes.text(0.02, 0.95, f"at the floor ({GAIN_MIN_DB:.0f} dB or below): {floor:.1f}% of street pixels, not drawn",
              transform=axes.transAxes, va="top")  # fmt: skip
    axes.set(xlim=(GAIN_MIN_DB, GAIN_MAX_DB), xlabel=GAIN_LABEL, ylabel="share of street pixels [%]")
    axes.set_title(f"path gain of {len(measured.pairs)} radio maps ({total:,} street pixels)")
    return figure_rgb(figure)


def los_fraction_figure(measured: Measurements) -> np.ndarray:
    """Histogram of the line-of-sight fraction of the street pixels, one value per radio map."""
    figure = new_figure(7, 4.5)
    axes = figure.subplots()
    los = np.asarray(measured.los_fraction, dtype=np.float64)
    los = los[np.isfinite(los)]
    if los.size == 0:
        no_data(axes)
    else:
        axes.hist(los, bins=np.linspace(0, 1, 41), color="#4c72b0")
        axes.axvline(los.mean(), color="black", linestyle="--", label=f"mean {los.mean():.2f}")
        axes.legend()
    axes.set(xlabel="share of street pixels in line of sight of the transmitter", ylabel="radio maps")
    integer_ticks(axes.yaxis)
    axes.set_title(f"line-of-sight fraction per radio map ({los.size} radio maps)")
    return figure_rgb(figure)


def gain_los_figure(measured: Measurements) -> np.ndarray:
    """Path gain distributions of the tested street pixels in and out of line of sight."""
    figure = new_figure(8, 4.5)
    axes = figure.subplots()
    drawn = False
    for label, counts, colour in (("LOS", measured.los_grey_counts, "#55a868"),
                                  ("NLOS", measured.nlos_grey_counts, "#c44e52")):  # fmt: skip
        total = counts.sum()
        if total:
            floor = 100 * counts[0] / total
            above = np.concatenate([[0], counts[1:]])  # the floor is reported in the legend, not drawn
            axes.stairs(100 * _pairs_of_levels(above) / total, _PAIR_EDGES_DB, color=colour, linewidth=1.5,
                        label=f"{label}: {total:,} pixels, {floor:.0f}% at the floor")  # fmt: skip
            drawn = True
    if not drawn:
        no_data(axes)
        return figure_rgb(figure)
    axes.legend()
    axes.set(xlim=(GAIN_MIN_DB, GAIN_MAX_DB), xlabel=GAIN_LABEL, ylabel="share of the group's pixels [%]")
    axes.set_title("path gain in and out of line of sight")
    return figure_rgb(figure)


def gain_distance_figure(measured: Measurements, ground: Ground) -> np.ndarray:
    """2-D histogram of path gain against distance to the transmitter, with the median per distance and the
    free-space reference (absolute when the frequency is known, else the -20 dB/decade slope)."""
    figure = new_figure(9, 5.5)
    axes = figure.subplots()
    counts = _pairs_of_levels(measured.gain_distance_counts.T)  # (128 gain bins, distance bins); no floor pixels
    if counts.sum() == 0:
        no_data(axes)
        return figure_rgb(figure)
    from matplotlib.colors import LogNorm
    from matplotlib.patheffects import withStroke

    edges = measured.distance_edges_m
    mesh = axes.pcolormesh(edges, _PAIR_EDGES_DB, np.ma.masked_equal(counts, 0), norm=LogNorm(), cmap="viridis")
    figure.colorbar(mesh, ax=axes, label="pixels")
    centres = np.sqrt(edges[:-1] * edges[1:])
    median = _median_gain(counts)
    known = np.isfinite(median)  # small maps leave short-distance bins empty: join the bins that have pixels
    axes.plot(centres[known], median[known], color="white", linewidth=2, label="median gain",
              path_effects=[withStroke(linewidth=4, foreground="black")])  # fmt: skip
    _free_space_line(axes, centres, median, ground)
    axes.set(xscale="log", ylim=(GAIN_MIN_DB, GAIN_MAX_DB), ylabel=GAIN_LABEL)
    axes.set_xlabel(f"distance to the transmitter [m] ({ground.metres_per_pixel:g} m per pixel)")
    axes.set_title("path gain versus distance (street pixels above the floor)")
    axes.legend(loc="upper right")
    return figure_rgb(figure)


def _pairs_of_levels(counts: np.ndarray) -> np.ndarray:
    """Sum counts over pairs of grey levels (0-1, 2-3, ...): (256, ...) -> (128, ...), bins of _PAIR_EDGES_DB."""
    return counts.reshape(counts.shape[0] // 2, 2, *counts.shape[1:]).sum(axis=1)


def _median_gain(counts: np.ndarray) -> np.ndarray:
    """Median gain in dB per distance bin of a (gain bins, distance bins) count array; NaN for empty bins."""
    totals = counts.sum(axis=0)
    cumulative = np.cumsum(counts, axis=0)
    index = (cumulative < totals / 2).sum(axis=0).clip(0, counts.shape[0] - 1)
    centres = (_PAIR_EDGES_DB[:-1] + _PAIR_EDGES_DB[1:]) / 2
    return np.where(totals > 0, centres[index], np.nan)


def _free_space_line(axes: Any, distance_m: np.ndarray, median: np.ndarray, ground: Ground) -> None:
    """The free-space reference: absolute for a known frequency, else the slope through the first median."""
    if ground.frequency_ghz is not None:
        axes.plot(distance_m, free_space_gain_db(distance_m, ground.frequency_ghz), color="red", linestyle="--",
                  linewidth=1.5, zorder=3, label=f"free space at {ground.frequency_ghz:g} GHz")  # fmt: skip
        return
    first = int(np.argmax(np.isfinite(median)))
    anchor = median[first] - 20 * np.log10(distance_m / distance_m[first])  # free space falls 20 dB per decade
    axes.plot(distance_m, anchor, color="red", linestyle="--", linewidth=1.5, zorder=3,
              label="free-space slope (-20 dB/decade)")  # fmt: skip
