"""The project's single colour scale for radio maps (pure functions, arrays in, RGB uint8 out).

Every radio map, whatever produced it, is coloured on the same fixed dB window (`radiodiff.data.gain_scale`):
a colour means the same path gain in every image, never a per-image min-max.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Literal

import numpy as np
from PIL import Image

from radiodiff.data.gain_scale import GAIN_MAX_DB, GAIN_MIN_DB, GREY_MAX

__all__ = ["BUILDING_RGB", "DEFAULT_CMAP", "ERROR_CMAP", "ERROR_MAX", "error_rgb", "radio_map_figure", "radio_map_rgb"]

DEFAULT_CMAP = "turbo"
"""matplotlib colormap of radio maps: dark blue at the -147 dB floor, dark red at -47 dB."""
BUILDING_RGB = (255, 255, 255)
"""Colour of building pixels when a building mask is given."""

ERROR_CMAP = "magma"
"""matplotlib colormap of absolute errors."""
ERROR_MAX = 0.25
"""Absolute error (grey scale, [0, 1]) shown at full colour: errors are on one fixed scale too."""

Scale = Literal["grey", "unit", "db"]


def radio_map_rgb(
    grey_or_db: np.ndarray,
    scale: Scale = "grey",
    buildings: np.ndarray | None = None,
    cmap: str = DEFAULT_CMAP,
) -> np.ndarray:
    """Colour a radio map on the fixed RadioMapSeer window.

    Args:
        grey_or_db: (H, W) radio map; its unit is given by `scale`.
        scale: "grey" for grey levels 0..255, "unit" for grey levels / 255 (0..1, as models see them after
            un-normalising), "db" for path gain in dB (clipped to GAIN_MIN_DB .. GAIN_MAX_DB).
        buildings: optional (H, W) mask, non-zero inside buildings, painted BUILDING_RGB.
        cmap: name of a matplotlib colormap.
    Returns:
        (H, W, 3) uint8 RGB image.
    """
    values = np.asarray(grey_or_db, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"radio map must be (H, W), got shape {values.shape}")
    if scale == "grey":
        fraction = values / GREY_MAX
    elif scale == "unit":
        fraction = values
    elif scale == "db":
        fraction = (values - GAIN_MIN_DB) / (GAIN_MAX_DB - GAIN_MIN_DB)
    else:
        raise ValueError(f"scale = {scale!r}; allowed: 'grey', 'unit', 'db'")
    fraction = np.nan_to_num(fraction, nan=0.0, posinf=1.0, neginf=0.0)
    index = np.clip(np.rint(fraction * GREY_MAX), 0, GREY_MAX).astype(np.intp)
    rgb = _lookup_table(cmap)[index]
    if buildings is not None:
        if np.shape(buildings) != values.shape:
            raise ValueError(f"buildings has shape {np.shape(buildings)}, expected {values.shape}")
        rgb[np.asarray(buildings) != 0] = BUILDING_RGB
    return rgb


@lru_cache(maxsize=8)
def _lookup_table(cmap: str) -> np.ndarray:
    """(256, 3) uint8 colours of a matplotlib colormap (imported here: only colouring needs matplotlib)."""
    import matplotlib

    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise ValueError(f"unknown matplotlib colormap {cmap!r}") from None
    table = colormap(np.linspace(0.0, 1.0, GREY_MAX + 1))[:, :3]
    return np.rint(table * 255).astype(np.uint8)


def error_rgb(abs_error: np.ndarray, vmax: float = ERROR_MAX, cmap: str = ERROR_CMAP) -> np.ndarray:
    """Colour an (H, W) absolute-error map on the fixed scale 0 .. vmax (grey-scale units). Returns (H, W, 3)."""
    values = np.asarray(abs_error, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"error map must be (H, W), got shape {values.shape}")
    index = np.clip(np.rint(np.nan_to_num(values / vmax, nan=1.0) * GREY_MAX), 0, GREY_MAX).astype(np.intp)
    return _lookup_table(cmap)[index]


def radio_map_figure(
    gain_db: np.ndarray, title: str = "", tx: tuple[int, int] | None = None, cmap: str = DEFAULT_CMAP
) -> Image.Image:
    """A radio map in dB with its colour bar (the fixed window), buildings (NaN) in white, the tx as a cross.

    Args:
        gain_db: (H, W) path gain in dB; NaN marks buildings.
    Returns:
        The rendered figure as a PIL image.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colormap = matplotlib.colormaps[cmap].copy()
    colormap.set_bad("white")
    figure, axes = plt.subplots(figsize=(5.2, 4.4), dpi=110)
    shown = axes.imshow(np.ma.masked_invalid(gain_db), cmap=colormap, vmin=GAIN_MIN_DB, vmax=GAIN_MAX_DB)
    if tx is not None:
        axes.plot(tx[1], tx[0], marker="x", color="black", markersize=9, mew=2)
    figure.colorbar(shown, ax=axes, label="path gain (dB)")
    axes.set(title=title, xlabel="column (px)", ylabel="row (px)")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
