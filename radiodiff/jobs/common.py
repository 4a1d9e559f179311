"""What the training jobs share: the data they train on, where they work, and how they find a checkpoint."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from torch.utils.data import Dataset, Subset

from radiodiff.config import Config, TrainConfig
from radiodiff.data.digest import dataset_digest, dataset_name
from radiodiff.data.generated import resolve_data_root
from radiodiff.data.radiomapseer import RadioMapSeerDataset, build_datasets
from radiodiff.paths import run_dir
from radiodiff.tracking import download_checkpoint
from radiodiff.training.checkpoint import STATE_FILE


@dataclass(frozen=True)
class TrainingData:
    """The data root, its splits and a digest of its contents (for the run's dataset input)."""

    root: Path
    splits: dict[str, RadioMapSeerDataset]
    digest: str

    @property
    def name(self) -> str:
        return dataset_name(self.root)


def prepare_data(config: Config, seed: int) -> TrainingData:
    """Resolve (and, for the embedded default, generate) the data root; build train/val/test."""
    root = resolve_data_root(config)
    splits = build_datasets(root, config.data, seed=seed)
    return TrainingData(root, splits, dataset_digest(splits["train"].index))  # one scan, shared by every split


def validation_maps(data: TrainingData, config: Config, train: TrainConfig) -> Dataset:
    """The validation maps the trainer scores (its first `val_batches` batches; all when 0), for baselines."""
    val = data.splits["val"]
    if train.val_batches == 0:
        return val
    return Subset(val, range(min(len(val), train.val_batches * config.data.batch_size)))


def whole_training_maps(data: TrainingData) -> Dataset:
    """The training maps at full `image_size`, uncropped (baselines are fitted on them and scored on whole
    validation maps, as val/* is, also when training on crops)."""
    train = data.splits["train"]
    if not train.crop:
        return train
    return RadioMapSeerDataset(data.root, train.config, "train", crop=False, index=train.index)


def find_checkpoint(run_id: str) -> Path | None:
    """The last checkpoint of a run: the local copy when complete, else the run's artifact; None if none."""
    local = run_dir(run_id) / "checkpoints" / "last"
    if (local / STATE_FILE).is_file():
        return local
    return download_checkpoint(run_id, "last", run_dir(run_id) / "downloaded")


def report_config_changes(requested: Config, checkpointed: Config) -> Config:
    """A resumed run continues with the config it started with; say which requested values are ignored."""
    old, new = checkpointed.flat(), requested.flat()
    changed = sorted(k for k in old if old[k] != new.get(k) and k != "data.data_dir")
    if changed:
        listing = ", ".join(f"{k}={new.get(k)!r} (kept {old[k]!r})" for k in changed)
        print(f"radiodiff: resuming with the run's own config; ignored: {listing}", file=sys.stderr)
    return checkpointed
