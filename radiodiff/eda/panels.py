"""Pictures of individual samples: buildings | transmitter | radio map rows, and a gallery of radio maps, all on
the project's radio-map colour scale (`radiodiff.viz.radio_map_rgb`) with a dB colour bar."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from radiodiff.data.png_io import read_grey_png
from radiodiff.data.transforms import locate_tx
from radiodiff.eda.render import figure_rgb, gain_colourbar, new_figure, no_data
from radiodiff.eda.scan import DatasetScan
from radiodiff.viz import radio_map_rgb

__all__ = ["gallery_figure", "pick_spread", "sample_panels_figure"]

_TX_COLOUR = "magenta"


def pick_spread(pairs: Sequence[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """`count` pairs spread evenly over `pairs` (all of them when there are fewer)."""
    if not pairs or count < 1:
        return []
    picks = np.unique(np.linspace(0, len(pairs) - 1, num=min(count, len(pairs))).round().astype(int))
    return [pairs[i] for i in picks]


def sample_panels_figure(scan: DatasetScan, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """One row per pair: the building mask, the transmitter on the dimmed buildings, the coloured radio map."""
    rows = max(len(pairs), 1)
    figure = new_figure(10, 3.1 * rows)
    grid = np.asarray(figure.subplots(rows, 3, squeeze=False))
    if not pairs:
        for axes in grid.ravel():
            no_data(axes)
        return figure_rgb(figure)
    for row, (m, k) in zip(grid, pairs, strict=False):
        buildings, tx, grey = _read_sample(scan, m, k)
        row[0].imshow(buildings, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        row[1].imshow(buildings // 3, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        row[1].plot(tx[1], tx[0], marker="*", markersize=14, color=_TX_COLOUR, markeredgecolor="white")
        row[2].imshow(radio_map_rgb(grey, "grey", buildings=buildings), interpolation="nearest")
        row[0].set_ylabel(f"map {m}, tx {k}")
        for axes in row:
            axes.set_xticks([])
            axes.set_yticks([])
    for axes, title in zip(grid[0], ("buildings", "transmitter", f"radio map ({scan.simulation})"), strict=True):
        axes.set_title(title)
    gain_colourbar(figure, grid[:, 2].tolist(), shrink=0.9)
    figure.suptitle("samples (buildings white on the radio map)")
    return figure_rgb(figure)


def gallery_figure(scan: DatasetScan, pairs: Sequence[tuple[int, int]], columns: int = 4) -> np.ndarray:
    """A grid of radio maps on the fixed colour scale, transmitters starred, one shared dB colour bar."""
    rows = max(1, -(-len(pairs) // columns))
    figure = new_figure(2.6 * columns + 1.2, 2.6 * rows + 0.6)
    grid = np.asarray(figure.subplots(rows, columns, squeeze=False))
    for index, axes in enumerate(grid.ravel()):
        axes.set_xticks([])
        axes.set_yticks([])
        if index >= len(pairs):
            axes.set_axis_off()
            continue
        m, k = pairs[index]
        buildings, tx, grey = _read_sample(scan, m, k)
        axes.imshow(radio_map_rgb(grey, "grey", buildings=buildings), interpolation="nearest")
        axes.plot(tx[1], tx[0], marker="*", markersize=9, color=_TX_COLOUR, markeredgecolor="white")
        axes.set_title(f"map {m}, tx {k}", fontsize=9)
    if not pairs:
        no_data(grid[0, 0])
    gain_colourbar(figure, grid.ravel().tolist(), shrink=0.8)
    figure.suptitle(f"{scan.simulation} radio maps of the sample")
    return figure_rgb(figure)


def _read_sample(scan: DatasetScan, m: int, k: int) -> tuple[np.ndarray, tuple[float, float], np.ndarray]:
    """(buildings uint8 (H, W), tx (row, col), radio map uint8 (H, W)) of a pair that decoded before."""
    buildings = read_grey_png(scan.path(scan.buildings.files[m]))
    tx = locate_tx(read_grey_png(scan.path(scan.antennas.files[m, k])))
    grey = read_grey_png(scan.path(scan.gains[scan.simulation].files[m, k]))
    return buildings, tx, grey
