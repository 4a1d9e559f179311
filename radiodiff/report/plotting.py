"""Small matplotlib helpers shared by the report's figures: panels, curves, step markers, PNG bytes.

Figures are `matplotlib.figure.Figure` objects drawn on their own Agg canvas: no pyplot, no global backend
switch, nothing left open. matplotlib is imported when a figure is made, not when this module is.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from radiodiff.report.data import Series

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110
PANEL_SIZE = (4.3, 2.9)
"""Width, height of one panel in inches (about 470 x 320 px at DPI)."""
WIDE_SIZE = (9.5, 3.6)
LABEL_MINOR_DECADES = 1.0


@dataclass(frozen=True)
class Marker:
    """A vertical line at a step on every step-axis panel (phase switch, resume point)."""

    step: int
    label: str
    color: str
    linestyle: str


def new_figure(panels: int, columns: int = 3, size: tuple[float, float] = PANEL_SIZE) -> tuple[Figure, list[Axes]]:
    """A figure with `panels` axes on a grid of at most `columns` columns (empty cells hidden)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = max(1, min(columns, panels))
    rows = math.ceil(panels / columns)
    figure = Figure(figsize=(size[0] * columns, size[1] * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # the figure draws (and saves) through its own Agg canvas
    grid = figure.subplots(rows, columns, squeeze=False)
    axes = list(grid.ravel())
    for extra in axes[panels:]:
        extra.set_visible(False)
    return figure, axes[:panels]


def to_png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def plot_series(ax: Axes, series: Series, label: str | None = None, color: str | None = None) -> None:
    """A metric against its steps (dots when it has a single point, so it stays visible)."""
    style = {"marker": "o", "markersize": 3} if series.steps.size < 2 else {"linewidth": 1.4}
    ax.plot(series.steps, series.values, label=label, color=color, **style)


def log_scale_if_positive(ax: Axes, *series: Series) -> bool:
    """Log y when every finite value is positive, ticks as plain numbers (0.35, 1e-05); returns whether it did.

    Over less than `LABEL_MINOR_DECADES` decades the minor ticks are labelled too (else a narrow range, e.g.
    a loss between 0.9 and 1.3, would show one label or none).
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    values = np.concatenate([s.finite().values for s in series]) if series else np.array([])
    if not values.size or values.min() <= 0:
        return False
    ax.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:.3g}")
    ax.yaxis.set_major_formatter(plain)
    narrow = np.log10(values.max() / values.min()) < LABEL_MINOR_DECADES
    ax.yaxis.set_minor_formatter(plain if narrow else NullFormatter())
    return True


def draw_markers(ax: Axes, markers: list[Marker]) -> None:
    """Vertical lines at the markers' steps."""
    for marker in markers:
        ax.axvline(marker.step, color=marker.color, linestyle=marker.linestyle, linewidth=1.1, label=marker.label)


def style_axes(ax: Axes, title: str, ylabel: str = "", xlabel: str = "step") -> None:
    """Title, axis labels, small ticks and a light grid."""
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, alpha=0.3, which="both")


def figure_legend(figure: Figure, axes: list[Axes]) -> None:
    """One legend for the whole figure with each label once (markers repeat on every panel)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if seen:
        figure.legend(list(seen.values()), list(seen), loc="outside lower center", ncols=min(len(seen), 5), fontsize=8)
