"""The ICASSP-layout dataset: one item per sample of a split, at the sample's own size or a tx-aware crop.

The condition is the challenge's reflectance and transmittance with the antenna channel A (free-space loss minus
the antenna gain toward each pixel, antenna.py) in place of the distance channel: it holds the transmitter's
position, the pattern, its azimuth and the frequency, the physics prior of the challenge's best entries. Each is a
grey level in dB (scale.py) normalised to [-1, 1] as RadioDiff normalises its maps
(`radiodiff.data.transforms.normalize`): A / 255 on the [0, 1] scale.

The radio map is learnt as its excess over free space with the pattern, the loss that the walls add,

    u = (L - A + RESIDUAL_OFFSET_DB) / RESIDUAL_SPAN_DB   clipped to [0, 1],     L = A + RESIDUAL_SPAN_DB u - OFFSET

(`excess_unit`, `pathloss_db`): the steep near-field of A (20 dB per decade of distance) is given exactly, and the
networks learn a field of wall shadows (0 .. ~55 dB on the generated data, 99.9th percentile). An RMSE on the
u scale times RESIDUAL_SPAN_DB is the path loss's RMSE in dB (A cancels), and the free-space-plus-pattern baseline
predicts u = OFFSET / SPAN everywhere. What a first stage learns (`data.target`) is this radio map (1 channel), the
building (R and G) or the antenna channel.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from radiodiff.config import ConfigError, DataConfig
from radiodiff.data.icassp.antenna import antenna_channel_db
from radiodiff.data.icassp.batching import PAD_VALUE
from radiodiff.data.icassp.challenge import icassp_split
from radiodiff.data.icassp.index import IcasspIndex, IcasspSample, index_icassp
from radiodiff.data.icassp.loader import load_sample
from radiodiff.data.icassp.scale import PATHLOSS_MAX_DB, PATHLOSS_MIN_DB
from radiodiff.data.splits import SPLIT_NAMES
from radiodiff.data.transforms import ArrayOrTensor, crop, denormalize, normalize, sample_crop_window

__all__ = [
    "GREY_DB",
    "RESIDUAL_OFFSET_DB",
    "RESIDUAL_SPAN_DB",
    "TARGET_CHANNELS",
    "IcasspDataset",
    "antenna_db_of",
    "build_icassp_datasets",
    "condition_from_inputs",
    "excess_unit",
    "pathloss_db",
]

GREY_DB = 255.0
"""dB per unit of the condition channels' [0, 1] scale (grey level = dB, FACTS §4)."""
RESIDUAL_OFFSET_DB = 1.0
"""Added to L - A before scaling: the rounded, clipped maps lie down to 0.5 dB below A."""
RESIDUAL_SPAN_DB = 80.0
"""dB per unit of the radio map's [0, 1] scale (the excess over free space; larger excesses are clipped)."""
TARGET_CHANNELS = {"radio": 1, "building": 2, "antenna": 1}
"""Channels of each `data.target` (a first stage's `vae.in_channels`)."""
_TARGET_SLICES = {"building": slice(0, 2), "antenna": slice(2, 3)}


def excess_unit(pathloss_db: ArrayOrTensor, antenna_db: ArrayOrTensor) -> ArrayOrTensor:
    """Path loss (dB) and antenna channel (dB, clipped as in the condition) -> the radio map's [0, 1] scale."""
    unit = (pathloss_db - antenna_db + RESIDUAL_OFFSET_DB) / RESIDUAL_SPAN_DB
    return unit.clip(0, 1)


def pathloss_db(unit: ArrayOrTensor, antenna_db: ArrayOrTensor) -> ArrayOrTensor:
    """The inverse of `excess_unit`: path loss in dB, clipped to the output range PATHLOSS_MIN_DB .. MAX_DB."""
    return (antenna_db + RESIDUAL_SPAN_DB * unit - RESIDUAL_OFFSET_DB).clip(PATHLOSS_MIN_DB, PATHLOSS_MAX_DB)


def antenna_db_of(cond: torch.Tensor) -> torch.Tensor:
    """The antenna channel A in dB (B, 1, H, W) of condition images (B, 3, H, W): also the free-space-plus-pattern
    prediction of the path loss."""
    return GREY_DB * denormalize(cond[:, 2:3])


def condition_from_inputs(reflectance: np.ndarray, transmittance: np.ndarray, antenna_db: np.ndarray) -> np.ndarray:
    """The (3, H, W) float32 condition in [-1, 1]: [reflectance, transmittance, antenna channel], each in dB.

    The antenna channel is clipped to the output's range PATHLOSS_MIN_DB .. PATHLOSS_MAX_DB (scale.py) first, so it
    is also the free-space-plus-pattern prediction of the map on the map's own scale.
    """
    antenna = np.clip(antenna_db, PATHLOSS_MIN_DB, PATHLOSS_MAX_DB)
    return normalize(np.stack([reflectance, transmittance, antenna]).astype(np.float32))


