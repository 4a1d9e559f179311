"""Train/val/test splits of an ICASSP index, one per challenge task plus a random one (deterministic).

Task 1 holds out buildings, Task 2 frequencies, Task 3 antenna patterns (FACTS §4): every sample of a held-out
building / frequency / antenna lands in the same split. The held-out values are drawn by
`radiodiff.data.splits.leak_free_split` on the distinct values (seeded), or named explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from radiodiff.data.icassp.index import IcasspSample
from radiodiff.data.png_io import DataError
from radiodiff.data.splits import SPLIT_NAMES, leak_free_split

__all__ = ["TASK_GROUPS", "SplitGroup", "group_split", "held_out_split", "random_split"]

SplitGroup = Literal["building", "frequency", "antenna"]
TASK_GROUPS: dict[int, SplitGroup] = {1: "building", 2: "frequency", 3: "antenna"}
"""The field each challenge task holds out."""

Split = dict[str, list[IcasspSample]]


def group_split(
    samples: Sequence[IcasspSample],
    group: SplitGroup,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> Split:
    """Split by the values of `group`: a seeded leak-free split of its distinct values (>= 3 needed).

    Returns:
        {"train", "val", "test"} -> samples in index order; no value of `group` is in two splits.
    """
    values = sorted({_value(s, group) for s in samples})
    if len(values) < 3:
        raise DataError(f"a split by {group} needs at least 3 distinct values, got {values}")
    held = leak_free_split(values, val_fraction, test_fraction, seed)
    return held_out_split(samples, group, val=held["val"], test=held["test"])


def held_out_split(
    samples: Sequence[IcasspSample], group: SplitGroup, val: Sequence[int], test: Sequence[int]
) -> Split:
    """Split by named held-out values of `group` (e.g. test = frequency token 3, the 3.5 GHz maps).

    Returns:
        {"train", "val", "test"} -> samples in index order; train holds every other value.
    """
    if set(val) & set(test):
        raise DataError(f"held-out {group} values are in both val {list(val)} and test {list(test)}")
    out: Split = {name: [] for name in SPLIT_NAMES}
    for sample in sorted(samples, key=lambda s: s.key):
        value = _value(sample, group)
        out["val" if value in val else "test" if value in test else "train"].append(sample)
    empty = [name for name, part in out.items() if not part]
    if empty:
        raise DataError(f"split by {group} (val {list(val)}, test {list(test)}) leaves {', '.join(empty)} empty")
    return out


def random_split(
    samples: Sequence[IcasspSample], val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0
) -> Split:
    """A seeded random split of the samples themselves (buildings, frequencies and antennas shared).

    Returns:
        {"train", "val", "test"} -> samples in index order.
    """
    ordered = sorted(samples, key=lambda s: s.key)
    held = leak_free_split(range(len(ordered)), val_fraction, test_fraction, seed)
    return {name: [ordered[i] for i in held[name]] for name in SPLIT_NAMES}


def _value(sample: IcasspSample, group: SplitGroup) -> int:
    if group not in TASK_GROUPS.values():
        raise DataError(f"split group {group!r}; expected one of {sorted(TASK_GROUPS.values())}")
    return getattr(sample, group)
