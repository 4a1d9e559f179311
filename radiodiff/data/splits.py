"""Map-level train/val/test splits: every transmitter of a map lands in the same split.

Pure functions of the map ids (and a seed): the same ids give the same split on every machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from radiodiff.config import ConfigError, DataConfig
from radiodiff.data.png_io import DataError

__all__ = ["SPLITS", "SPLIT_NAMES", "leak_free_split", "radiodiff_seed42_split", "split_maps"]

SPLIT_NAMES = ("train", "val", "test")

Split = dict[str, list[int]]

# Public RadioDiff code on RadioMapSeer: 700 shuffled positions; train = positions 0..600, test = 600..699.
_SEED42_POOL = 700
_SEED42_CUT = 600


def radiodiff_seed42_split(map_ids: Sequence[int]) -> Split:
    """The split of the public RadioDiff code, reproduced exactly on the 701-map RadioMapSeer set (FACTS §1).

    That code shuffles `arange(700)` with `np.random.seed(42)` and reads map `shuffled[i] + 1`, so map 0 is
    never used; train = entries 0..600 (601 maps), test = entries 600..699 (100 maps). Entry 600 (map 289) is
    in both: a known train/test leak, kept on purpose for comparability. The code has no validation split, so
    `val` is the test list.

    The recipe for N maps (exact for N == 701, proportional otherwise, e.g. on small generated sets): the pool
    is the sorted ids without the first one when N == 701 (the public code's `+ 1`), all of them otherwise;
    positions `arange(len(pool))` are shuffled with `RandomState(42)` (identical to `np.random.seed(42);
    np.random.shuffle`, without touching the global RNG); the cut is `round(600 / 700 * len(pool))` kept in
    [1, len(pool) - 1]; train = entries 0..cut, test = entries cut..end, so one map is always in both.

    Args:
        map_ids: the data set's map ids (any order; duplicates are an error).
    Returns:
        {"train", "val", "test"} -> sorted map ids.
    """
    ids = _sorted_unique(map_ids)
    pool = ids[1:] if len(ids) == _SEED42_POOL + 1 else ids
    if not pool:
        raise DataError(f"split 'radiodiff_seed42' needs at least 1 map to split, got {len(ids)}")
    order = np.arange(len(pool))
    np.random.RandomState(42).shuffle(order)
    cut = round(_SEED42_CUT * len(pool) / _SEED42_POOL)
    cut = min(max(cut, 1), len(pool) - 1) if len(pool) > 1 else 0
    shuffled = [pool[i] for i in order]
    test = sorted(shuffled[cut:])
    return {"train": sorted(shuffled[: cut + 1]), "val": list(test), "test": test}


def leak_free_split(
    map_ids: Sequence[int], val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0
) -> Split:
    """Disjoint train/val/test maps from a seeded shuffle (the default split).

    Held-out sizes are `round(fraction * N)`, at least one map each, and shrunk (larger one first) until at
    least one map is left for training; so every split is non-empty.

    Args:
        map_ids: the data set's map ids (any order; at least 3, no duplicates).
        val_fraction: share of maps for validation, in [0, 1).
        test_fraction: share of maps for testing, in [0, 1).
        seed: seed of the shuffle (`np.random.default_rng(seed).permutation`).
    Returns:
        {"train", "val", "test"} -> sorted map ids; together they are exactly `map_ids`.
    """
    ids = _sorted_unique(map_ids)
    if len(ids) < 3:
        raise DataError(f"split 'leak_free' needs at least 3 maps (one per split), got {len(ids)}: {ids}")
    for key, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= value < 1:
            raise ConfigError(f"{key} = {value!r} is out of range; allowed: 0 <= x < 1")
    n = len(ids)
    n_val = max(1, round(val_fraction * n))
    n_test = max(1, round(test_fraction * n))
    while n_val + n_test > n - 1:
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    shuffled = [ids[i] for i in np.random.default_rng(seed).permutation(n)]
    return {
        "train": sorted(shuffled[n_test + n_val :]),
        "val": sorted(shuffled[n_test : n_test + n_val]),
        "test": sorted(shuffled[:n_test]),
    }


def split_maps(map_ids: Sequence[int], config: DataConfig) -> Split:
    """The split named by `config.split`, with its parameters taken from the config.

    Args:
        map_ids: the data set's map ids.
        config: `split`, and for leak_free `val_fraction`, `test_fraction`, `split_seed`.
    Returns:
        {"train", "val", "test"} -> sorted map ids.
    """
    if config.split not in SPLITS:
        raise ConfigError(f"split = {config.split!r} is not allowed; choose one of {sorted(SPLITS)}")
    return SPLITS[config.split](map_ids, config)


def _sorted_unique(map_ids: Sequence[int]) -> list[int]:
    ids = sorted(int(m) for m in map_ids)
    duplicates = sorted({a for a, b in pairwise(ids) if a == b})
    if duplicates:
        raise DataError(f"map ids to split contain duplicates: {duplicates}")
    return ids


SPLITS: dict[str, Callable[[Sequence[int], DataConfig], Split]] = {
    "leak_free": lambda ids, c: leak_free_split(ids, c.val_fraction, c.test_fraction, c.split_seed),
    "radiodiff_seed42": lambda ids, _c: radiodiff_seed42_split(ids),
}
