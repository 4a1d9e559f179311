"""The RadioUNet baseline's network and task: shapes for one and two stages, any map size, a pinned output,
the config's checks, overfitting one batch through the task's own loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from radiodiff.config import ConfigError, DataConfig, RadioUNetConfig, load
from radiodiff.data.condition import condition_channels, condition_image
from radiodiff.data.transforms import normalize
from radiodiff.models.radiounet import RadioUNet
from radiodiff.radiounet_predictor import unet_maps
from radiodiff.training.radiounet_task import RadioUNetTask

TINY = RadioUNetConfig(channels=8, channel_mult=(1, 2, 4), convs_per_level=1)
PAPER = RadioUNetConfig(stages=2, channels=64, channel_mult=(1, 2, 4, 8, 8), convs_per_level=2)
GOLDEN_SUM = -14.133550768718123  # torch 2.14.1, CPU


@pytest.mark.parametrize("stages", [1, 2])
def test_every_stage_maps_the_condition_to_a_map_of_its_size(stages: int) -> None:
    net = RadioUNet(RadioUNetConfig(stages=stages, channels=8, channel_mult=(1, 2, 4)), in_channels=3)
    assert net.multiple == 4
    assert net(torch.randn(2, 3, 16, 24)).shape == (2, stages, 16, 24)
    assert len(net.stages) == stages
    if stages == 2:  # RadioUNet_C: the second UNet takes the input and the first one's map
        assert net.stages[1].encoder[0][0].in_channels == 4


def test_the_width_of_the_input_comes_from_the_data_config() -> None:
    data = DataConfig()
    net = RadioUNet(TINY, condition_channels(data))
    assert net.in_channels == condition_channels(data)
    with pytest.raises(ValueError, match=r"expected \(B, 3, H, W\) with H and W multiples of 4"):
        net(torch.randn(1, 2, 16, 16))
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.randn(1, 3, 18, 16))


@pytest.mark.parametrize("size", [(21, 35), (64, 40), (8, 8)])
def test_maps_of_any_size_are_padded_and_cropped_back(size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = RadioUNet(TINY, in_channels=3).eval()
    cond = torch.rand(2, 3, *size) * 2 - 1
    maps = unet_maps(net, cond)
    assert maps.shape == (2, 1, *size)
    assert maps.min() >= 0 and maps.max() <= 1
    assert (maps[cond[:, :1] > 0] == 0).all() and (maps[cond[:, :1] < 0] > 0).any()  # 0 in buildings only
    torch.testing.assert_close(unet_maps(net, cond[1:]), maps[1:])  # each map is its own


def test_a_seeded_tiny_network_gives_a_pinned_output() -> None:
    """Golden value: a change of the maths (layer order, padding, pooling) changes this sum."""
    torch.manual_seed(0)
    net = RadioUNet(RadioUNetConfig(stages=2, channels=8, channel_mult=(1, 2), convs_per_level=1), 3).eval()
    cond = torch.linspace(-1, 1, 3 * 8 * 8).reshape(1, 3, 8, 8)
    with torch.no_grad():
        out = net(cond)
    assert out.shape == (1, 2, 8, 8)
    assert float(out.double().sum()) == pytest.approx(GOLDEN_SUM, abs=1e-4)


def test_paper_scale_size_and_the_config_checks() -> None:
    parameters = sum(p.numel() for p in RadioUNet(PAPER, 3).parameters())
    assert 35e6 < parameters < 45e6, parameters  # docstring: ~41 M (the RadioDiff paper lists RadioUNet with 27 M)
    assert sum(p.numel() for p in RadioUNet(RadioUNetConfig(), 3).parameters()) < 2.5e6
    with pytest.raises(ConfigError, match=r"radiounet\.stages = 3 is out of range; allowed: 1 \(RadioUNet\) or 2"):
        load(None, "radiounet.stages=3")
    with pytest.raises(ConfigError, match="channels = 12 is out of range; allowed: a multiple of 8"):
        load(None, "radiounet.channels=12")


def _scene_batch(count: int, size: int = 32) -> dict[str, torch.Tensor]:
    """Condition images of random blocks and transmitters, and a map that falls off with the distance outside
    the buildings (0 inside): a task a UNet can fit."""
    rng = np.random.default_rng(0)
    data = DataConfig(image_size=(size, size))
    conds, targets = [], []
    for _ in range(count):
        buildings = np.zeros((size, size), np.uint8)
        for _ in range(4):
            r, c = rng.integers(0, size - 6, 2)
            buildings[r : r + 6, c : c + 6] = 255
        tx = tuple(int(v) for v in rng.integers(2, size - 2, 2))
        rows, cols = np.indices((size, size))
        gain = 255 * np.exp(-np.hypot(rows - tx[0], cols - tx[1]) / 12) * (buildings == 0)
        conds.append(condition_image(buildings, tx, data))
        targets.append(normalize(gain[None]))
    return {"cond": torch.from_numpy(np.stack(conds)), "target": torch.from_numpy(np.stack(targets))}


@pytest.mark.parametrize("stages", [1, 2])
def test_overfits_one_batch_through_the_tasks_loss(stages: int) -> None:
    config = load(
        None,
        f"data.image_size=[32,32] radiounet.stages={stages} radiounet.channels=8 "
        "radiounet.channel_mult=[1,2,4] radiounet.convs_per_level=1",
    )
    batch = _scene_batch(4)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        task = RadioUNetTask(config)
    modules = task.modules()
    optimizer = torch.optim.Adam(modules["radiounet"].parameters(), lr=3e-3)
    initial = float(task.compute(modules, batch, 0).losses["radiounet"].detach())
    for step in range(120):
        output = task.compute(modules, batch, step)
        optimizer.zero_grad()
        output.losses["radiounet"].backward()
        optimizer.step()
    final = float(task.compute(modules, batch, 0).losses["radiounet"].detach())
    assert set(output.logs) == ({"loss"} if stages == 1 else {"loss", "loss_stage1", "loss_stage2"})
    print(f"overfit ({stages} stages): loss {initial:.4f} -> {final:.5f}")
    assert final < initial / 20
    scores = task.validate(modules["radiounet"].eval(), [batch])
    assert scores["rmse"].shape == (4,) and float(scores["rmse"].mean()) < 0.1
