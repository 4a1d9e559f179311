"""PatchGAN discriminator (Isola et al. 2017, pix2pix, Sec. 3.2.2; as used by Esser et al. 2021, Taming).

It scores overlapping patches of a map as real or fake and returns one logit per patch. With
`disc_layers = 3` (FACTS §2) each logit sees a 70x70 receptive field, the classic PatchGAN.

Normalisation: GroupNorm instead of the reference's BatchNorm. BatchNorm's statistics depend on the other
samples in the (per-process) batch: they are meaningless at batch size 1, differ between processes under DDP
unless converted to SyncBatchNorm, and switch to running averages in eval mode. GroupNorm normalises each
sample on its own, so the discriminator computes the same function for any batch size, on any number of
processes, in train and eval mode, and has no buffers to synchronise.
"""

from __future__ import annotations

import torch
from torch import nn

from radiodiff.config import VAELossConfig
from radiodiff.models.blocks import group_norm

__all__ = ["NLayerDiscriminator"]

MAX_WIDTH_MULT = 8  # widths stop growing at 8 x disc_channels, as in pix2pix


class NLayerDiscriminator(nn.Module):
    """PatchGAN: `disc_layers` stride-2 convs 4x4, a stride-1 conv 4x4, a 1-channel conv 4x4 of logits.

    The first conv has no normalisation (pix2pix); the others are conv (no bias) + GroupNorm, all followed
    by LeakyReLU(0.2). Weights are drawn from N(0, 0.02), norm scales from N(1, 0.02) (pix2pix, Sec. 6.2).

    Args:
        config: `disc_layers` (number of stride-2 convs) and `disc_channels` (width of the first conv).
        in_channels: channels of the maps it judges.
    """

    def __init__(self, config: VAELossConfig, in_channels: int) -> None:
        super().__init__()
        self.n_strided = config.disc_layers
        ndf = config.disc_channels
        widths = [ndf * min(2**i, MAX_WIDTH_MULT) for i in range(config.disc_layers + 1)]
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for i in range(1, config.disc_layers + 1):
            stride = 2 if i < config.disc_layers else 1  # the last of these is the stride-1 layer
            layers += [
                nn.Conv2d(widths[i - 1], widths[i], 4, stride=stride, padding=1, bias=False),
                group_norm(widths[i]),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers.append(nn.Conv2d(widths[-1], 1, 4, stride=1, padding=1))
        self.main = nn.Sequential(*layers)
        self.apply(_init_weights)

    @property
    def min_size(self) -> int:
        """Smallest side leaving one logit: each stride-2 conv halves the side, each stride-1 conv takes 1."""
        return 3 * 2**self.n_strided

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, C, H, W), H and W >= `min_size`. Returns patch logits (B, 1, H', W').

        For disc_layers = 3: H' = H / 8 - 2 (e.g. 256 -> 30, 64 -> 6).
        """
        if x.ndim != 4 or min(x.shape[-2:]) < self.min_size:
            raise ValueError(
                f"NLayerDiscriminator with disc_layers {self.n_strided} needs input (B, C, H, W) with "
                f"H, W >= {self.min_size}; got shape {tuple(x.shape)}"
            )
        return self.main(x)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Conv2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.GroupNorm):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
