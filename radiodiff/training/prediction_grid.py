"""The sample grid of a map predictor during training: one row per validation scene, fixed colour scales."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from radiodiff.data.transforms import denormalize
from radiodiff.viz import error_rgb, radio_map_rgb

__all__ = ["prediction_grid"]


def prediction_grid(batch: dict[str, Any], prediction: torch.Tensor) -> np.ndarray:
    """Rows of buildings | tx | truth | prediction | |error| as an (H, W, 3) uint8 picture.

    Args:
        batch: the scenes, with `cond` (B, C, H, W) and `target` (B, 1, H, W) in [-1, 1].
        prediction: (B, 1, H, W) maps on the [0, 1] grey scale.
    """
    prediction = prediction[:, 0].cpu().numpy()
    truth = denormalize(batch["target"])[:, 0].cpu().numpy()
    cond = denormalize(batch["cond"]).cpu().numpy()
    rows = []
    for c, t, p in zip(cond, truth, prediction, strict=True):
        grey = [np.repeat((255 * c[i])[..., None], 3, axis=2).astype(np.uint8) for i in (0, 1)]
        maps = [radio_map_rgb(t, scale="unit"), radio_map_rgb(p, scale="unit"), error_rgb(np.abs(p - t))]
        rows.append(np.concatenate(grey + maps, axis=1))
    return np.concatenate(rows, axis=0)
