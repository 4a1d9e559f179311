"""RadioUNet (Levie, Yapar, Kutyniok, Caire, "RadioUNet: fast radio map estimation with convolutional neural
networks", IEEE Trans. Wireless Commun. 20(6), 2021): a supervised UNet from the condition image to the radio map.

The paper's network (its Sec. IV) is a UNet: an encoder of convolutions + ReLU with 2x2 max-pooling between
levels, a decoder of transposed convolutions whose input is the previous decoder output concatenated with the
encoder features of the same resolution, and a last 1x1 layer to the one-channel path-gain map. RadioUNet_C
cascades two such UNets (the "WNet"): the second takes the input image together with the first one's estimate and
refines it. Here `stages` (1 or 2) chooses between the two, the widths and depth are config fields, and each
convolution is followed by GroupNorm (the paper has none; it keeps the small CPU model's training steady at
batch 8 and behaves the same in train and eval mode and under DDP).

Shapes: the input (B, C, H, W) is the condition image (`radiodiff.data.condition.condition_image`, C from
`condition_channels`) in [-1, 1]; the output (B, stages, H, W) holds each stage's map on the same [-1, 1] scale
as the data set's targets (`radiodiff.data.transforms.normalize`); the last channel is the estimate. H and W must be
multiples of `multiple` (pad with `radiodiff.models.padding.run_padded` for other sizes).
"""

from __future__ import annotations

import torch
from torch import nn

from radiodiff.config import RadioUNetConfig
from radiodiff.models.blocks import group_norm

__all__ = ["RadioUNet", "UNetStage"]


class ConvBlock(nn.Sequential):
    """`convs` x (3x3 convolution, GroupNorm, ReLU) at one resolution: (B, C_in, H, W) -> (B, C_out, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, convs: int) -> None:
        layers: list[nn.Module] = []
        for i in range(convs):
            conv = nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1)
            layers += [conv, group_norm(out_channels), nn.ReLU(inplace=True)]
        super().__init__(*layers)


class UNetStage(nn.Module):
    """One UNet of RadioUNet (paper Sec. IV): (B, C_in, H, W) -> (B, 1, H, W), H and W multiples of 2**(levels-1)."""

    def __init__(self, in_channels: int, config: RadioUNetConfig) -> None:
        super().__init__()
        widths = [config.channels * m for m in config.channel_mult]
        convs = config.convs_per_level
        self.encoder = nn.ModuleList(
            ConvBlock(in_channels if i == 0 else widths[i - 1], width, convs) for i, width in enumerate(widths)
        )
        self.pool = nn.MaxPool2d(2)  # the paper's 2x2 max-pooling between encoder levels
        # Decoder level i: transposed conv from level i+1 (x2 in H and W), concatenated with encoder level i.
        levels = range(len(widths) - 1)
        self.up = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in levels)
        self.decoder = nn.ModuleList(ConvBlock(2 * widths[i], widths[i], convs) for i in levels)
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.encoder):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()  # the bottom level, (B, widths[-1], H / 2**(levels-1), W / 2**(levels-1))
        for i in reversed(range(len(self.up))):
            x = self.decoder[i](torch.cat([self.up[i](x), skips.pop()], dim=1))
        return self.head(x)


class RadioUNet(nn.Module):
    """RadioUNet (`stages` = 1) or RadioUNet_C (`stages` = 2, the paper's cascade of two UNets).

    Small CPU defaults (`configs/default.yaml`): channels 16, channel_mult [1, 2, 4, 8, 16], 2 convolutions per
    level, one stage: ~1.9 M parameters and 0.38 GFLOPs per 64x64 map. A paper-scale setting: channels 64, channel_mult
    [1, 2, 4, 8, 8], 2 convolutions per level, 2 stages: ~41 M parameters, for 256x256 maps (the RadioDiff paper
    lists RadioUNet with 27 M, FACTS §3; the original layers use 3x3 to 5x5 kernels and widths up to 500).
    """

    def __init__(self, config: RadioUNetConfig, in_channels: int) -> None:
        super().__init__()
        self.config = config
        self.in_channels = in_channels
        # RadioUNet_C: stage s > 0 sees the input image and the previous stage's estimate (one more channel).
        self.stages = nn.ModuleList(UNetStage(in_channels + (s > 0), config) for s in range(config.stages))

    @property
    def multiple(self) -> int:
        """The side multiple the input needs (one factor 2 per max-pooling)."""
        return 2 ** (len(self.config.channel_mult) - 1)

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        """Every stage's map (B, stages, H, W) in [-1, 1] (unclamped) for conditions (B, C, H, W)."""
        if cond.shape[1] != self.in_channels or cond.shape[-2] % self.multiple or cond.shape[-1] % self.multiple:
            raise ValueError(
                f"RadioUNet: condition of shape {tuple(cond.shape)}; expected (B, {self.in_channels}, H, W) with H "
                f"and W multiples of {self.multiple} (pad with radiodiff.models.padding.run_padded)"
            )
        outputs = [self.stages[0](cond)]
        for stage in self.stages[1:]:
            outputs.append(stage(torch.cat([cond, outputs[-1]], dim=1)))
        return torch.cat(outputs, dim=1)
