"""Latent conditions of the multi-condition LDM (icassp layout): frozen first stages encode parts of the condition
image, and their latents join the noisy latent at the UNet's input.

RadioDiff's condition reaches the UNet through a Swin encoder's features (FACTS §2). The ICASSP layout has two more
first stages, trained like the radio map's (`data.target` building and antenna): with them the UNet sees, besides
those features, the building's and the antenna channel's latents on the radio latent's own grid,

    UNet input = [x_t, s_b * mu_b(cond[R, G]), s_a * mu_a(cond[antenna])]          (B, C_lat + C_b + C_a, h, w)

with mu the posterior mean of each frozen encoder and s its scale factor, 1 / std of the training latents (as the
radio latent's, Rombach et al. 2022, Sec. 4.3.2). The stages stay frozen (no gradients, eval mode) and travel in
the denoiser's weights, so a model package is whole.
"""

from __future__ import annotations

import torch
from torch import nn

from radiodiff.models.vae import AutoencoderKL

__all__ = ["CONDITION_PARTS", "LatentCondition", "stage_config_name"]

CONDITION_PARTS = {"building": (0, 2), "antenna": (2, 3)}
"""The condition image's channels [start, stop) that each condition stage encodes (radiodiff/data/icassp/dataset.py)."""


def stage_config_name(part: str) -> str:
    """The file of a model package holding a condition stage's config (its weights are in the denoiser's)."""
    return f"condition_{part}.yaml"


class LatentCondition(nn.Module):
    """Frozen first stages -> their scaled latents of the condition image's channels, concatenated.

    Args:
        stages: part name (a CONDITION_PARTS key) -> its trained autoencoder, all with one downsampling factor.
        scales: part name -> latent scale factor (1.0 until `set_scale`; stored with the weights).
    """

    def __init__(self, stages: dict[str, AutoencoderKL], scales: dict[str, float] | None = None) -> None:
        super().__init__()
        unknown = sorted(set(stages) - set(CONDITION_PARTS))
        if unknown or not stages:
            raise ValueError(f"LatentCondition: parts {sorted(stages)}; expected some of {sorted(CONDITION_PARTS)}")
        factors = {vae.downsample_factor for vae in stages.values()}
        if len(factors) != 1:
            raise ValueError(f"LatentCondition: the stages downsample by different factors {sorted(factors)}")
        self.downsample_factor = factors.pop()
        self.parts = [name for name in CONDITION_PARTS if name in stages]
        self.stages = nn.ModuleDict({name: stages[name].eval().requires_grad_(False) for name in self.parts})
        for name in self.parts:
            self.register_buffer(f"scale_{name}", torch.tensor(float((scales or {}).get(name, 1.0))))

    @property
    def channels(self) -> int:
        """Latent channels added to the UNet's input."""
        return sum(self.stages[name].config.embed_dim for name in self.parts)

    def train(self, mode: bool = True) -> LatentCondition:
        """Stays in eval mode: the stages are frozen."""
        return super().train(False)

    def set_scale(self, name: str, value: float) -> None:
        """Set a part's latent scale factor."""
        getattr(self, f"scale_{name}").fill_(float(value))

    @torch.no_grad()
    def unscaled(self, cond: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each part's posterior mean (B, C_part, H / f, W / f) of condition images (B, 3, H, W)."""
        out = {}
        for name in self.parts:
            start, stop = CONDITION_PARTS[name]
            out[name] = self.stages[name].encode(cond[:, start:stop]).mean
        return out

    def forward(self, cond: torch.Tensor) -> torch.Tensor:
        """(B, channels, H / f, W / f): the scaled latents of every part, in CONDITION_PARTS order."""
        means = self.unscaled(cond)
        return torch.cat([getattr(self, f"scale_{name}") * means[name] for name in self.parts], dim=1)
