"""`radiodiff predict`: one radio map from a building PNG and a transmitter position, as PNG (dB colour bar) + .npy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radiodiff.data.gain_scale import grey_to_db
from radiodiff.data.png_io import read_grey_png
from radiodiff.errors import InputError
from radiodiff.inference import load_map_predictor
from radiodiff.viz import radio_map_figure


def predict_map(
    model_uri: str, buildings_png: Path, tx: tuple[int, int], out: Path, steps: int = 0, seed: int = 0
) -> Path:
    """Predict the radio map of one scene and write `<out>.png` (colour, dB bar) and `<out>.npy` (gain in dB).

    Args:
        model_uri: e.g. `models:/radiodiff@champion` or `models:/radiounet@champion`.
        buildings_png: building mask, non-zero inside buildings (any size).
        tx: transmitter (row, col) in the building image's pixels.
        out: output path without (or with) suffix.
    """
    buildings = read_grey_png(buildings_png)
    row, col = tx
    if not (0 <= row < buildings.shape[0] and 0 <= col < buildings.shape[1]):
        raise InputError(
            f"--tx {row},{col} lies outside {buildings_png} ({buildings.shape[0]} rows x {buildings.shape[1]} columns)"
        )
    tx_map = np.zeros(buildings.shape, np.float32)
    tx_map[row, col] = 1.0
    predictor = load_map_predictor(model_uri)  # RadioDiff or the RadioUNet baseline
    grey = predictor.predict((buildings > 0)[None].astype(np.float32), tx_map[None], steps or None, seed)[0]
    gain_db = np.where(buildings > 0, np.nan, grey_to_db(grey * 255))
    out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out.with_suffix(".npy"), gain_db.astype(np.float32))
    title = f"{model_uri}, tx ({row}, {col})"
    radio_map_figure(gain_db, title=title, tx=(row, col)).save(out.with_suffix(".png"))
    return out.with_suffix(".png")
