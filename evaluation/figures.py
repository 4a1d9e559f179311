"""Pictures of an evaluation: galleries of the best and worst maps, and error histograms."""

from __future__ import annotations

import io

import numpy as np

from radiodiff.data.gain_scale import GAIN_MAX_DB, GAIN_MIN_DB
from radiodiff.viz import error_rgb, radio_map_rgb

DB_RANGE = GAIN_MAX_DB - GAIN_MIN_DB  # dB spanned by the grey scale [0, 1] (FACTS §1)


def gallery(buildings: list[np.ndarray], truths: list[np.ndarray], predictions: list[np.ndarray]) -> np.ndarray:
    """Rows of buildings | truth | prediction | |error| on the fixed colour scales. Arrays (H, W) in [0, 1].

    Returns:
        (rows * H, 4 * W, 3) uint8.
    """
    rows = []
    for b, t, p in zip(buildings, truths, predictions, strict=True):
        mask = np.repeat((255 * (b > 0.5)).astype(np.uint8)[..., None], 3, axis=2)
        rows.append(
            np.concatenate([mask, radio_map_rgb(t, "unit"), radio_map_rgb(p, "unit"), error_rgb(abs(p - t))], 1)
        )
    return np.concatenate(rows, axis=0)


def error_histograms(pixel_errors_db: dict[str, np.ndarray], image_rmse_db: dict[str, np.ndarray]) -> np.ndarray:
    """Two panels: per-pixel signed error in dB and per-image RMSE in dB, one histogram per predictor.

    Args:
        pixel_errors_db: predictor name -> signed errors (prediction - truth) in dB of a pixel sample.
        image_rmse_db: predictor name -> per-image RMSE in dB.
    Returns:
        The figure as an (H, W, 3) uint8 image.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    for name, errors in pixel_errors_db.items():
        left.hist(errors, bins=80, range=(-40, 40), histtype="step", density=True, label=name)
    left.set(xlabel="prediction - truth (dB)", ylabel="density", title="per-pixel error")
    for name, values in image_rmse_db.items():
        right.hist(values, bins=30, histtype="step", label=name)
    right.set(xlabel="RMSE (dB)", ylabel="maps", title="per-map RMSE")
    for axes in (left, right):
        axes.legend()
        axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