class IcasspDataset(Dataset):
    """The samples of one split of an ICASSP-layout data root.

    Items are dicts:
        cond: float32 (3, H, W) in [-1, 1] (`condition_from_inputs`).
        target: float32 (C, H, W) in [-1, 1]: the radio map (`excess_unit`), cond[:2] (building) or cond[2:]
            (antenna).
        buildings: float32 (1, H, W): 1 on walls (transmittance > 0), for sample grids.
        tx_pos: int64 (2,) the transmitter's (row, col); map_id: the sample's position in the index (unique);
        tx_id: its S number; building, antenna, frequency (token), task (its test task, 0 outside the test split).
    (H, W) is the sample's own size, or `data.crop_size` for tx-aware random crops (a map smaller than the crop is
    padded with PAD_VALUE first). Crops depend only on (seed, epoch, item), as RadioMapSeerDataset's.
    """

    def __init__(
        self,
        index: IcasspIndex,
        config: DataConfig,
        samples: list[IcasspSample],
        *,
        crop: bool = False,
        seed: int = 0,
        tasks: dict[int, int] | None = None,
    ) -> None:
        if crop and config.crop_size is None:
            raise ConfigError("crop=True needs data.crop_size; it is null")
        self.index, self.config, self.samples = index, config, samples
        self.crop, self.seed, self.epoch = crop, seed, 0
        self.tasks = tasks or {}
        self._ordinal = {s.key: i for i, s in enumerate(index.samples)}

    def __len__(self) -> int:
        return len(self.samples)

    def set_epoch(self, epoch: int) -> None:
        """Select the crops of epoch `epoch`."""
        self.epoch = int(epoch)

    @cached_property
    def sizes(self) -> list[tuple[int, int]]:
        """(H, W) of every item (`same_size_batches` groups items by it)."""
        if self.crop:
            return [tuple(self.config.crop_size)] * len(self.samples)
        return [s.size for s in self.samples]

    def __getitem__(self, i: int) -> dict[str, Any]:
        i = range(len(self.samples))[i]
        sample = self.samples[i]
        arrays = load_sample(self.index, sample)
        antenna = antenna_channel_db(
            sample.size, sample.tx_row, sample.tx_col, sample.azimuth_deg, arrays.pattern_dbi, arrays.frequency_mhz
        )
        planes = np.stack([arrays.inputs[0], arrays.inputs[1], antenna, arrays.pathloss_db])  # dB, (4, H, W)
        tx_pos = (round(sample.tx_row), round(sample.tx_col))
        if self.crop:
            planes, tx_pos = self._random_crop(planes, tx_pos, i)
        cond = condition_from_inputs(planes[0], planes[1], planes[2])
        padded = planes[1] == PAD_VALUE
        if self.config.target == "radio":
            antenna = np.clip(planes[2], PATHLOSS_MIN_DB, PATHLOSS_MAX_DB)
            target = normalize(255.0 * excess_unit(planes[3], antenna)[None])
        else:
            target = cond[_TARGET_SLICES[self.config.target]]
        return {
            "cond": torch.from_numpy(np.where(padded, normalize(PAD_VALUE), cond).astype(np.float32)),
            "target": torch.from_numpy(np.where(padded, normalize(PAD_VALUE), target).astype(np.float32)),
            "buildings": torch.from_numpy((planes[1:2] > 0).astype(np.float32)),
            "tx_pos": torch.tensor(tx_pos, dtype=torch.long),
            "map_id": self._ordinal[sample.key],
            "tx_id": sample.sample,
            "building": sample.building,
            "antenna": sample.antenna,
            "frequency": sample.frequency,
            "task": self.tasks.get(i, 0),
        }

    def _random_crop(self, planes: np.ndarray, tx_pos: tuple[int, int], i: int) -> tuple[np.ndarray, tuple[int, int]]:
        """The tx-aware window of item i at the current epoch (the map padded to the crop size if smaller)."""
        crop_size = tuple(self.config.crop_size)
        height, width = max(planes.shape[1], crop_size[0]), max(planes.shape[2], crop_size[1])
        if (height, width) != planes.shape[1:]:
            grown = np.full((planes.shape[0], height, width), PAD_VALUE, dtype=np.float32)
            grown[:, : planes.shape[1], : planes.shape[2]] = planes
            planes = grown
        generator = np.random.default_rng([self.seed, self.epoch, i])
        top, left = sample_crop_window(tx_pos, (height, width), crop_size, self.config.crop_tx_margin, generator)
        return crop(planes, top, left, crop_size), (tx_pos[0] - top, tx_pos[1] - left)


def build_icassp_datasets(root: str | Path, config: DataConfig, seed: int = 0) -> dict[str, IcasspDataset]:
    """The train, val and test datasets of an ICASSP-layout root (`data.split`), scanning it once; train is cut in
    tx-aware crops when `data.crop_size` is set."""
    index = index_icassp(root)
    split, tasks = icassp_split(index.samples, config)
    return {
        name: IcasspDataset(
            index,
            config,
            split[name],
            crop=name == "train" and config.crop_size is not None,
            seed=seed,
            tasks=tasks if name == "test" else None,
        )
        for name in SPLIT_NAMES
    }
