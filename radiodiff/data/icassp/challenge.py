"""The challenge split of an ICASSP index: one model, three test sets, one per task (FACTS §4).

The ICASSP 2025 challenge trains one model and scores it on maps that differ from every training map in one way:

    Task 1: a held-out building (seen antennas and frequencies)
    Task 2: the held-out frequency `data.held_out_frequency` (seen buildings and antennas)
    Task 3: the held-out antenna `data.held_out_antenna` (seen buildings and frequencies)

Buildings are held out by `radiodiff.data.splits.leak_free_split` on the building ids (seeded, `val_fraction` and
`test_fraction` of them, at least one each). A sample is

    train   building, antenna and frequency all training values
    val     a validation building, training antenna and frequency (an unseen building, as Task 1)
    test    exactly one held-out value: its task is the one that value names
    unused  two or more held-out values (a map no task asks for)

so no test or validation map shares its building, antenna and frequency with a training map, and the weighted
score 0.3 Task 1 + 0.3 Task 2 + 0.4 Task 3 (`TASK_WEIGHTS`) is the challenge's.
"""

from __future__ import annotations

from collections.abc import Sequence

from radiodiff.config import DataConfig
from radiodiff.data.icassp.index import IcasspSample
from radiodiff.data.icassp.splits import random_split
from radiodiff.data.png_io import DataError
from radiodiff.data.splits import SPLIT_NAMES, leak_free_split

__all__ = ["TASK_WEIGHTS", "challenge_split", "icassp_split", "task_of"]

TASK_WEIGHTS = {1: 0.3, 2: 0.3, 3: 0.4}
"""The challenge's weight of each task's RMSE in its score."""

Split = dict[str, list[IcasspSample]]


def task_of(sample: IcasspSample, test_buildings: Sequence[int], data: DataConfig) -> int:
    """The task whose test set a sample belongs to: 1, 2 or 3; 0 for a training-like sample (no value held out),
    -1 for one with two or more held-out values."""
    held = [
        task
        for task, is_held in (
            (1, sample.building in test_buildings),
            (2, sample.frequency == data.held_out_frequency),
            (3, sample.antenna == data.held_out_antenna),
        )
        if is_held
    ]
    return held[0] if len(held) == 1 else 0 if not held else -1


def challenge_split(samples: Sequence[IcasspSample], data: DataConfig) -> tuple[Split, dict[int, int]]:
    """The challenge split (module docstring).

    Args:
        samples: an index's samples.
        data: the held-out frequency and antenna, the val/test fractions of buildings and the split seed.
    Returns:
        (split, tasks): {"train", "val", "test"} -> samples in index order, and {i: task of split["test"][i]}.
    Raises:
        DataError: fewer than 3 buildings, or a split or a task that is left empty.
    """
    buildings = sorted({s.building for s in samples})
    if len(buildings) < 3:
        raise DataError(f"the challenge split needs at least 3 buildings, the data set has {buildings}")
    held = leak_free_split(buildings, max(data.val_fraction, 1e-9), max(data.test_fraction, 1e-9), data.split_seed)
    out: Split = {name: [] for name in SPLIT_NAMES}
    tasks: dict[int, int] = {}
    for sample in sorted(samples, key=lambda s: s.key):
        if sample.building in held["val"]:
            if task_of(sample, (), data) == 0:
                out["val"].append(sample)
            continue
        task = task_of(sample, held["test"], data)
        if task == 0:
            out["train"].append(sample)
        elif task > 0:
            tasks[len(out["test"])] = task
            out["test"].append(sample)
    empty = [name for name, part in out.items() if not part]
    missing = sorted(set(TASK_WEIGHTS) - set(tasks.values()))
    if empty or missing:
        what = ", ".join([*(f"split {n}" for n in empty), *(f"task {t}" for t in missing)])
        raise DataError(
            f"the challenge split (test buildings {held['test']}, frequency {data.held_out_frequency}, antenna "
            f"{data.held_out_antenna}) leaves {what} empty: the data set lacks those buildings, frequencies or antennas"
        )
    return out, tasks


def icassp_split(samples: Sequence[IcasspSample], data: DataConfig) -> tuple[Split, dict[int, int]]:
    """The split `data.split` names: leak_free (the challenge split) or random (no tasks)."""
    if data.split == "random":
        return random_split(samples, data.val_fraction, data.test_fraction, data.split_seed), {}
    return challenge_split(samples, data)
