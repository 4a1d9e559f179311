"""The condition image: its channels per setting, and the free-space physics prior."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from radiodiff.config import ConfigError, DataConfig
from radiodiff.data.condition import condition_channels, condition_image, free_space_prior, outdoor_only
from radiodiff.data.transforms import normalize


def test_the_prior_falls_from_the_transmitter_to_the_far_corner_like_free_space() -> None:
    prior = free_space_prior((10, 20), (64, 48))
    assert prior.shape == (64, 48) and prior.dtype == np.float32
    assert prior[10, 20] == pytest.approx(255.0)
    assert prior.min() > 0 and prior[63, 47] == prior.min()  # the farthest pixel; 0 would be a diagonal away
    along_row = prior[10, 20:]  # distances 0, 1, 2, ... pixels
    assert np.all(np.diff(along_row) < 0)
    decade = 255.0 / np.log10(1 + np.hypot(64, 48))  # grey levels per decade of 1 + d: Friis' straight line
    assert along_row[0] - along_row[9] == pytest.approx(decade, rel=1e-5)  # 1 + d from 1 to 10


def test_static_condition_carries_the_prior_in_its_third_channel_only_when_asked() -> None:
    buildings = np.zeros((32, 32), np.uint8)
    buildings[4:10, 4:12] = 255
    plain = condition_image(buildings, (20, 20), DataConfig())
    prior = condition_image(buildings, (20, 20), DataConfig(physics_prior=True))
    assert plain.shape == prior.shape == (condition_channels(DataConfig(physics_prior=True)), 32, 32)
    np.testing.assert_array_equal(plain[:2], prior[:2])
    np.testing.assert_array_equal(plain[2], plain[0])  # the paper's static condition repeats the buildings
    np.testing.assert_allclose(prior[2], normalize(free_space_prior((20, 20), (32, 32))))


def test_the_prior_is_refused_in_the_dynamic_setting() -> None:
    with pytest.raises(ConfigError, match="physics_prior"):
        DataConfig(setting="dynamic", physics_prior=True)


def test_predicted_maps_are_zero_in_the_conditions_buildings_and_untouched_elsewhere() -> None:
    buildings = np.zeros((16, 24), np.uint8)
    buildings[2:6, 3:9] = 255
    cond = torch.from_numpy(np.stack([condition_image(buildings, (12, 12), DataConfig())] * 2))
    maps = torch.rand(2, 1, 16, 24)
    kept = outdoor_only(maps, cond)
    inside = torch.from_numpy(buildings > 0)
    assert (kept[:, 0][:, inside] == 0).all()
    assert torch.equal(kept[:, 0][:, ~inside], maps[:, 0][:, ~inside])
