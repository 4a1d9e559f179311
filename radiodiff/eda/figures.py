"""Figures of the data set's structure and geometry: counts, transmitter positions, building density, per-map
statistics. Each function returns an (H, W, 3) uint8 RGB image (`render.figure_rgb`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from radiodiff.data.gain_scale import GAIN_MIN_DB
from radiodiff.eda.issues import count_by_kind
from radiodiff.eda.measure import Measurements
from radiodiff.eda.render import GAIN_LABEL, figure_rgb, integer_ticks, new_figure, no_data
from radiodiff.eda.scan import DatasetScan

__all__ = ["building_density_figure", "per_map_figure", "structure_figure", "tx_heatmap_figure"]

_BAR = "#4c72b0"
_SECOND = "#dd8452"


def structure_figure(scan: DatasetScan, measured: Measurements) -> np.ndarray:
    """Files per layout folder, transmitters and radio maps per map, image sizes, inconsistencies by kind."""
    figure = new_figure(12, 8)
    files, per_map, sizes, issues = figure.subplots(2, 2).ravel()
    listings = [scan.buildings, scan.antennas, scan.cars, *scan.gains.values()]
    present = [listing for listing in listings if listing.present]
    names = [listing.folder for listing in present]
    bars = files.bar(range(len(present)), [len(listing.files) for listing in present], color=_BAR)
    files.bar_label(bars, fmt="{:,.0f}")
    files.set_xticks(range(len(present)), names, rotation=20, ha="right")
    files.set(title="files per folder", ylabel="files")
    _per_map_counts(per_map, scan)
    _size_bars(sizes, scan)
    _issue_bars(issues, [*scan.issues, *measured.issues])
    figure.suptitle(f"{scan.root.name}: structure of the data set (analysed simulation {scan.simulation})")
    return figure_rgb(figure)


def _per_map_counts(axes: Any, scan: DatasetScan) -> None:
    """Side-by-side bars: how many maps have n transmitters, and n radio maps of the analysed simulation."""
    antennas = Counter(Counter(m for m, _ in scan.antennas.files).values())
    radio = Counter(Counter(m for m, _ in scan.gains[scan.simulation].files).values())
    values = sorted(set(antennas) | set(radio))
    axes.set_title("files per map")
    if not values:
        no_data(axes)
        return
    x = np.arange(len(values))
    axes.bar(x - 0.2, [antennas[v] for v in values], width=0.4, color=_BAR, label="antenna files")
    axes.bar(x + 0.2, [radio[v] for v in values], width=0.4, color=_SECOND, label=f"{scan.simulation} radio maps")
    axes.set_xticks(x, [str(v) for v in values])
    axes.set_xlim(-0.8, len(values) - 0.2)  # a lone value keeps a narrow bar pair
    axes.set(xlabel="files of one map", ylabel="maps")
    integer_ticks(axes.yaxis)
    axes.legend()


def _size_bars(axes: Any, scan: DatasetScan) -> None:
    """Horizontal bars: number of sound files per (folder, image size)."""
    rows = []
    for listing in [scan.buildings, scan.antennas, scan.cars, *scan.gains.values()]:
        found = Counter(scan.headers[p].size for p in listing.files.values() if p in scan.headers)
        rows += [(f"{listing.folder}  {h}x{w}", n) for (h, w), n in sorted(found.items())]
    axes.set_title(f"image sizes (usual: {scan.usual_size})")
    if not rows:
        no_data(axes)
        return
    bars = axes.barh(range(len(rows)), [n for _, n in rows], color=_BAR)
    axes.bar_label(bars, fmt="{:,.0f}")
    axes.set_yticks(range(len(rows)), [label for label, _ in rows])
    axes.invert_yaxis()
    axes.margins(x=0.15)  # room for the bar labels
    axes.set_xlabel("files")


def _issue_bars(axes: Any, issues: list) -> None:
    """Horizontal bars of the inconsistencies by kind, or a note that there are none."""
    counts = count_by_kind(issues)
    axes.set_title(f"inconsistencies: {sum(counts.values())}")
    if not counts:
        no_data(axes, "none found")
        return
    bars = axes.barh(range(len(counts)), list(counts.values()), color="#c44e52")
    axes.bar_label(bars)
    axes.set_yticks(range(len(counts)), list(counts))
    axes.invert_yaxis()
    axes.margins(x=0.15)
    axes.set_xlabel("issues (list in stats.json)")
    integer_ticks(axes.xaxis)


def tx_heatmap_figure(measured: Measurements) -> np.ndarray:
    """2-D histogram of the transmitter positions of the sampled radio maps, in map-relative coordinates."""
    figure = new_figure(6.5, 5.5)
    axes = figure.subplots()
    positions = np.asarray(measured.tx_relative, dtype=np.float64).reshape(-1, 2)
    if positions.size == 0:
        no_data(axes)
    else:
        bins = int(np.clip(np.sqrt(len(positions) / 2), 8, 32))  # about two transmitters per cell on average
        counts, _, _ = np.histogram2d(positions[:, 0], positions[:, 1], bins=bins, range=[[0, 1], [0, 1]])
        image = axes.imshow(counts, extent=(0, 1, 1, 0), cmap="viridis", interpolation="nearest")
        figure.colorbar(image, ax=axes, label="transmitters per cell")
        axes.set(xlabel="column / W", ylabel="row / H")
    inside = 100 * float(np.mean(measured.tx_in_building)) if measured.tx_in_building else 0.0
    axes.set_title(f"transmitter positions ({len(positions)} radio maps, {inside:.0f}% inside buildings)")
    return figure_rgb(figure)


def building_density_figure(measured: Measurements) -> np.ndarray:
    """Histogram of the share of building pixels per map (every sound building mask)."""
    figure = new_figure(7, 4.5)
    axes = figure.subplots()
    density = np.asarray(list(measured.building_density.values()))
    if density.size == 0:
        no_data(axes)
    else:
        axes.hist(density, bins=np.linspace(0, 1, 41), color=_BAR)
        axes.axvline(density.mean(), color="black", linestyle="--", label=f"mean {density.mean():.2f}")
        axes.legend()
    axes.set(title=f"building density per map ({density.size} maps)", xlabel="share of building pixels")
    axes.set_ylabel("maps")
    integer_ticks(axes.yaxis)
    return figure_rgb(figure)


def per_map_figure(measured: Measurements) -> np.ndarray:
    """Per radio map: mean path gain and LOS fraction against the building density of its map."""
    figure = new_figure(12, 4.8)
    gain_axes, los_axes = figure.subplots(1, 2)
    density = np.array([measured.building_density.get(m, np.nan) for m, _ in measured.pairs])
    if density.size == 0:
        no_data(gain_axes)
        no_data(los_axes)
        return figure_rgb(figure)
    los = np.asarray(measured.los_fraction)
    points = gain_axes.scatter(density, measured.mean_gain_db, c=los, cmap="viridis", vmin=0, vmax=1, s=10)
    figure.colorbar(points, ax=gain_axes, label="LOS fraction")
    gain_axes.set(title="mean street gain per radio map", xlabel="building density of its map")
    gain_axes.set_ylabel(f"mean {GAIN_LABEL} (floor counts as {GAIN_MIN_DB:.0f})")
    los_axes.scatter(density, los, s=10, color=_BAR, alpha=0.6)
    los_axes.set(title="line of sight per radio map", xlabel="building density of its map", ylabel="LOS fraction")
    los_axes.set_ylim(-0.02, 1.02)
    return figure_rgb(figure)
