"""The condition encoder: timm backbones (random init) at map sizes 64x64 and 64x96, stage selection, errors."""

from __future__ import annotations

import pytest
import torch

from radiodiff.config import LDMConfig
from radiodiff.models.condition_encoder import ConditionEncoder, swin_window_size

WIDTHS = [32, 64, 128, 128]  # the CPU default UNet: channels 32, mult (1, 2, 4, 4)
SWIN = "swin_tiny_patch4_window7_224"


def level_shapes(batch: int, map_size: tuple[int, int], widths: list[int]) -> list[tuple[int, ...]]:
    """Level i: (B, widths[i], H / (4 * 2**i), W / (4 * 2**i))."""
    h, w = map_size
    return [(batch, c, h // (4 * 2**i), w // (4 * 2**i)) for i, c in enumerate(widths)]


@pytest.mark.parametrize("backbone", ["resnet18", "resnet10t"])
@pytest.mark.parametrize("map_size", [(64, 64), (64, 96)])
def test_resnet_features_at_strides_4_to_32(map_size: tuple[int, int], backbone: str) -> None:
    encoder = ConditionEncoder(LDMConfig(cond_backbone=backbone), map_size, WIDTHS)
    feats = encoder(torch.randn(2, 3, *map_size))
    assert encoder.strides == [4, 8, 16, 32]  # the stride-2 stage of the ResNet is left out
    assert [tuple(f.shape) for f in feats] == level_shapes(2, map_size, WIDTHS)


@pytest.mark.parametrize("map_size", [(64, 64), (64, 96)])
def test_swin_builds_for_the_map_size_and_returns_nchw(map_size: tuple[int, int]) -> None:
    encoder = ConditionEncoder(LDMConfig(cond_backbone=SWIN), map_size, WIDTHS)
    feats = encoder(torch.randn(1, 3, *map_size))
    assert encoder.channels_last  # timm's Swin features are NHWC; the encoder turns them into NCHW
    assert [tuple(f.shape) for f in feats] == level_shapes(1, map_size, WIDTHS)
    blocks = [m for m in encoder.backbone.modules() if hasattr(m, "window_size") and hasattr(m, "input_resolution")]
    assert len(blocks) == 12  # Swin-T: 2 + 2 + 6 + 2 blocks, each with windows that tile its stage (no padding)
    for block in blocks:
        assert all(s % w == 0 for s, w in zip(block.input_resolution, block.window_size, strict=True))


def test_swin_window_tiles_every_stage() -> None:
    assert swin_window_size((256, 256)) == (8, 8)  # stages 64, 32, 16, 8
    assert swin_window_size((64, 96)) == (8, 6)  # stages (16, 24), (8, 12), (4, 6), (2, 3)
    assert swin_window_size((320, 320)) == (5, 5)  # stages 80, 40, 20, 10


def test_more_levels_pool_the_coarsest_stage_fewer_use_the_first() -> None:
    config = LDMConfig(cond_backbone="resnet18")
    deep = ConditionEncoder(config, (64, 64), [*WIDTHS, 128])
    assert deep.strides == [4, 8, 16, 32, 64]
    assert [tuple(f.shape) for f in deep(torch.randn(2, 3, 64, 64))] == level_shapes(2, (64, 64), [*WIDTHS, 128])
    shallow = ConditionEncoder(config, (64, 64), [32, 64])
    feats = shallow(torch.randn(2, 3, 64, 64))
    assert [tuple(f.shape) for f in feats] == level_shapes(2, (64, 64), [32, 64])
    sum(f.square().mean() for f in feats).backward()
    unused = [name for name, p in shallow.named_parameters() if p.grad is None]
    assert not unused, f"parameters without gradient (DDP would fail): {unused[:5]}"


def test_bad_map_sizes_and_backbones_raise() -> None:
    with pytest.raises(ValueError, match=r"map size \(72, 64\) must be divisible by 32"):
        ConditionEncoder(LDMConfig(), (72, 64), WIDTHS)
    with pytest.raises(ValueError, match=r"'vit_tiny_patch16_224' has features at strides \[16, 16, 16\]"):
        ConditionEncoder(LDMConfig(cond_backbone="vit_tiny_patch16_224"), (64, 64), WIDTHS)
    encoder = ConditionEncoder(LDMConfig(), (64, 64), WIDTHS)
    with pytest.raises(ValueError, match=r"built for maps \(64, 64\); got cond of shape \(1, 3, 32, 32\)"):
        encoder(torch.randn(1, 3, 32, 32))
