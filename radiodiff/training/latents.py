"""A cache of the training latents of the frozen first stage, and the latent scale factor estimated from it."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from radiodiff.models.latent_codec import LatentCodec


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
