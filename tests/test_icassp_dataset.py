"""The ICASSP-layout dataset on a generated indoor set: the challenge split, items at their own sizes, tx-aware
crops, same-size batches, the baseline channel, and a request's condition built as the training data's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from evaluation.baselines import free_space_pattern_db
from radiodiff.config import Config, load
from radiodiff.data.datasets import build_split_datasets, map_loader, uncropped
from radiodiff.data.icassp.antenna import free_space_baseline_db
from radiodiff.data.icassp.batching import same_size_batches
from radiodiff.data.icassp.challenge import TASK_WEIGHTS, challenge_split
from radiodiff.data.icassp.dataset import RESIDUAL_OFFSET_DB, RESIDUAL_SPAN_DB, antenna_db_of, pathloss_db
from radiodiff.data.icassp.index import index_icassp
from radiodiff.data.icassp.writer import generate_indoor_dataset
from radiodiff.data.png_io import DataError
from radiodiff.data.transforms import denormalize
from radiodiff.errors import InputError
from radiodiff.prediction_request import indoor_request

SMALL_SET = (
    "data.layout=icassp generator.indoor_buildings=4 generator.indoor_min_side=40 generator.indoor_max_side=72 "
    "generator.indoor_tx_per_setting=2 generator.workers=1 data.crop_size=[32,32] data.crop_tx_margin=4 "
    "data.val_fraction=0.25 data.test_fraction=0.25"
)


@pytest.fixture(scope="module")
def indoor_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config]:
    config = load(None, SMALL_SET)
    root = tmp_path_factory.mktemp("indoor")
    generate_indoor_dataset(config.generator, root, progress=False)
    return root, config


def test_the_challenge_split_holds_out_one_value_per_test_map_and_names_its_task(indoor_root) -> None:
    root, config = indoor_root
    index = index_icassp(root)
    split, tasks = challenge_split(index.samples, config.data)
    data = config.data
    train_buildings = {s.building for s in split["train"]}
    assert all(s.frequency != data.held_out_frequency and s.antenna != data.held_out_antenna for s in split["train"])
    assert {s.building for s in split["val"]}.isdisjoint(train_buildings)
    assert all(s.frequency != data.held_out_frequency and s.antenna != data.held_out_antenna for s in split["val"])
    for position, sample in enumerate(split["test"]):
        held = [
            sample.building not in train_buildings,
            sample.frequency == data.held_out_frequency,
            sample.antenna == data.held_out_antenna,
        ]
        assert sum(held) == 1 and held.index(True) + 1 == tasks[position]
    assert set(tasks.values()) == set(TASK_WEIGHTS)
    with pytest.raises(DataError, match="needs at least 3 buildings"):
        challenge_split([s for s in index.samples if s.building < 3], data)
    one_antenna = [s for s in index.samples if s.antenna != data.held_out_antenna]
    with pytest.raises(DataError, match="leaves task 3 empty"):
        challenge_split(one_antenna, data)


def test_items_keep_their_size_the_antenna_channel_is_the_baseline_and_the_target_its_excess(indoor_root) -> None:
    root, config = indoor_root
    test = build_split_datasets(root, config.data)["test"]
    assert any(h != w for h, w in test.sizes)
    item = test[0]
    sample = test.samples[0]
    assert item["cond"].shape == (3, *sample.size) and item["target"].shape == (1, *sample.size)
    assert item["task"] in TASK_WEIGHTS
    expected = free_space_baseline_db(
        sample.size,
        sample.tx_row,
        sample.tx_col,
        sample.azimuth_deg,
        test.index.patterns[sample.antenna],
        sample.frequency_mhz,
    )
    antenna = antenna_db_of(item["cond"][None])
    np.testing.assert_allclose(free_space_pattern_db(item["cond"][None])[0, 0].numpy(), expected, atol=1e-3)
    truth_db = pathloss_db(denormalize(item["target"][None]), antenna)[0, 0].numpy()
    written = np.asarray(Image.open(sample.output_path), dtype=np.float32)
    within = written - expected <= RESIDUAL_SPAN_DB - RESIDUAL_OFFSET_DB  # larger excesses are clipped
    assert within.mean() > 0.99
    np.testing.assert_allclose(truth_db[within], written[within], atol=1e-3)


def test_training_crops_keep_the_transmitter_inside_the_margin_and_each_target_has_its_channels(indoor_root) -> None:
    root, config = indoor_root
    train = build_split_datasets(root, config.data, seed=3)["train"]
    margin = config.data.crop_tx_margin
    for i in range(0, len(train), 7):
        item = train[i]
        assert item["cond"].shape == (3, 32, 32)
        row, col = item["tx_pos"].tolist()
        assert margin <= row < 32 - margin and margin <= col < 32 - margin
    assert torch.equal(train[5]["cond"], train[5]["cond"])  # crops depend on (seed, epoch, item) only
    train.set_epoch(1)
    assert uncropped(train)[0]["cond"].shape[-2:] == train.samples[0].size
    for target, channels in (("building", 2), ("antenna", 1), ("radio", 1)):
        data = replace(config.data, target=target)
        item = build_split_datasets(root, data)["val"][0]
        assert item["target"].shape[0] == channels
        if target != "radio":
            start = 0 if target == "building" else 2
            assert torch.equal(item["target"], item["cond"][start : start + channels])


def test_mixed_sizes_are_batched_by_size_and_every_map_comes_once(indoor_root) -> None:
    root, config = indoor_root
    test = build_split_datasets(root, config.data)["test"]
    assert same_size_batches([(2, 3), (2, 3), (4, 4), (2, 3)], 2) == [[0, 1], [2], [3]]
    seen = []
    for batch in map_loader(test, 5):
        assert batch["cond"].shape[0] <= 5
        seen += batch["map_id"].tolist()
    assert sorted(seen) == sorted(test[i]["map_id"] for i in range(len(test)))


def test_an_indoor_request_is_checked_with_one_line_naming_the_input() -> None:
    image = np.zeros((2, 3, 20, 30), np.float32)
    image[:, 2] = 5.0
    request = indoor_request({"inputs": image, "antenna": [1, 2], "frequency_mhz": 868.0}, (1, 2))
    assert request.frequency_mhz.tolist() == [868.0, 868.0] and request.azimuth_deg.tolist() == [0.0, 0.0]
    channel_last = indoor_request({"inputs": np.moveaxis(image, 1, -1), "antenna": 1, "frequency_mhz": 868}, (1,))
    assert channel_last.inputs.shape == (2, 3, 20, 30)
    bad = {
        "antenna": ({"inputs": image, "antenna": [7, 1], "frequency_mhz": 868}, "input 'antenna' must hold pattern"),
        "frequency": ({"inputs": image, "antenna": 1, "frequency_mhz": 5}, "input 'frequency_mhz' must lie in"),
        "missing": ({"inputs": image, "antenna": 1}, "missing input 'frequency_mhz'"),
        "shape": ({"inputs": image[:, :2], "antenna": 1, "frequency_mhz": 868}, "input 'inputs' has shape"),
        "count": ({"inputs": image, "antenna": [1, 1, 1], "frequency_mhz": 868}, "holds 3 values; expected one per"),
    }
    for inputs, message in bad.values():
        with pytest.raises(InputError, match=message):
            indoor_request(inputs, (1, 2))
