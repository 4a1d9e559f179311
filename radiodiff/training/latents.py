"""The frozen first stage seen from the LDM: maps <-> scaled latents, and a cache of training latents."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

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

    def sample(self, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        """A scaled latent drawn from the posterior (global RNG: restored exactly on resume)."""
        return self.scale_factor * (mean + std * torch.randn_like(mean))

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Scaled latents (B, C_lat, h, w) -> maps (B, 1, H, W) in [-1, 1]."""
        return self.vae.decode(z / self.scale_factor)


class LatentCache(Dataset):
    """A dataset's items plus the posterior moments of their radio maps, encoded once."""

    def __init__(self, base: Dataset, means: torch.Tensor, stds: torch.Tensor) -> None:
        self.base, self.means, self.stds = base, means, stds

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {**self.base[index], "latent_mean": self.means[index], "latent_std": self.stds[index]}

    def set_epoch(self, epoch: int) -> None:
        self.base.set_epoch(epoch)


def cache_latents(dataset: Dataset, codec: LatentCodec, batch_size: int = 32) -> LatentCache:
    """Encode every item's `target` once (items must be deterministic: no random crops)."""
    device = next(codec.vae.parameters()).device
    means, stds = [], []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        mean, std = codec.moments(batch["target"].to(device))
        means.append(mean.cpu())
        stds.append(std.cpu())
    return LatentCache(dataset, torch.cat(means), torch.cat(stds))


def estimate_scale_factor(cache: LatentCache) -> float:
    """1 / std of the cached posterior means (Rombach et al. 2022's recipe for the scale factor)."""
    return float(1.0 / cache.means.std().clamp_min(1e-8))
