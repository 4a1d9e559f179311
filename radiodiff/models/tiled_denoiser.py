"""The fixed-size conditional UNet on latents of any size at least its own: overlapping tiles, blended.

The UNet is built for one map size (its Fourier filters and a Swin backbone have that size's shapes), the
`map_size` it was trained at (the crop size when training on crops). A larger latent is covered by tiles of
the UNet's latent size, about half a tile apart and the last one flush with the border; every tile goes
through the network (all tiles of all samples in a few batched calls) and F1, F2 are blended with a smooth
window that is positive everywhere, so every latent pixel is covered:

    F(x) = sum_i W_i * F(x restricted to tile i) / sum_i W_i        (MultiDiffusion, Bar-Tal et al. 2023, eq. 5)

The sampler's step is affine in (F1, F2) with coefficients that depend only on x_t and t (FACTS §2), and the
weights sum to one at every pixel, so blending F1, F2 is blending the per-tile steps: the weighted-average
MultiDiffusion update, with the noise drawn once for the whole latent. A latent of exactly the tile size is the
plain network call.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from radiodiff.models.padding import padded_size

__all__ = ["TiledDenoiser", "tile_offsets", "tile_window"]

MAX_TILE_BATCH = 64


def tile_offsets(length: int, tile: int, multiple: int = 1) -> list[int]:
    """Start offsets of tiles of side `tile` covering [0, length): about half a tile apart, the last one flush.

    Args:
        length: side to cover, >= tile.
        tile: tile side.
        multiple: offsets are multiples of it (the UNet's coarsest stride: every tile then sees the same
            down-sampling phase) where `length` and `tile` are.
    Returns:
        Increasing offsets, the first 0 and the last `length - tile`.
    """
    if length < tile:
        raise ValueError(f"tile_offsets: side {length} is smaller than the tile {tile}; pad it first")
    stride = max(multiple, tile // 2 // multiple * multiple)
    return [*range(0, length - tile, stride), length - tile]


def tile_window(size: tuple[int, int]) -> torch.Tensor:
    """(h, w) blending weights: a separable raised cosine sin^2(pi (i + 1/2) / n) per axis, > 0 everywhere.

    Largest at the tile's centre, where the network sees the most context, smallest at its border.
    """
    axes = [torch.sin(math.pi * (torch.arange(n, dtype=torch.float64) + 0.5) / n) ** 2 for n in size]
    return (axes[0][:, None] * axes[1][None, :]).float()


class TiledDenoiser(nn.Module):
    """(x_t, t_input, cond) -> (F1, F2) for latents (B, C, h, w) of any h, w >= the UNet's latent size.

    Args:
        denoiser: a `ConditionalUNet` (or anything with its `map_size`, `latent_size`, `levels` and call).
        max_tile_batch: at most this many tiles per network call (bounds the memory of large maps).
    """

    def __init__(self, denoiser: nn.Module, max_tile_batch: int = MAX_TILE_BATCH) -> None:
        super().__init__()
        self.denoiser = denoiser
        self.tile = tuple(denoiser.latent_size)
        self.factor = denoiser.map_size[0] // denoiser.latent_size[0]  # the VAE's f: map pixels per latent pixel
        self.multiple = 2 ** (denoiser.levels - 1)  # the UNet's coarsest stride in latent pixels
        self.max_tile_batch = max_tile_batch
        self.register_buffer("window", tile_window(self.tile), persistent=False)

    def working_size(self, map_size: tuple[int, int]) -> tuple[int, int]:
        """The map size (H', W') to pad a (H, W) condition to: >= the UNet's map size, a multiple of its stride.

        The UNet's own map size is its own working size (no padding, the plain call).
        """
        return padded_size(map_size, self.factor * self.multiple, self.denoiser.map_size)

    def forward(
        self, x_t: torch.Tensor, t_input: torch.Tensor, cond: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Args:
            x_t: (B, C_lat, h, w) with h, w >= the UNet's latent size.
            t_input: (B,) time input.
            cond: (B, cond_channels, h * f, w * f) condition image.
        Returns:
            (F1, F2), each (B, C_lat, h, w).
        """
        size = tuple(x_t.shape[-2:])
        if size == self.tile:
            return self.denoiser(x_t, t_input, cond)
        if tuple(cond.shape[-2:]) != (size[0] * self.factor, size[1] * self.factor):
            raise ValueError(
                f"TiledDenoiser: cond {tuple(cond.shape)} must be x_t {tuple(x_t.shape)} times {self.factor} in size"
            )
        th, tw = self.tile
        rows, cols = tile_offsets(size[0], th, self.multiple), tile_offsets(size[1], tw, self.multiple)
        boxes = [(r, c) for r in rows for c in cols]
        f1, f2 = self._tiles(x_t, t_input, cond, boxes)  # each (n_tiles, B, C_lat, th, tw)
        out1, out2, total = torch.zeros_like(x_t), torch.zeros_like(x_t), x_t.new_zeros(size)
        window = self.window.to(device=x_t.device, dtype=x_t.dtype)  # the wrapper itself is never moved
        for (r, c), g1, g2 in zip(boxes, f1, f2, strict=True):
            out1[..., r : r + th, c : c + tw] += window * g1
            out2[..., r : r + th, c : c + tw] += window * g2
            total[r : r + th, c : c + tw] += window
        return out1 / total, out2 / total  # eq. 5: the weighted average of the tiles' predictions

    def _tiles(
        self, x_t: torch.Tensor, t_input: torch.Tensor, cond: torch.Tensor, boxes: list[tuple[int, int]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The network on every tile: (F1, F2) of shape (n_tiles, B, C_lat, th, tw) each."""
        (th, tw), f, b = self.tile, self.factor, x_t.shape[0]
        x_tiles = torch.stack([x_t[..., r : r + th, c : c + tw] for r, c in boxes])  # (n, B, C, th, tw)
        c_tiles = torch.stack([cond[..., f * r : f * (r + th), f * c : f * (c + tw)] for r, c in boxes])
        x_tiles, c_tiles = x_tiles.flatten(0, 1), c_tiles.flatten(0, 1)  # tile-major: (n * B, ...)
        t_tiles = t_input.repeat(len(boxes))  # (n * B,), tile-major like the tiles
        chunk = max(1, self.max_tile_batch)
        outputs = [
            self.denoiser(x_tiles[i : i + chunk], t_tiles[i : i + chunk], c_tiles[i : i + chunk])
            for i in range(0, len(x_tiles), chunk)
        ]
        f1, f2 = (torch.cat([o[k] for o in outputs]).unflatten(0, (len(boxes), b)) for k in (0, 1))
        return f1, f2
