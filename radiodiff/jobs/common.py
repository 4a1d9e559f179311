"""What the training jobs share: the data they train on, where they work, and how they find a checkpoint."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from torch.utils.data import Dataset, Subset

from evaluation.baselines import fit_free_space, free_space_pattern_rmse, free_space_rmse, mean_map_rmse
from radiodiff.config import Config, TrainConfig
from radiodiff.data.datasets import MapDataset, build_split_datasets, digest_of, uncropped
from radiodiff.data.digest import dataset_name
from radiodiff.data.generated import resolve_data_root
from radiodiff.paths import run_dir
from radiodiff.tracking import download_checkpoint
from radiodiff.training.checkpoint import install_checkpoint, load_state, verify_checkpoint
from radiodiff.training.checkpoint_manifest import CheckpointCorrupt
from radiodiff.training.checkpoint_recovery import recover_checkpoint


@dataclass(frozen=True)
class TrainingData:
    """The data root, its splits and a digest of its contents (for the run's dataset input)."""

    root: Path
    splits: dict[str, MapDataset]
    digest: str

    @property
    def name(self) -> str:
        return dataset_name(self.root)


def prepare_data(config: Config, seed: int) -> TrainingData:
    """Resolve (and, for the embedded default, generate) the data root; build train/val/test."""
    root = resolve_data_root(config)
    splits = build_split_datasets(root, config.data, seed=seed)
    return TrainingData(root, splits, digest_of(splits["train"]))  # one scan, shared by every split


def validation_maps(data: TrainingData, config: Config, train: TrainConfig) -> Dataset:
    """The validation maps the trainer scores (its first `val_batches` batches; all when 0), for baselines."""
    val = data.splits["val"]
    if train.val_batches == 0:
        return val
    return Subset(val, range(min(len(val), train.val_batches * train.batch_for(config.data))))


def map_baselines(data: TrainingData, config: Config, train: TrainConfig) -> dict[str, float]:
    """Free-space path loss fitted on the (whole) training maps, and the mean training map, scored on the
    validation maps that val/* is measured on (the step-0 `baseline/*` of the map predictors' runs)."""
    training, val = whole_training_maps(data), validation_maps(data, config, train)
    if config.data.layout == "icassp":  # free space with the antenna pattern, the condition's own channel
        return {"free_space_rmse": free_space_pattern_rmse(val)}
    return {
        "free_space_rmse": free_space_rmse(fit_free_space(training), val),
        "mean_map_rmse": mean_map_rmse(training, val),
    }


def whole_training_maps(data: TrainingData) -> Dataset:
    """The training maps at full `image_size`, uncropped (baselines are fitted on them and scored on whole
    validation maps, as val/* is, also when training on crops)."""
    return uncropped(data.splits["train"])


def find_checkpoint(run_id: str) -> Path | None:
    """The last whole checkpoint of a run, in place as <run_dir>/checkpoints/last; None when the run has none.

    The local copy comes first, a save interrupted by a crash completed or rolled back (`recover_checkpoint`; the
    same for `checkpoints/best`). When the local copy is damaged, the run's artifact copy `checkpoints/last`
    replaces it if that one verifies, with one warning line naming the damaged file. One process per machine.

    Raises:
        CheckpointCorrupt: no whole copy anywhere (the message names the damaged file).
    """
    checkpoints = run_dir(run_id) / "checkpoints"
    recover_checkpoint(checkpoints / "best")  # exported at the end: a swap the crash interrupted is finished too
    found, damage = recover_checkpoint(checkpoints / "last")
    if found is not None:
        if damage is not None:
            _warn(f"{damage}; resuming from another whole local copy (step {load_state(found).step})")
        return found
    return _artifact_copy(run_id, checkpoints / "last", damage)


def _artifact_copy(run_id: str, local: Path, damage: CheckpointCorrupt | None) -> Path | None:
    """The run's artifact `checkpoints/last`, verified and installed as `local`; None when the run logged none."""
    downloads = run_dir(run_id) / "downloaded"
    shutil.rmtree(downloads, ignore_errors=True)  # no stale file from an earlier download
    copy = download_checkpoint(run_id, "last", downloads)
    if copy is None:
        if damage is not None:
            raise CheckpointCorrupt(f"{damage}; run {run_id} has no artifact copy checkpoints/last to fall back to")
        return None
    try:
        step = verify_checkpoint(copy).step
    except FileNotFoundError as err:
        before = f"{damage}, and" if damage is not None else "no local copy, and"
        raise CheckpointCorrupt(f"run {run_id} has no whole checkpoint: {before} its artifact copy: {err}") from None
    if damage is not None:
        _warn(f"{damage}; resuming from the run's artifact copy checkpoints/last (step {step})")
    return install_checkpoint(copy, local)


def _warn(message: str) -> None:
    print(f"radiodiff: warning: {message}", file=sys.stderr)


def report_config_changes(requested: Config, checkpointed: Config) -> Config:
    """A resumed run continues with the config it started with; say which requested values are ignored."""
    old, new = checkpointed.flat(), requested.flat()
    changed = sorted(k for k in old if old[k] != new.get(k) and k != "data.data_dir")
    if changed:
        listing = ", ".join(f"{k}={new.get(k)!r} (kept {old[k]!r})" for k in changed)
        print(f"radiodiff: resuming with the run's own config; ignored: {listing}", file=sys.stderr)
    return checkpointed
