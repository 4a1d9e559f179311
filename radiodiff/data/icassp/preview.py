"""A picture of a few samples of a data set in the ICASSP layout: R | G | B | path loss, one row per sample.

R and G are stretched to their own maximum (their grey levels are small dB values), B to 0 .. its maximum;
the path loss uses the project's radio-map colour scale on 0 .. PATHLOSS_MAX_DB (strong = warm), shown by the
colour bar. Every tile is enlarged `zoom` times (nearest neighbour); rows of different widths are padded grey.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from radiodiff.data.icassp.index import IcasspIndex, index_icassp
from radiodiff.data.icassp.loader import load_sample
from radiodiff.data.icassp.scale import PATHLOSS_MAX_DB
from radiodiff.viz import radio_map_rgb

__all__ = ["indoor_preview_panel", "sample_row"]

_GAP = 4
_GAP_GREY = 96
_TX_RGB = (255, 0, 255)
_BAR_HEIGHT = 28


def indoor_preview_panel(root: Path | IcasspIndex, samples: int = 4, zoom: int = 2) -> np.ndarray:
    """Rows of R | G | B | path loss for `samples` samples spread over the index.

    Args:
        root: a data root in the ICASSP layout, or its index.
        samples: number of rows (>= 1).
        zoom: integer enlargement of every tile.
    Returns:
        (H, W, 3) uint8 RGB image.
    """
    if samples < 1:
        raise ValueError(f"samples = {samples} must be >= 1")
    index = root if isinstance(root, IcasspIndex) else index_icassp(root)
    picks = np.linspace(0, len(index.samples) - 1, num=min(samples, len(index.samples))).round().astype(int)
    rows = [sample_row(index, int(i), zoom) for i in picks]
    width = max(row.shape[1] for row in rows)
    parts = []
    for row in rows:
        pad = np.full((row.shape[0], width - row.shape[1], 3), _GAP_GREY, dtype=np.uint8)
        parts += [np.concatenate([row, pad], axis=1), np.full((_GAP, width, 3), _GAP_GREY, dtype=np.uint8)]
    return np.concatenate([*parts, _colour_bar(width)], axis=0)


def sample_row(index: IcasspIndex, position: int, zoom: int = 2) -> np.ndarray:
    """One (zoom H, 4 zoom W + 3 gaps, 3) row: R, G, B (transmitter marked) and the coloured path loss."""
    arrays = load_sample(index, index.samples[position])
    tiles = [_grey_rgb(channel) for channel in arrays.inputs]
    tiles.append(radio_map_rgb(1.0 - arrays.pathloss_db / PATHLOSS_MAX_DB, scale="unit"))
    tiles = [np.repeat(np.repeat(tile, zoom, axis=0), zoom, axis=1) for tile in tiles]
    centre = (int((arrays.tx_col + 0.5) * zoom), int((arrays.tx_row + 0.5) * zoom))
    cv2.circle(tiles[2], centre, max(2, zoom), _TX_RGB, thickness=-1)
    gap = np.full((tiles[0].shape[0], _GAP, 3), _GAP_GREY, dtype=np.uint8)
    return np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2], gap, tiles[3]], axis=1)


def _grey_rgb(channel: np.ndarray) -> np.ndarray:
    top = float(channel.max()) or 1.0
    grey = np.rint(channel / top * 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def _colour_bar(width: int) -> np.ndarray:
    """The path-loss colour scale, strong (0 dB) on the left, labelled at both ends."""
    ramp = np.tile(np.linspace(1.0, 0.0, width), (_BAR_HEIGHT // 2, 1))
    below = np.zeros((_BAR_HEIGHT - ramp.shape[0], width, 3), np.uint8)
    bar = np.concatenate([radio_map_rgb(ramp, scale="unit"), below])
    font, scale, white = cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255)
    cv2.putText(bar, "0 dB", (2, _BAR_HEIGHT - 3), font, scale, white, 1, cv2.LINE_AA)
    label = f"{PATHLOSS_MAX_DB:.0f} dB path loss"
    (text_width, _), _ = cv2.getTextSize(label, font, scale, 1)
    cv2.putText(bar, label, (width - text_width - 2, _BAR_HEIGHT - 3), font, scale, white, 1, cv2.LINE_AA)
    return bar
