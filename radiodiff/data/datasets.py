"""The datasets of a data root in either layout (`data.layout`), and loaders that batch maps of mixed sizes.

Both layouts' datasets yield the same item keys (`cond`, `target`, `buildings`, `tx_pos`, `map_id`, `tx_id`), so
every training task and the evaluation read them alike; what differs is the reader, the split and the digest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from torch.utils.data import DataLoader, Dataset

from radiodiff.config import DataConfig
from radiodiff.data.digest import dataset_digest
from radiodiff.data.icassp.batching import PAD_VALUE, same_size_batches
from radiodiff.data.icassp.dataset import IcasspDataset, build_icassp_datasets
from radiodiff.data.radiomapseer import RadioMapSeerDataset, build_datasets
from radiodiff.data.transforms import normalize
from radiodiff.models.padding import EMPTY

__all__ = ["MapDataset", "build_split_datasets", "digest_of", "first_stage_tiling", "map_loader", "uncropped"]

MapDataset = RadioMapSeerDataset | IcasspDataset


def build_split_datasets(root: str | Path, data: DataConfig, seed: int = 0) -> dict[str, MapDataset]:
    """{"train", "val", "test"} of a data root read in `data.layout` (crops on train when `data.crop_size` is set)."""
    if data.layout == "icassp":
        return build_icassp_datasets(root, data, seed=seed)
    return build_datasets(root, data, seed=seed)


def uncropped(dataset: MapDataset) -> MapDataset:
    """The same split at whole-map size (baselines are fitted and scored on whole maps, as val/* is)."""
    if not dataset.crop:
        return dataset
    if isinstance(dataset, IcasspDataset):
        return IcasspDataset(dataset.index, dataset.config, dataset.samples, tasks=dataset.tasks)
    return RadioMapSeerDataset(dataset.index.root, dataset.config, dataset.split, crop=False, index=dataset.index)


def digest_of(dataset: MapDataset) -> str:
    """SHA-256 (hex) of what the dataset's root holds (the run's dataset input digest)."""
    if isinstance(dataset, IcasspDataset):
        listing = "\n".join("_".join(map(str, s.key)) + f"_{s.size[0]}x{s.size[1]}" for s in dataset.index.samples)
        return hashlib.sha256(f"icassp\n{listing}".encode()).hexdigest()
    return dataset_digest(dataset.index)


def map_loader(dataset: Dataset, batch_size: int) -> DataLoader:
    """An in-order loader of `dataset`: batches of `batch_size`, or, for a dataset of mixed map sizes (`sizes`),
    batches of at most that many maps of one size (`same_size_batches`)."""
    sizes = getattr(dataset, "sizes", None)
    if sizes is None or len(set(sizes)) == 1:
        return DataLoader(dataset, batch_size=batch_size, shuffle=False)
    return DataLoader(dataset, batch_sampler=same_size_batches(sizes, batch_size))


def first_stage_tiling(data: DataConfig) -> tuple[tuple[int, int] | None, float]:
    """(tile, pad value) a first stage trained with this data config runs on (`radiodiff.models.tiled_codec`):
    the crop size of a crop-trained model (None: whole maps), and the value padded pixels take in training."""
    tile = tuple(data.crop_size) if data.crop_size is not None else None
    return tile, float(normalize(PAD_VALUE)) if data.layout == "icassp" else EMPTY
