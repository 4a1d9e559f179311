"""A picture of a few samples of a data set in the RadioMapSeer layout: buildings | transmitter | radio map."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from radiodiff.data.gain_scale import GAIN_MAX_DB, GAIN_MIN_DB
from radiodiff.data.generator import layout
from radiodiff.data.layout import AUTO_SIMULATION, resolve_simulation
from radiodiff.viz import radio_map_rgb

__all__ = ["preview_panel"]

_GAP = 4  # pixels between tiles
_GAP_GREY = 96  # separators stand out from both the black streets and the white buildings
_TX_RGB = (255, 0, 255)
_BAR_HEIGHT = 28


def preview_panel(out_dir: Path, samples: int = 4) -> np.ndarray:
    """Rows of buildings | transmitter | radio map for `samples` radio maps spread over the data set.

    The radio maps are the root's own simulation (`data.simulation: auto`). They share one fixed colour scale
    (`radiodiff.viz.radio_map_rgb`, dB window of the grey scale), shown by the colour bar under the rows;
    buildings are white in every column.

    Args:
        out_dir: data root in the RadioMapSeer layout.
        samples: number of rows (>= 1).
    Returns:
        (H, W, 3) uint8 RGB image.
    """
    if samples < 1:
        raise ValueError(f"samples = {samples} must be >= 1")
    pairs = _pick(Path(out_dir), samples)
    rows = [_row(Path(out_dir), m, k) for m, k in pairs]
    width = rows[0].shape[1]
    gap = np.full((_GAP, width, 3), _GAP_GREY, dtype=np.uint8)
    parts = [part for row in rows for part in (row, gap)]
    return np.concatenate([*parts, _colour_bar(width)], axis=0)


def _pick(root: Path, samples: int) -> list[tuple[int, int]]:
    """(map, transmitter) pairs spread evenly over the radio maps present under `root`."""
    folder = layout.gain_dir(root, resolve_simulation(root, AUTO_SIMULATION))
    names = sorted(path.stem for path in folder.glob("*_*.png"))
    if not names:
        raise FileNotFoundError(f"no radio maps under {folder}")
    pairs = sorted((int(m), int(k)) for m, k in (name.split("_") for name in names))
    picks = np.linspace(0, len(pairs) - 1, num=min(samples, len(pairs))).round().astype(int)
    return [pairs[i] for i in picks]


def _row(root: Path, map_id: int, tx_id: int) -> np.ndarray:
    """One (H, 3W + 2 gaps, 3) row: buildings, the transmitter on dimmed buildings, the coloured radio map."""
    buildings = _read(layout.buildings_file(root, map_id))
    antenna = _read(layout.antenna_file(root, map_id, tx_id))
    grey = _read(layout.gain_file(root, map_id, tx_id, resolve_simulation(root, AUTO_SIMULATION)))
    city = np.repeat(buildings[:, :, None], 3, axis=2)
    tx = (city // 3).copy()
    for row, col in np.argwhere(antenna > 0):
        radius = max(2, buildings.shape[0] // 64)
        cv2.circle(tx, (int(col), int(row)), radius, _TX_RGB, thickness=-1)
    radio = radio_map_rgb(grey, scale="grey", buildings=buildings)
    gap = np.full((buildings.shape[0], _GAP, 3), _GAP_GREY, dtype=np.uint8)
    return np.concatenate([city, gap, tx, gap, radio], axis=1)


def _colour_bar(width: int) -> np.ndarray:
    """(_BAR_HEIGHT, width, 3) strip: the radio-map colour scale with its dB end points labelled."""
    ramp = np.tile(np.linspace(0, 255, width), (_BAR_HEIGHT // 2, 1))
    bar = np.concatenate([radio_map_rgb(ramp), np.zeros((_BAR_HEIGHT - ramp.shape[0], width, 3), np.uint8)])
    font, scale, white = cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255)
    baseline = _BAR_HEIGHT - 3
    cv2.putText(bar, f"{GAIN_MIN_DB:.0f} dB", (2, baseline), font, scale, white, 1, cv2.LINE_AA)
    label = f"{GAIN_MAX_DB:.0f} dB"
    (text_width, _), _ = cv2.getTextSize(label, font, scale, 1)
    cv2.putText(bar, label, (width - text_width - 2, baseline), font, scale, white, 1, cv2.LINE_AA)
    return bar


def _read(path: Path) -> np.ndarray:
    """Read a single-channel PNG as (H, W) uint8, naming the file if it is missing or unreadable."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"cannot read image {path}")
    if image.ndim != 2:
        raise ValueError(f"{path}: expected a single-channel image, got shape {image.shape}")
    return image
