"""Embedding of the scalar diffusion time for the latent UNet (FACTS §2).

The diffusion code passes t_input = log(t) / 4 per sample; this module maps it to a vector that every
ResnetBlock turns into a scale and shift. Gaussian Fourier features (Tancik et al. 2020; Song et al. 2021,
score SDE, Appendix H.1: fixed frequencies drawn from N(0, 16^2)) make a smooth scalar easy to resolve for the
MLP that follows.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["FOURIER_SCALE", "GaussianFourierFeatures", "TimeEmbedding"]

FOURIER_SCALE = 16.0
FREQUENCY_SEED = 0


class GaussianFourierFeatures(nn.Module):
    """[sin(2 pi t w), cos(2 pi t w)] with fixed random frequencies w ~ N(0, scale^2).

    The frequencies are a persistent buffer: saved with the weights, never trained. They are drawn from a
    private generator with a fixed seed, so building the module neither reads nor advances the global RNG.

    Args:
        num_frequencies: number of frequencies F; the output has 2F features.
        scale: standard deviation of the frequencies (16 as in score SDE and the RadioDiff code).
    """

    def __init__(self, num_frequencies: int, scale: float = FOURIER_SCALE) -> None:
        super().__init__()
        if num_frequencies < 1:
            raise ValueError(f"GaussianFourierFeatures: num_frequencies must be >= 1, got {num_frequencies}")
        generator = torch.Generator(device="cpu").manual_seed(FREQUENCY_SEED)
        frequencies = torch.randn(num_frequencies, generator=generator, device="cpu") * scale
        self.register_buffer("frequencies", frequencies.to(torch.get_default_device()))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Args: t (B,) scalar time input. Returns (B, 2F) features in [-1, 1]."""
        if t.dim() != 1:
            raise ValueError(f"GaussianFourierFeatures expects a time input of shape (B,); got {tuple(t.shape)}")
        angles = 2 * math.pi * t.to(self.frequencies.dtype)[:, None] * self.frequencies[None, :]  # (B, F)
        return torch.cat([angles.sin(), angles.cos()], dim=1)  # (B, 2F)


class TimeEmbedding(nn.Module):
    """Gaussian Fourier features of the time input followed by Linear-SiLU-Linear.

    Args:
        num_frequencies: Fourier frequencies F (the MLP input has 2F features).
        out_channels: width of the embedding (the UNet uses 4 x its base width, as DDPM and LDM do).
        scale: standard deviation of the Fourier frequencies.
    """

    def __init__(self, num_frequencies: int, out_channels: int, scale: float = FOURIER_SCALE) -> None:
        super().__init__()
        self.features = GaussianFourierFeatures(num_frequencies, scale)
        self.linear1 = nn.Linear(2 * num_frequencies, out_channels)
        self.linear2 = nn.Linear(out_channels, out_channels)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Args: t (B,) time input (log(t) / 4 in RadioDiff). Returns (B, out_channels)."""
        h = self.features(t)  # (B, 2F)
        return self.linear2(F.silu(self.linear1(h)))  # (B, out_channels)
