"""The condition image of a scene, as the UNet sees it: one function for the data set and for every predictor.

Static setting (SRM): [buildings, tx, buildings]; dynamic setting (DRM): [buildings, tx, cars] (FACTS §1),
each channel on RadioMapSeer's grey levels (255 inside a building, a car or the transmitter marker), then
normalised to [-1, 1] as RadioDiff does. With `data.physics_prior` the static setting's third channel (a second
copy of the buildings) carries the free-space path gain's shape around the transmitter instead, a physics prior
as in RadioDiff-k2 and the ICASSP 2025 challenge entries.
"""

from __future__ import annotations

import numpy as np
import torch

from radiodiff.config import DataConfig
from radiodiff.data.transforms import normalize, render_tx

__all__ = ["CONDITION_INPUTS", "condition_channels", "condition_image", "needs_cars", "outdoor_only"]

CONDITION_INPUTS = {"static": ("buildings", "tx"), "dynamic": ("buildings", "tx", "cars")}
"""The scene inputs a model of each setting takes (the predictor's and the served model's input names)."""


def needs_cars(data: DataConfig) -> bool:
    """Whether a model trained with this data config takes a car mask (the dynamic setting)."""
    return data.setting == "dynamic"


def condition_channels(data: DataConfig) -> int:
    """The number of channels `condition_image` returns for this data config (a network's input width)."""
    return 3


def free_space_prior(tx_pos: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """float32 (H, W) grey levels in 0..255: the shape of the free-space path gain around the transmitter.

    Free space loses 20 log10(d) dB (Friis), a straight line in log10(d) on the maps' dB grey scale, so the channel
    is 255 (1 - log10(1 + d) / log10(1 + D)) with d the distance in pixels and D the grid's diagonal: 255 at the
    transmitter, 0 a diagonal away (never reached). The network learns the slope and offset of the data, as the
    fitted free-space baseline (evaluation/baselines.py) does.
    """
    rows, cols = np.indices(size, dtype=np.float32)
    distance = np.hypot(rows - tx_pos[0], cols - tx_pos[1])
    diagonal = float(np.hypot(*size))
    return (255.0 * (1.0 - np.log10(1.0 + distance) / np.log10(1.0 + diagonal))).astype(np.float32)


def condition_image(
    buildings: np.ndarray, tx_pos: tuple[int, int], data: DataConfig, cars: np.ndarray | None = None
) -> np.ndarray:
    """The (3, H, W) float32 condition in [-1, 1] of one scene.

    Args:
        buildings: uint8 (H, W) building mask, 255 inside buildings, 0 outside.
        tx_pos: the transmitter's integer (row, col) in this grid; drawn as a disc of `data.tx_radius`.
        data: the model's data config (its setting and marker radius).
        cars: uint8 (H, W) car mask, required in the dynamic setting, ignored in the static one.
    Returns:
        float32 (3, H, W): [buildings, tx, buildings] (static; [buildings, tx, free_space_prior] with
        `data.physics_prior`) or [buildings, tx, cars] (dynamic).
    Raises:
        ValueError: a dynamic-setting condition without `cars`, or a car mask of another size.
    """
    marker = render_tx(tx_pos, buildings.shape, data.tx_radius)
    if not needs_cars(data):
        third = free_space_prior(tx_pos, buildings.shape) if data.physics_prior else buildings
        return normalize(np.stack([buildings, marker, third]))
    if cars is None:
        raise ValueError("the dynamic setting needs a car mask (input 'cars')")
    if cars.shape != buildings.shape:
        raise ValueError(f"cars {cars.shape} and buildings {buildings.shape} differ in size")
    return normalize(np.stack([buildings, marker, cars]))


def outdoor_only(maps: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """Predicted maps with every building cell set to 0, where the data's maps are 0 by definition (FACTS §1).

    The building layout is an input, so a predictor knows these cells exactly; the fitted free-space baseline
    (evaluation/baselines.py) writes them the same way. Every model type's predictions go through here.

    Args:
        maps: (B, 1, H, W) radio maps on the [0, 1] grey scale.
        cond: (B, C, H, W) condition images from `condition_image` (channel 0: the buildings, 1 inside).
    Returns:
        (B, 1, H, W) maps, 0 wherever cond's building channel is.
    """
    return maps * (cond[:, :1] < 0).to(maps.dtype)
