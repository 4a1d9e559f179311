"""The frozen first stage seen from the LDM: radio maps <-> scaled latents (training and inference alike)."""

from __future__ import annotations

import torch

from radiodiff.models.vae import AutoencoderKL


class LatentCodec:
    """Encode radio maps to scaled latents z = scale * (mean + std * n) and decode them back (frozen VAE).

    The scale factor keeps the latents near unit variance for the diffusion (Rombach et al. 2022, Sec. 4.3.2;
    RadioDiff fixes it to 0.3, FACTS §2).
    """

    def __init__(self, vae: AutoencoderKL, scale_factor: float) -> None:
        self.vae = vae.eval().requires_grad_(False)
        self.scale_factor = scale_factor

    @torch.no_grad()
    def moments(self, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and std (B, C_lat, h, w) of maps (B, 1, H, W) in [-1, 1]."""
        posterior = self.vae.encode(maps)
        return posterior.mean, posterior.std

    def sample(self, mean: torch.Tensor, std: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The scaled posterior draw z = scale * (mean + std * noise), noise ~ N(0, I) of mean's shape."""
        return self.scale_factor * (mean + std * noise)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Scaled latents (B, C_lat, h, w) -> maps (B, 1, H, W) in [-1, 1]."""
        return self.vae.decode(z / self.scale_factor)
