"""The RadioMapSeer dataset: one sample per (map, transmitter) pair of a split (FACTS §1).

A sample is read from its PNG files, resized to `image_size`, optionally cut by a tx-aware random crop and
normalised to [-1, 1] as RadioDiff does. The condition is [buildings, tx, buildings] in the static setting
(SRM) and [buildings, tx, cars] in the dynamic one (DRM).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from radiodiff.config import ConfigError, DataConfig
from radiodiff.data.condition import condition_image
from radiodiff.data.layout import LayoutIndex, index_radiomapseer, resolve_simulation
from radiodiff.data.png_io import DataError, read_grey_png
from radiodiff.data.splits import SPLIT_NAMES, split_maps
from radiodiff.data.transforms import (
    crop,
    locate_tx,
    normalize,
    resize_map,
    resize_mask,
    sample_crop_window,
    scale_tx,
)

__all__ = ["DATASET_SPLITS", "RadioMapSeerDataset", "build_datasets"]

DATASET_SPLITS = (*SPLIT_NAMES, "all")

Sample = dict[str, torch.Tensor | int]


class RadioMapSeerDataset(Dataset):
    """(map, tx) samples of one split of a RadioMapSeer-layout data root.

    Items are dicts:
        cond: float32 (3, H, W) in [-1, 1] from `condition_image`: [buildings, tx, buildings] (static) or
            [buildings, tx, cars] (dynamic); the tx marker is drawn at output resolution (after any crop).
        target: float32 (1, H, W) in [-1, 1]: the radio map of `config.simulation`.
        buildings: float32 (1, H, W) in [0, 1]: the building mask (1 = building).
        tx_pos: int64 (2,): the transmitter's (row, col) in the output grid.
        map_id, tx_id: ints.
    (H, W) is `config.crop_size` when cropping, `config.image_size` otherwise.

    Crops are reproducible: the window of item i at epoch e depends only on (seed, e, i), so an exactly
    resumed run sees the same crops. Call `set_epoch(e)` before each epoch; DataLoader workers pick the
    epoch up when they are (re)started, so do not combine epoch-dependent crops with persistent_workers.
    """

    def __init__(
        self,
        root: str | Path,
        config: DataConfig,
        split: str = "train",
        *,
        crop: bool | None = None,
        seed: int = 0,
        index: LayoutIndex | None = None,
    ) -> None:
        """Scan the root (unless `index` is given) and select the maps of `split`.

        Args:
            root: data root in the RadioMapSeer layout.
            config: simulation, setting, image size, split and crop parameters.
            split: "train", "val", "test" or "all" (every map of the root).
            crop: random crops of `config.crop_size`; None means on for "train" when crop_size is set.
            seed: seed of the crop windows.
            index: a LayoutIndex of `root` already scanned for this simulation and setting (skips the scan).
        """
        if split not in DATASET_SPLITS:
            raise ConfigError(f"split {split!r} is not known; choose one of {list(DATASET_SPLITS)}")
        self.config = config
        self.split = split
        self.crop = crop if crop is not None else (split == "train" and config.crop_size is not None)
        if self.crop and config.crop_size is None:
            raise ConfigError("crop=True needs data.crop_size; it is null")
        if seed < 0:
            raise ConfigError(f"crop seed = {seed} is out of range; allowed: >= 0")
        self.seed = seed
        self.epoch = 0
        self.index = index if index is not None else index_radiomapseer(root, config.simulation, config.setting)
        simulation = resolve_simulation(root, config.simulation)
        if (self.index.simulation, self.index.setting) != (simulation, config.setting):
            raise ConfigError(
                f"index of {self.index.root} is for ({self.index.simulation}, {self.index.setting}); "
                f"config asks for ({simulation}, {config.setting})"
            )
        maps = self.index.map_ids if split == "all" else split_maps(self.index.map_ids, config)[split]
        if not maps:
            raise DataError(f"{self.index.root}: split {split!r} ({config.split}) has no maps")
        self.samples = [(m, k) for m in maps for k in self.index.tx_ids[m]]

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        """Select the crops of epoch `epoch` (they depend only on seed, epoch and item index)."""
        if epoch < 0:
            raise ValueError(f"epoch = {epoch} is out of range; allowed: >= 0")
        self.epoch = int(epoch)

    def __getitem__(self, i: int) -> Sample:
        """Read, resize, crop (if enabled) and normalise sample i; see the class docstring for the keys."""
        i = range(len(self.samples))[i]  # negative indices as usual; out of range raises IndexError
        map_id, tx_id = self.samples[i]
        channels, tx_pos = self._read_resized(map_id, tx_id)
        if self.crop:
            channels, tx_pos = self._random_crop(channels, tx_pos, i)
        buildings, gain, cars = channels
        return {
            "cond": torch.from_numpy(condition_image(buildings, tx_pos, self.config, cars)),
            "target": torch.from_numpy(normalize(gain[None])),
            "buildings": torch.from_numpy(buildings[None].astype(np.float32) / 255.0),
            "tx_pos": torch.tensor(tx_pos, dtype=torch.long),
            "map_id": map_id,
            "tx_id": tx_id,
        }

    def _read_resized(self, map_id: int, tx_id: int) -> tuple[list[np.ndarray], tuple[int, int]]:
        """[buildings, gain, cars] as uint8 (H, W) at `image_size` (cars None in the static setting), and the
        transmitter's position in that grid."""
        paths = [self.index.buildings_path(map_id), self.index.antenna_path(map_id, tx_id)]
        paths.append(self.index.gain_path(map_id, tx_id))
        if self.config.setting == "dynamic":
            paths.append(self.index.cars_path(map_id))
        buildings, antenna, gain, *cars = (read_grey_png(p) for p in paths)
        for path, image in zip(paths[1:], (antenna, gain, *cars), strict=True):
            if image.shape != buildings.shape:
                raise DataError(f"{path}: size (H, W) = {image.shape} differs from {buildings.shape} of {paths[0]}")
        try:
            source_pos = locate_tx(antenna)
        except ValueError as err:
            raise DataError(f"{paths[1]}: {err}") from None
        size = tuple(self.config.image_size)
        tx_pos = scale_tx(source_pos, buildings.shape, size)
        cars_image = resize_mask(cars[0], size) if cars else None
        return [resize_mask(buildings, size), resize_map(gain, size), cars_image], tx_pos

    def _random_crop(
        self, channels: list[np.ndarray | None], tx_pos: tuple[int, int], i: int
    ) -> tuple[list[np.ndarray | None], tuple[int, int]]:
        """Cut every channel with the tx-aware window of item i at the current epoch."""
        crop_size = tuple(self.config.crop_size)
        generator = np.random.default_rng([self.seed, self.epoch, i])
        size = tuple(self.config.image_size)
        top, left = sample_crop_window(tx_pos, size, crop_size, self.config.crop_tx_margin, generator)
        cut = [None if c is None else crop(c, top, left, crop_size) for c in channels]
        return cut, (tx_pos[0] - top, tx_pos[1] - left)


def build_datasets(root: str | Path, config: DataConfig, seed: int = 0) -> dict[str, RadioMapSeerDataset]:
    """The train, val and test datasets of a data root, scanning it once.

    Args:
        root: data root in the RadioMapSeer layout.
        config: the data section of the config (crops apply to train only).
        seed: seed of the training crops.
    Returns:
        {"train", "val", "test"} -> RadioMapSeerDataset.
    """
    index = index_radiomapseer(root, config.simulation, config.setting)
    return {name: RadioMapSeerDataset(root, config, name, seed=seed, index=index) for name in SPLIT_NAMES}
