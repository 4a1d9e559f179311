"""A first stage trained on crops, run on maps of other sizes: overlapping tiles of the crop size, blended.

A convolutional autoencoder with GroupNorm is not size-agnostic: the statistics of every GroupNorm include the
features that zero padding makes along the image border, so a network trained on h x w crops shifts its output on a
larger image (measured on the ICASSP building VAE trained on 64 x 64 crops: a mean error of +0.06 on the [-1, 1]
scale at 96 x 64, +0.13 at 128 x 64, against -0.003 at 64 x 64). On tiles of its training size it sees what it was
trained on; the tiles' outputs are blended with the smooth positive window of the tiled UNet
(`radiodiff.models.tiled_denoiser.tile_window`, MultiDiffusion eq. 5). An input of the tile size is one plain call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from radiodiff.models.padding import crop_to, pad_to, padded_size, run_padded
from radiodiff.models.tiled_denoiser import tile_offsets, tile_window

__all__ = ["reconstruct", "run_tiled"]


def run_tiled(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    tile: Sequence[int],
    scale: float,
    multiple: int,
    pad_value: float,
) -> torch.Tensor:
    """fn(x) for an fn trained on inputs of size `tile`, computed tile by tile.

    Args:
        fn: (B, C, th, tw) -> (B, C_out, th * scale, tw * scale), e.g. an encoder (scale 1 / f) or a decoder (f).
        x: (B, C, H, W), any H, W (smaller inputs are padded with `pad_value` to the tile, then cropped back).
        tile: (th, tw), the size fn was trained at.
        scale: output pixels per input pixel.
        multiple: tile offsets (and the padded size) are multiples of it (an encoder's f keeps latents aligned).
        pad_value: the value of padded input pixels.
    Returns:
        (B, C_out, H * scale, W * scale).
    """
    size, tile = tuple(x.shape[-2:]), (int(tile[0]), int(tile[1]))
    if size == tile:
        return fn(x)
    padded = pad_to(x, padded_size(size, multiple, tile), pad_value)
    height, width = padded.shape[-2:]
    boxes = [(r, c) for r in tile_offsets(height, tile[0], multiple) for c in tile_offsets(width, tile[1], multiple)]
    out_tile = (round(tile[0] * scale), round(tile[1] * scale))
    window = tile_window(out_tile).to(device=x.device, dtype=x.dtype)
    out = total = None
    for r, c in boxes:
        part = fn(padded[..., r : r + tile[0], c : c + tile[1]])
        if out is None:
            out = part.new_zeros((*part.shape[:2], round(height * scale), round(width * scale)))
            total = part.new_zeros(out.shape[-2:])
        top, left = round(r * scale), round(c * scale)
        out[..., top : top + out_tile[0], left : left + out_tile[1]] += window * part
        total[top : top + out_tile[0], left : left + out_tile[1]] += window
    return crop_to(out / total, (round(size[0] * scale), round(size[1] * scale)))


def reconstruct(vae: nn.Module, x: torch.Tensor, tile: Sequence[int] | None, pad_value: float) -> torch.Tensor:
    """An autoencoder's posterior-mean reconstruction (B, C, H, W) of maps (B, C, H, W) of any size: whole (padded
    to its multiple, cropped back) without `tile`, else on tiles of the crop it was trained on."""
    whole = lambda maps: vae(maps, sample_posterior=False)[0]  # noqa: E731
    if tile is None:
        return run_padded(whole, x, vae.downsample_factor)
    return run_tiled(whole, x, tile, 1.0, vae.downsample_factor, pad_value)
