"""RadioMapSeerDataset on tiny real layouts: item contract, settings, size errors and reproducible crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures_radiomapseer import write_png, write_radiomapseer
from torch.utils.data import DataLoader

from radiodiff.config import ConfigError, DataConfig
from radiodiff.data import DataError, RadioMapSeerDataset, build_datasets, read_grey_png
from radiodiff.data.transforms import normalize, resize_mask


def _config(**fields: object) -> DataConfig:
    return DataConfig(**{"image_size": (16, 24), "tx_radius": 0, **fields})  # one-pixel marker, as RadioMapSeer


def _check_item(item: dict, size: tuple[int, int]) -> None:
    assert item["cond"].shape == (3, *size) and item["cond"].dtype == torch.float32
    assert item["target"].shape == (1, *size) and item["target"].dtype == torch.float32
    assert item["buildings"].shape == (1, *size) and item["buildings"].dtype == torch.float32
    assert item["tx_pos"].shape == (2,) and item["tx_pos"].dtype == torch.long
    assert isinstance(item["map_id"], int) and isinstance(item["tx_id"], int)
    for key in ("cond", "target"):
        assert item[key].min() >= -1 and item[key].max() <= 1
    assert set(item["buildings"].unique().tolist()) <= {0.0, 1.0}
    row, col = item["tx_pos"].tolist()
    tx_channel = item["cond"][1]  # one +1 pixel at tx_pos on a -1 background
    assert tx_channel[row, col] == 1 and (tx_channel == 1).sum() == 1
    assert (tx_channel == -1).sum() == tx_channel.numel() - 1
    torch.testing.assert_close(item["cond"][0], item["buildings"][0] * 2 - 1)


def test_static_items(tmp_path: Path) -> None:
    positions = write_radiomapseer(tmp_path, maps=5, tx=3, size=(32, 48))
    dataset = RadioMapSeerDataset(tmp_path, _config(), "all")
    assert len(dataset) == 15 and not dataset.crop
    for i in range(len(dataset)):
        item = dataset[i]
        _check_item(item, (16, 24))
        assert torch.equal(item["cond"][0], item["cond"][2])  # [buildings, tx, buildings]
        row, col = positions[item["map_id"], item["tx_id"]]
        assert item["tx_pos"].tolist() == [row // 2, col // 2]


def test_dynamic_items_carry_the_car_mask(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=3, tx=2, size=32, cars=True, simulations=("carsDPM",))
    config = _config(setting="dynamic", simulation="carsDPM")
    item = RadioMapSeerDataset(tmp_path, config, "all")[3]
    _check_item(item, (16, 24))
    cars = read_grey_png(tmp_path / f"png/cars/{item['map_id']}.png")
    torch.testing.assert_close(item["cond"][2], torch.from_numpy(normalize(resize_mask(cars, (16, 24)))))


def test_maps_of_varying_source_size_are_resized(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=3, tx=1, size=32, sizes={1: (40, 64), 2: (16, 16)})
    dataset = RadioMapSeerDataset(tmp_path, _config(), "all")
    for i in range(len(dataset)):
        _check_item(dataset[i], (16, 24))


def test_image_of_the_wrong_size_is_named(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=1, tx=2, size=32)
    write_png(tmp_path / "gain/DPM/0_1.png", np.zeros((32, 30), np.uint8))
    dataset = RadioMapSeerDataset(tmp_path, _config(), "all")
    dataset[0]
    expected = r"gain/DPM/0_1\.png: size \(H, W\) = \(32, 30\) differs from \(32, 32\)"
    with pytest.raises(DataError, match=expected) as err:
        dataset[1]
    assert "\n" not in str(err.value) and "buildings_complete/0.png" in str(err.value)


def test_truncated_png_is_named_when_read(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=1, tx=1, size=32)
    path = tmp_path / "gain/DPM/0_0.png"
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(DataError, match=r"gain/DPM/0_0\.png: truncated or corrupt PNG"):
        RadioMapSeerDataset(tmp_path, _config(), "all")[0]


def test_empty_antenna_image_is_named(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=1, tx=1, size=16)
    write_png(tmp_path / "png/antennas/0_0.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(DataError, match=r"antennas/0_0\.png: antenna image is all zero"):
        RadioMapSeerDataset(tmp_path, _config(image_size=(16, 16)), "all")[0]


def test_build_datasets_uses_disjoint_maps_and_crops_train_only(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=10, tx=2, size=32)
    datasets = build_datasets(tmp_path, _config(crop_size=(12, 16), crop_tx_margin=3))
    maps = {name: {m for m, _ in ds.samples} for name, ds in datasets.items()}
    assert maps["train"] and maps["val"] and maps["test"]
    assert not (maps["train"] & maps["val"] or maps["train"] & maps["test"] or maps["val"] & maps["test"])
    assert datasets["train"].crop and not datasets["val"].crop
    _check_item(datasets["train"][0], (12, 16))
    _check_item(datasets["test"][0], (16, 24))
    batch = next(iter(DataLoader(datasets["train"], batch_size=4)))
    assert batch["cond"].shape == (4, 3, 12, 16) and batch["map_id"].shape == (4,)


def test_crops_keep_the_tx_inside_the_margin(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=4, tx=5, size=(32, 48), tx_border=6)
    dataset = RadioMapSeerDataset(tmp_path, _config(crop_size=(9, 13), crop_tx_margin=3), "all", crop=True)
    for epoch in range(5):
        dataset.set_epoch(epoch)
        for i in range(len(dataset)):
            item = dataset[i]
            _check_item(item, (9, 13))
            row, col = item["tx_pos"].tolist()
            assert 3 <= row <= 9 - 1 - 3 and 3 <= col <= 13 - 1 - 3


def test_crops_depend_only_on_seed_epoch_and_index(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=3, tx=4, size=32)
    config = _config(crop_size=(10, 12), crop_tx_margin=2)

    def crops(seed: int, epoch: int) -> list[torch.Tensor]:
        dataset = RadioMapSeerDataset(tmp_path, config, "all", crop=True, seed=seed)
        dataset.set_epoch(epoch)
        return [dataset[i]["target"] for i in reversed(range(len(dataset)))]  # order must not matter

    first = crops(seed=1, epoch=0)
    assert all(torch.equal(a, b) for a, b in zip(first, crops(seed=1, epoch=0), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, crops(seed=1, epoch=1), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, crops(seed=2, epoch=0), strict=True))


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=3, tx=1, size=16)
    with pytest.raises(ConfigError, match="split 'training' is not known"):
        RadioMapSeerDataset(tmp_path, _config(), "training")
    with pytest.raises(ConfigError, match=r"crop=True needs data\.crop_size"):
        RadioMapSeerDataset(tmp_path, _config(), "train", crop=True)
    dataset = RadioMapSeerDataset(tmp_path, _config(), "all")
    assert dataset[-1]["map_id"] == 2
    with pytest.raises(IndexError):
        dataset[3]
    static_index = dataset.index
    with pytest.raises(ConfigError, match="config asks for"):
        RadioMapSeerDataset(tmp_path, _config(simulation="IRT2"), "all", index=static_index)
