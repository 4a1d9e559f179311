"""Convolutional building blocks shared by the autoencoder and the latent UNet.

Every block keeps the batch size and works on any (H, W); only `Downsample` and `Upsample` change the
spatial size (by a factor of 2).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Downsample", "ResnetBlock", "Upsample", "group_norm"]

MAX_GROUPS = 32


def group_norm(channels: int, max_groups: int = MAX_GROUPS) -> nn.GroupNorm:
    """GroupNorm with `max_groups` groups, or fewer when `channels` is not a multiple of it.

    The group count is gcd(channels, max_groups): 32 groups for any multiple of 32 (the usual
    LDM setting), 8 groups for 8 channels (one channel per group), 16 for 16. GroupNorm is per sample,
    so it behaves the same for any batch size, in train and eval mode, and under DDP.

    Args:
        channels: number of channels C of the (B, C, H, W) input.
        max_groups: upper bound on the number of groups.
    Returns:
        An affine nn.GroupNorm with eps 1e-6.
    """
    if channels < 1:
        raise ValueError(f"group_norm: channels must be >= 1, got {channels}")
    return nn.GroupNorm(math.gcd(channels, max_groups), channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    """Pre-activation residual block: (GroupNorm, SiLU, conv 3x3) twice, plus a skip connection.

    With `temb_channels > 0` the block takes a time embedding that scales and shifts the second
    normalisation (FiLM, "scale-shift norm" of Dhariwal & Nichol 2021, Sec. 3), so the UNet can reuse it.

    Args:
        in_channels: input channels C_in.
        out_channels: output channels C_out (default: C_in); a 1x1 conv maps the skip when they differ.
        dropout: dropout probability before the second conv.
        temb_channels: width of the time embedding; 0 means the block takes none.
    """

    def __init__(
        self, in_channels: int, out_channels: int | None = None, dropout: float = 0.0, temb_channels: int = 0
    ) -> None:
        super().__init__()
        out_channels = out_channels or in_channels
        self.norm1 = group_norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.temb_proj = nn.Linear(temb_channels, 2 * out_channels) if temb_channels > 0 else None
        self.norm2 = group_norm(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        same = in_channels == out_channels
        self.skip = nn.Identity() if same else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        """Args: x (B, C_in, H, W); temb (B, temb_channels) or None. Returns (B, C_out, H, W)."""
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, H, W)
        h = self._modulate(self.norm2(h), temb)  # (B, C_out, H, W)
        h = self.conv2(self.dropout(F.silu(h)))  # (B, C_out, H, W)
        return self.skip(x) + h

    def _modulate(self, h: torch.Tensor, temb: torch.Tensor | None) -> torch.Tensor:
        """h * (1 + scale) + shift with (scale, shift) from the time embedding; h unchanged without one."""
        takes_temb = self.temb_proj is not None
        if takes_temb != (temb is not None):
            expected = "a time embedding (B, temb_channels)" if takes_temb else "no time embedding"
            got = "None" if temb is None else f"shape {tuple(temb.shape)}"
            raise ValueError(f"ResnetBlock expects {expected}; got {got}")
        if self.temb_proj is None or temb is None:
            return h
        scale, shift = self.temb_proj(F.silu(temb))[:, :, None, None].chunk(2, dim=1)  # (B, C_out, 1, 1)
        return h * (1 + scale) + shift


class Downsample(nn.Module):
    """Stride-2 conv 3x3 with asymmetric padding (right and bottom only): (H, W) -> (H // 2, W // 2).

    Output pixel i reads input rows/columns 2i .. 2i + 2: every window starts on the 2x2 cell it
    summarises and only the last one reads padding (TensorFlow's "SAME" convention for stride 2).
    Odd sides are floored, e.g. 5 -> 2.

    Args:
        channels: channels C, kept.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, C, H, W). Returns (B, C, H // 2, W // 2)."""
        x = F.pad(x, (0, 1, 0, 1))  # (B, C, H + 1, W + 1): pad (left, right, top, bottom)
        return self.conv(x)


class Upsample(nn.Module):
    """Nearest-neighbour x2 upsampling followed by a conv 3x3: (H, W) -> (2H, 2W).

    Args:
        channels: channels C, kept.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, C, H, W). Returns (B, C, 2H, 2W)."""
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")  # (B, C, 2H, 2W)
        return self.conv(x)
