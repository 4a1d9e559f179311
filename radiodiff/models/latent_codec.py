"""The frozen first stage seen from the LDM: radio maps <-> scaled latents (training and inference alike)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from radiodiff.models.padding import EMPTY
from radiodiff.models.tiled_codec import run_tiled
from radiodiff.models.vae import AutoencoderKL


class LatentCodec:
    """Encode radio maps to scaled latents z = scale * (mean + std * n) and decode them back (frozen VAE).

    The scale factor keeps the latents near unit variance for the diffusion (Rombach et al. 2022, Sec. 4.3.2;
    RadioDiff fixes it to 0.3, FACTS §2). With `tile` (the crop size a crop-trained model learnt on), maps and
    latents of other sizes are encoded and decoded on overlapping tiles of that size (`run_tiled`); without it,
    whole.
    """

    def __init__(
        self, vae: AutoencoderKL, scale_factor: float, tile: Sequence[int] | None = None, pad_value: float = EMPTY
    ) -> None:
        self.vae = vae.eval().requires_grad_(False)
        self.scale_factor = scale_factor
        self.tile = None if tile is None else (int(tile[0]), int(tile[1]))
        self.pad_value = pad_value

    @torch.no_grad()
    def moments(self, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and std (B, C_lat, h, w) of maps (B, 1, H, W) in [-1, 1]."""
        if self.tile is None:
            posterior = self.vae.encode(maps)
            return posterior.mean, posterior.std
        f = self.vae.downsample_factor

        def encode(part: torch.Tensor) -> torch.Tensor:
            posterior = self.vae.encode(part)
            return torch.cat([posterior.mean, posterior.std], dim=1)

        both = run_tiled(encode, maps, self.tile, 1 / f, f, self.pad_value)
        return both.chunk(2, dim=1)

    def sample(self, mean: torch.Tensor, std: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The scaled posterior draw z = scale * (mean + std * noise), noise ~ N(0, I) of mean's shape."""
        return self.scale_factor * (mean + std * noise)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Scaled latents (B, C_lat, h, w) -> maps (B, 1, H, W) in [-1, 1]."""
        latents = z / self.scale_factor
        if self.tile is None:
            return self.vae.decode(latents)
        f = self.vae.downsample_factor
        return run_tiled(self.vae.decode, latents, (self.tile[0] // f, self.tile[1] // f), f, 1, 0.0)
