"""Matplotlib figures drawn off screen into RGB arrays, and the dB colour bar every radio map carries.

Figures are built on `matplotlib.figure.Figure` with an Agg canvas attached inside `new_figure`: no pyplot, no
global backend switch, nothing happens at import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from radiodiff.data.gain_scale import GAIN_MAX_DB, GAIN_MIN_DB
from radiodiff.viz import DEFAULT_CMAP

__all__ = ["GAIN_LABEL", "figure_rgb", "gain_colourbar", "integer_ticks", "new_figure", "no_data"]

GAIN_LABEL = "path gain [dB]"
"""Axis label of every path-gain axis."""


def new_figure(width: float, height: float, dpi: int = 100) -> Any:
    """A matplotlib Figure of `width` x `height` inches with an Agg canvas and constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def figure_rgb(figure: Any) -> np.ndarray:
    """Render a figure from `new_figure`. Returns (H, W, 3) uint8 RGB."""
    figure.canvas.draw()
    rgba = np.asarray(figure.canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3])


def gain_colourbar(figure: Any, axes: Any, **options: Any) -> Any:
    """The radio-map colour scale (`radiodiff.viz.radio_map_rgb`) as a colour bar in dB next to `axes`."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    scale = ScalarMappable(norm=Normalize(GAIN_MIN_DB, GAIN_MAX_DB), cmap=DEFAULT_CMAP)
    return figure.colorbar(scale, ax=axes, label=GAIN_LABEL, **options)


def no_data(axes: Any, text: str = "no data") -> None:
    """Mark an empty panel instead of drawing an empty plot."""
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="grey")
    axes.set_xticks([])
    axes.set_yticks([])


def integer_ticks(axis: Any) -> None:
    """Whole-number ticks on an axis of counts (`axes.yaxis` or `axes.xaxis`)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))
