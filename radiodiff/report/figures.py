"""The report's figures, each a function of run data returning PNG bytes (None when the run lacks the data).

Every figure with a step axis draws the run's markers: the VAE -> VAE-GAN switch of a train_vae run and
its resume points.
"""

from __future__ import annotations

import io

import numpy as np

from radiodiff.report.data import RunData, SampleImage, Series
from radiodiff.report.plotting import (
    PANEL_SIZE,
    WIDE_SIZE,
    Marker,
    draw_markers,
    figure_legend,
    log_scale_if_positive,
    new_figure,
    plot_series,
    style_axes,
    to_png,
)

LOSS_PREFIX = "train/loss"
SEPARATE_TRAIN_KEYS = ("train/lr", "train/samples_per_s")
"""train/* keys with a figure of their own (losses have theirs too); the rest go to the diagnostics."""
COMPARED_KEYS = ("train/loss", "val/rmse", "train/lr")


def loss_panels(run: RunData, markers: list[Marker]) -> bytes | None:
    """Every `train/loss*` key in its own panel, log y where all values are positive."""
    return _panels(run, run.keys(LOSS_PREFIX), markers, log=True)


def diagnostics(run: RunData, markers: list[Marker]) -> bytes | None:
    """The other training signals (gradient norm, adaptive GAN weight, NaN skips), one panel each."""
    keys = [k for k in run.keys("train/") if not k.startswith(LOSS_PREFIX) and k not in SEPARATE_TRAIN_KEYS]
    return _panels(run, keys, markers, log=False)


def normalised_losses(run: RunData, markers: list[Marker]) -> bytes | None:
    """Each loss divided by the magnitude of its first non-zero finite value, all on one axes."""
    keys = run.keys(LOSS_PREFIX)
    if not keys:
        return None
    figure, (ax,) = new_figure(1, size=WIDE_SIZE)
    scaled = {k: s for k, s in ((k, _normalised(run.metrics[k])) for k in keys) if s is not None}
    for key, series in scaled.items():
        plot_series(ax, series, label=key)
    log_scale_if_positive(ax, *scaled.values())
    draw_markers(ax, markers)
    style_axes(ax, "losses relative to their first value", "loss / |first loss|")
    figure_legend(figure, [ax])
    return to_png(figure)


def learning_rate(run: RunData, markers: list[Marker]) -> bytes | None:
    """The learning-rate schedule as applied (warm-up, decay, NaN-guard cuts)."""
    return _single(run, "train/lr", "learning rate", "lr", markers)


def throughput(run: RunData, markers: list[Marker]) -> bytes | None:
    """Training throughput over steps."""
    return _single(run, "train/samples_per_s", "throughput", "samples / s", markers)


def validation_panels(run: RunData, markers: list[Marker]) -> bytes | None:
    """Every `val/*` metric in its own panel; a `baseline/<name>_<metric>` value as a dashed level."""
    keys = run.keys("val/")
    if not keys:
        return None
    figure, axes = new_figure(len(keys))
    for ax, key in zip(axes, keys, strict=True):
        plot_series(ax, run.metrics[key], label="validation")
        for baseline in run.keys("baseline/"):
            if baseline.endswith("_" + key.split("/", 1)[1]):
                ax.axhline(run.metrics[baseline].last, color="tab:green", linestyle="--", linewidth=1, label=baseline)
        draw_markers(ax, markers)
        style_axes(ax, key)
    figure_legend(figure, axes)
    return to_png(figure)


def sample_progression(samples: list[SampleImage]) -> bytes | None:
    """The logged sample grids side by side, pixels shown as they were logged (no smoothing)."""
    if not samples:
        return None
    from PIL import Image

    images = [np.asarray(Image.open(io.BytesIO(s.png)).convert("RGB")) for s in samples]
    height, width = images[0].shape[:2]
    panel_height = 3.2
    size = (panel_height * width / height + 0.2, panel_height + 0.4)
    figure, axes = new_figure(len(images), columns=len(images), size=size)
    for ax, image, sample in zip(axes, images, samples, strict=True):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(f"step {sample.step}", fontsize=10)
        ax.set_axis_off()
    return to_png(figure)


def compare_curves(runs: list[RunData]) -> bytes | None:
    """train/loss, val/rmse and train/lr of several runs overlaid, one colour per run."""
    keys = [k for k in COMPARED_KEYS if any(k in run.metrics for run in runs)]
    if not keys:
        return None
    figure, axes = new_figure(len(keys), size=PANEL_SIZE)
    for ax, key in zip(axes, keys, strict=True):
        present = [run for run in runs if key in run.metrics]
        for index, run in enumerate(runs):
            if key in run.metrics:
                plot_series(ax, run.metrics[key], label=run.label, color=f"C{index}")
        if key != "train/lr":
            log_scale_if_positive(ax, *(run.metrics[key] for run in present))
        style_axes(ax, key)
    figure_legend(figure, axes)
    return to_png(figure)


def _panels(run: RunData, keys: list[str], markers: list[Marker], log: bool) -> bytes | None:
    """One panel per key (log y where positive when `log`), the markers on each."""
    if not keys:
        return None
    figure, axes = new_figure(len(keys))
    for ax, key in zip(axes, keys, strict=True):
        plot_series(ax, run.metrics[key])
        if log:
            log_scale_if_positive(ax, run.metrics[key])
        draw_markers(ax, markers)
        style_axes(ax, key)
    figure_legend(figure, axes)
    return to_png(figure)


def _single(run: RunData, key: str, title: str, ylabel: str, markers: list[Marker]) -> bytes | None:
    if key not in run.metrics:
        return None
    figure, (ax,) = new_figure(1, size=WIDE_SIZE)
    plot_series(ax, run.metrics[key])
    draw_markers(ax, markers)
    style_axes(ax, title, ylabel)
    figure_legend(figure, [ax])
    return to_png(figure)


def _normalised(series: Series) -> Series | None:
    """The series over |its first non-zero finite value|; None when it has none."""
    finite = series.finite().values
    nonzero = finite[finite != 0]
    if not nonzero.size:
        return None
    return Series(series.steps, series.values / abs(nonzero[0]), series.timestamps_ms)
