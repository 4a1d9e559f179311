"""Map-level splits: the public code's seed-42 split (with its known leak) and the leak-free default."""

from __future__ import annotations

import numpy as np
import pytest

from radiodiff.config import ConfigError, DataConfig
from radiodiff.data.png_io import DataError
from radiodiff.data.splits import leak_free_split, radiodiff_seed42_split, split_maps


def test_seed42_reproduces_the_public_split_and_its_leak() -> None:
    split = radiodiff_seed42_split(range(701))
    # The public code, verbatim in spirit: shuffle arange(700) with seed 42 and read map `entry + 1`.
    entries = np.arange(700)
    np.random.RandomState(42).shuffle(entries)
    public_maps = entries + 1
    assert public_maps[600] == 289
    assert split["train"] == sorted(public_maps[:601].tolist())
    assert split["test"] == sorted(public_maps[600:].tolist())
    assert len(split["train"]) == 601 and len(split["test"]) == 100
    assert set(split["train"]) & set(split["test"]) == {289}  # the known leak
    assert split["val"] == split["test"]  # the public code has no validation split
    assert 0 not in split["train"] + split["test"]  # `+ 1`: map 0 is never used
    assert set(split["train"]) | set(split["test"]) == set(range(1, 701))


def test_seed42_does_not_touch_the_global_numpy_rng() -> None:
    np.random.seed(7)
    expected = np.random.random()
    np.random.seed(7)
    radiodiff_seed42_split(range(701))
    assert np.random.random() == expected


@pytest.mark.parametrize("n", [1, 2, 3, 5, 32, 100])
def test_seed42_is_proportional_on_small_sets(n: int) -> None:
    split = radiodiff_seed42_split(range(n))
    assert split["train"] and split["test"] and split["val"] == split["test"]
    assert set(split["train"]) | set(split["test"]) == set(range(n))
    assert len(set(split["train"]) & set(split["test"])) == 1  # the same one-map overlap as the original


@pytest.mark.parametrize("n", [3, 4, 7, 10, 33, 701])
@pytest.mark.parametrize(("val", "test"), [(0.1, 0.1), (0.0, 0.0), (0.45, 0.45), (0.3, 0.05)])
def test_leak_free_splits_are_disjoint_non_empty_and_cover_all_maps(n: int, val: float, test: float) -> None:
    ids = list(range(100, 100 + n))
    split = leak_free_split(ids, val, test, seed=3)
    parts = [set(split[name]) for name in ("train", "val", "test")]
    assert all(parts)
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert parts[0] | parts[1] | parts[2] == set(ids)
    assert all(split[name] == sorted(split[name]) for name in split)


def test_leak_free_sizes_follow_the_fractions() -> None:
    split = leak_free_split(range(100), 0.1, 0.2, seed=0)
    assert [len(split[k]) for k in ("train", "val", "test")] == [70, 10, 20]


def test_leak_free_is_deterministic_per_seed() -> None:
    ids = list(range(50))
    assert leak_free_split(ids, seed=1) == leak_free_split(list(reversed(ids)), seed=1)
    assert leak_free_split(ids, seed=1) != leak_free_split(ids, seed=2)


def test_leak_free_needs_three_maps() -> None:
    with pytest.raises(DataError, match="needs at least 3 maps"):
        leak_free_split([4, 5])


def test_duplicate_map_ids_are_refused() -> None:
    with pytest.raises(DataError, match=r"duplicates: \[2\]"):
        leak_free_split([1, 2, 2, 3])


def test_split_maps_follows_the_config() -> None:
    ids = list(range(20))
    leak_free = DataConfig(split="leak_free", val_fraction=0.2, test_fraction=0.1, split_seed=5)
    assert split_maps(ids, leak_free) == leak_free_split(ids, 0.2, 0.1, 5)
    assert split_maps(ids, DataConfig(split="radiodiff_seed42")) == radiodiff_seed42_split(ids)
    with pytest.raises(ConfigError, match=r"split = 'bogus' is out of range; allowed: on the radiomapseer layout"):
        split_maps(ids, DataConfig(split="bogus"))  # the config refuses it already (a split of another layout too)
