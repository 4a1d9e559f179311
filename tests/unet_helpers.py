"""A tiny conditional UNet whose outputs depend on its inputs (tests only)."""

from __future__ import annotations

import torch
from torch import nn

from radiodiff.config import LDMConfig
from radiodiff.models.unet import ConditionalUNet

TILE_MAP = (32, 32)  # the UNet's map size; its latent is 8x8 (f = 4)
TINY = LDMConfig(channels=8, channel_mult=(1, 2), attention_heads=2, window_size=4)


def tiny_unet() -> ConditionalUNet:
    """The tiny UNet in eval mode, its (zero-initialised) output convs randomised so F1 and F2 depend on the inputs."""
    torch.manual_seed(0)
    model = ConditionalUNet(TINY, latent_channels=3, map_size=TILE_MAP)
    for decoder in model.decoders:
        nn.init.normal_(decoder.conv_out.weight, std=0.1)
    return model.eval().requires_grad_(False)
