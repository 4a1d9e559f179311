"""Condition encoder of the latent UNet: a timm backbone, trained jointly, with one feature map per UNet level.

The condition image (B, cond_channels, H, W) is at MAP resolution while the UNet works on the VAE latent
(H / f, W / f), f = 4. UNet level i works at latent stride 2**i, i.e. map stride f * 2**i, so it takes the
backbone stage of that stride (4, 8, 16, 32 for f = 4: exactly the four stages of Swin, and stages 1..4 of a
ResNet, whose stage 0 at stride 2 is left out). A 1x1 conv projects each stage to the width of its level.
A UNet with more levels than the backbone has stages gets the coarsest stage average-pooled by 2 per extra
level; one with fewer levels uses the first stages (timm then drops the later stages, so every parameter is
used, as DDP requires).

Swin (names starting with "swin") is built for the map size (`img_size`) with a window that tiles every stage
without padding (timm pads with zeros that then take part in unshifted window attention); see
`swin_window_size`. Paper: Swin-B at 256 x 256 maps; CPU default: resnet10t (BatchNorm: batch statistics in
training, running statistics in eval) at 64 x 64. Weights are always randomly initialised (pretrained=False):
nothing is downloaded.
"""

from __future__ import annotations

import math
from itertools import takewhile
from typing import Any

import timm
import torch
import torch.nn.functional as F
from torch import nn

from radiodiff.config import LDMConfig

__all__ = ["LATENT_FACTOR", "ConditionEncoder", "backbone_kwargs", "swin_window_size"]

LATENT_FACTOR = 4
MAX_SWIN_WINDOW = 8
SWIN_PATCH = 4
SWIN_STAGES = 4


def swin_window_size(map_size: tuple[int, int], max_window: int = MAX_SWIN_WINDOW) -> tuple[int, int]:
    """The largest window (per axis, at most `max_window`) that tiles every Swin stage without padding.

    Stage k of Swin has side ceil(side / (4 * 2**k)). timm shrinks the window to a stage side that is not
    larger than it, so a window w fits a side s when s <= w or s % w == 0. Examples: 256 -> 8 (stages 64, 32,
    16, 8: the coarsest stage is one window, as 7 is for 224 in the original Swin), 64 -> 8 (16, 8, then 4 and
    2 as single windows), 96 -> 6 (24, 12, 6, 3).

    Args:
        map_size: (H, W) of the condition image.
        max_window: upper bound (8: the 256-pixel analogue of Swin's 7 at 224).
    Returns:
        (window_h, window_w) for timm's `window_size`.
    """

    def fits(side: int, window: int) -> bool:
        stages = [math.ceil(side / (SWIN_PATCH * 2**k)) for k in range(SWIN_STAGES)]
        return all(s <= window or s % window == 0 for s in stages)

    return tuple(next(w for w in range(max_window, 0, -1) if fits(side, w)) for side in map_size)


def backbone_kwargs(name: str, map_size: tuple[int, int]) -> dict[str, Any]:
    """Extra `timm.create_model` arguments that make the backbone `name` work at `map_size` (Swin only)."""
    if name.startswith("swin"):
        return {"img_size": tuple(map_size), "window_size": swin_window_size(map_size)}
    return {}


def _feature_strides(name: str, in_chans: int, kwargs: dict[str, Any]) -> list[int]:
    """Strides of all features_only stages of `name`, read from a copy built on the meta device (no memory)."""
    with torch.device("meta"):
        probe = timm.create_model(name, features_only=True, pretrained=False, in_chans=in_chans, **kwargs)
    return list(probe.feature_info.reduction())


class ConditionEncoder(nn.Module):
    """timm backbone + 1x1 projections: condition image -> one feature map per UNet level.

    Args:
        config: the LDM config (`cond_backbone`, `cond_channels`).
        map_size: (H, W) of the condition image; both sides multiples of latent_factor * 2**(levels - 1).
        unet_widths: channels of each UNet level, finest first (len = number of levels).
        latent_factor: downsampling factor f of the VAE (the latent is (H / f, W / f)).
    """

    def __init__(
        self,
        config: LDMConfig,
        map_size: tuple[int, int],
        unet_widths: list[int],
        *,
        latent_factor: int = LATENT_FACTOR,
    ) -> None:
        super().__init__()
        levels = len(unet_widths)
        coarsest = latent_factor * 2 ** (levels - 1)
        if levels < 1 or any(side % coarsest for side in map_size):
            raise ValueError(
                f"ConditionEncoder: map size {tuple(map_size)} must be divisible by {coarsest} "
                f"(latent factor {latent_factor} x 2**(levels - 1) for {levels} levels)"
            )
        name = config.cond_backbone
        kwargs = backbone_kwargs(name, map_size)
        strides = _feature_strides(name, config.cond_channels, kwargs)
        wanted = [latent_factor * 2**i for i in range(levels)]
        used = list(takewhile(lambda s: s in strides, wanted))  # the stages at strides f, 2f, 4f, ...
        if not used:
            raise ValueError(
                f"ConditionEncoder: backbone '{name}' has features at strides {strides}; "
                f"the UNet needs stride {latent_factor} (the latent's) and then 2x, 4x, ... of it"
            )
        self.map_size = (int(map_size[0]), int(map_size[1]))
        self.strides = used + [used[-1] * 2**k for k in range(1, levels - len(used) + 1)]
        self.backbone = timm.create_model(
            name,
            features_only=True,
            pretrained=False,
            in_chans=config.cond_channels,
            out_indices=tuple(strides.index(s) for s in used),
            **kwargs,
        )
        self.channels_last = getattr(self.backbone, "output_fmt", "NCHW") == "NHWC"
        stage_channels = self.backbone.feature_info.channels()
        self.projections = nn.ModuleList(
            nn.Conv2d(stage_channels[min(i, len(used) - 1)], width, 1) for i, width in enumerate(unet_widths)
        )

    def forward(self, cond: torch.Tensor) -> list[torch.Tensor]:
        """Args: cond (B, cond_channels, H, W) with (H, W) = map_size.

        Returns:
            One tensor per UNet level i: (B, unet_widths[i], H / (f * 2**i), W / (f * 2**i)).
        """
        if tuple(cond.shape[2:]) != self.map_size:
            raise ValueError(f"ConditionEncoder built for maps {self.map_size}; got cond of shape {tuple(cond.shape)}")
        feats = list(self.backbone(cond))  # one per used stage, (B, C_s, h_s, w_s) or NHWC for Swin
        if self.channels_last:
            feats = [f.permute(0, 3, 1, 2) for f in feats]  # NHWC -> NCHW
        extra = len(self.projections) - len(feats)
        feats += [F.avg_pool2d(feats[-1], 2**k) for k in range(1, extra + 1)]  # levels beyond the backbone
        return [proj(f) for proj, f in zip(self.projections, feats, strict=True)]
