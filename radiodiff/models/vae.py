"""KL autoencoder, the first stage of RadioDiff (FACTS §2; Rombach et al. 2022, LDM, Sec. 3.1).

The encoder maps a radio map (B, in_channels, H, W) in [-1, 1] to a diagonal Gaussian over a latent
(B, embed_dim, H / f, W / f) with f = 2**(len(channel_mult) - 1); the decoder maps a latent back to a map.

Layout, matching the reference LDM autoencoder that RadioDiff trains, with one deliberate difference:
- encoder: conv_in, per level `num_res_blocks` ResnetBlocks (+ Downsample except at the last level),
  middle (2 ResnetBlocks), GroupNorm-SiLU-conv to 2 * z_channels (mean and log-variance);
- decoder: conv_in, middle (2 ResnetBlocks), per level from the coarsest `num_res_blocks + 1` ResnetBlocks
  (+ Upsample except at the finest level), GroupNorm-SiLU-conv to in_channels;
- no attention anywhere: the paper config has no attention at any resolution, and we also leave out the
  reference's self-attention in the two middle blocks (4096 tokens at a 64x64 latent). That is the whole
  difference in size: the paper config (ch 128, mult (1, 2, 4), 2 blocks) has 53.2 M parameters here,
  55.3 M with the two middle attention layers (1.05 M each), which is the "~55 M" of FACTS §2.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from radiodiff.config import VAEConfig
from radiodiff.models.blocks import Downsample, ResnetBlock, Upsample, group_norm

__all__ = ["AutoencoderKL", "Decoder", "DiagonalGaussian", "Encoder"]

LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0


class DiagonalGaussian:
    """A Gaussian with diagonal covariance over latents of shape (B, C, h, w).

    Args:
        mean: (B, C, h, w).
        logvar: (B, C, h, w) log-variance; clamped to [-30, 20] so exp() stays finite in fp32.
    """

    def __init__(self, mean: torch.Tensor, logvar: torch.Tensor) -> None:
        self.mean = mean
        self.logvar = logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)
        self.std = torch.exp(0.5 * self.logvar)
        self.var = torch.exp(self.logvar)

    @classmethod
    def from_moments(cls, moments: torch.Tensor) -> DiagonalGaussian:
        """Split (B, 2C, h, w) channel-wise into mean (first C) and log-variance (last C)."""
        mean, logvar = moments.chunk(2, dim=1)
        return cls(mean, logvar)

    def sample(self, generator: torch.Generator | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Reparameterised draw mean + std * eps, eps ~ N(0, I) (Kingma & Welling 2014, Sec. 2.4).

        Args:
            generator: source of eps (on the tensors' device); None uses the global RNG.
            noise: eps itself, (B, C, h, w) (e.g. drawn per sample by the caller); overrides `generator`.
        Returns:
            (B, C, h, w), differentiable with respect to mean and logvar.
        """
        if noise is None:
            noise = torch.randn(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + self.std * noise

    def mode(self) -> torch.Tensor:
        """The most likely latent, the mean: (B, C, h, w)."""
        return self.mean

    def kl(self) -> torch.Tensor:
        """KL(N(mean, var) || N(0, I)) per sample, summed over C, h, w: (B,).

        Closed form 0.5 * sum(mean^2 + var - 1 - logvar) (Kingma & Welling 2014, Appendix B).
        """
        return 0.5 * (self.mean.pow(2) + self.var - 1.0 - self.logvar).sum(dim=(1, 2, 3))


def _level(c_in: int, c_out: int, blocks: int, dropout: float, resample: nn.Module | None) -> nn.Sequential:
    """`blocks` ResnetBlocks c_in -> c_out -> ... -> c_out, then an optional resampling layer."""
    layers: list[nn.Module] = [ResnetBlock(c_in if i == 0 else c_out, c_out, dropout=dropout) for i in range(blocks)]
    if resample is not None:
        layers.append(resample)
    return nn.Sequential(*layers)


def _middle(channels: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(ResnetBlock(channels, dropout=dropout), ResnetBlock(channels, dropout=dropout))


class Encoder(nn.Module):
    """Map (B, in_channels, H, W) to moments (B, 2 * z_channels, H / f, W / f).

    Args:
        config: the autoencoder's VAEConfig.
    """

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        widths = [config.channels * m for m in config.channel_mult]
        last = len(widths) - 1
        self.conv_in = nn.Conv2d(config.in_channels, config.channels, 3, padding=1)
        levels, c_in = [], config.channels
        for i, width in enumerate(widths):
            resample = Downsample(width) if i < last else None
            levels.append(_level(c_in, width, config.num_res_blocks, config.dropout, resample))
            c_in = width
        self.down = nn.Sequential(*levels)
        self.mid = _middle(widths[-1], config.dropout)
        self.norm_out = group_norm(widths[-1])
        self.conv_out = nn.Conv2d(widths[-1], 2 * config.z_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, in_channels, H, W). Returns (B, 2 * z_channels, H / f, W / f)."""
        h = self.conv_in(x)  # (B, ch, H, W)
        h = self.mid(self.down(h))  # (B, ch * mult[-1], H / f, W / f)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    """Map a latent (B, z_channels, h, w) to a map (B, in_channels, h * f, w * f).

    Each level has `num_res_blocks + 1` ResnetBlocks, as in the reference LDM decoder.

    Args:
        config: the autoencoder's VAEConfig.
    """

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        widths = [config.channels * m for m in config.channel_mult]
        self.conv_in = nn.Conv2d(config.z_channels, widths[-1], 3, padding=1)
        self.mid = _middle(widths[-1], config.dropout)
        levels, c_in = [], widths[-1]
        for i in reversed(range(len(widths))):  # coarsest level first
            resample = Upsample(widths[i]) if i > 0 else None
            levels.append(_level(c_in, widths[i], config.num_res_blocks + 1, config.dropout, resample))
            c_in = widths[i]
        self.up = nn.Sequential(*levels)
        self.norm_out = group_norm(widths[0])
        self.conv_out = nn.Conv2d(widths[0], config.in_channels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Args: z (B, z_channels, h, w). Returns (B, in_channels, h * f, w * f)."""
        h = self.mid(self.conv_in(z))  # (B, ch * mult[-1], h, w)
        h = self.up(h)  # (B, ch * mult[0], h * f, w * f)
        return self.conv_out(F.silu(self.norm_out(h)))


class AutoencoderKL(nn.Module):
    """KL-regularised autoencoder: encode to a DiagonalGaussian, decode a latent back to a map.

    Args:
        config: widths, levels, blocks and latent size (VAEConfig).
    """

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.quant_conv = nn.Conv2d(2 * config.z_channels, 2 * config.embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(config.embed_dim, config.z_channels, 1)
        self.decoder = Decoder(config)

    @property
    def downsample_factor(self) -> int:
        """f = 2**(levels - 1): the latent is (H / f, W / f)."""
        return 2 ** (len(self.config.channel_mult) - 1)

    @property
    def last_layer(self) -> nn.Parameter:
        """Weight of the decoder's final conv, (in_channels, ch, 3, 3): the adaptive GAN weight's anchor."""
        return self.decoder.conv_out.weight

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """Args: x (B, in_channels, H, W) in [-1, 1]. Returns the posterior over (B, embed_dim, H/f, W/f)."""
        self._check_input(x)
        moments = self.quant_conv(self.encoder(x))  # (B, 2 * embed_dim, H / f, W / f)
        return DiagonalGaussian.from_moments(moments)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Args: z (B, embed_dim, h, w). Returns the map (B, in_channels, h * f, w * f)."""
        if z.ndim != 4 or z.shape[1] != self.config.embed_dim:
            raise ValueError(
                f"AutoencoderKL.decode expects a latent (B, {self.config.embed_dim}, h, w); got shape {tuple(z.shape)}"
            )
        return self.decoder(self.post_quant_conv(z))

    def forward(
        self,
        x: torch.Tensor,
        sample_posterior: bool = True,
        generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, DiagonalGaussian]:
        """Encode, take a latent (a sample, or the mean when `sample_posterior` is False), decode.

        Args:
            x: (B, in_channels, H, W) in [-1, 1], H and W multiples of `downsample_factor`.
            sample_posterior: draw z from the posterior (training) instead of using its mean.
            generator: RNG for the posterior sample.
            noise: the posterior sample's eps (B, embed_dim, H / f, W / f), overriding `generator`.
        Returns:
            (reconstruction (B, in_channels, H, W), posterior over (B, embed_dim, H / f, W / f)).
        """
        posterior = self.encode(x)
        z = posterior.sample(generator, noise) if sample_posterior else posterior.mode()
        return self.decode(z), posterior

    def _check_input(self, x: torch.Tensor) -> None:
        f, c = self.downsample_factor, self.config.in_channels
        if x.ndim != 4 or x.shape[1] != c or x.shape[2] % f or x.shape[3] % f:
            raise ValueError(
                f"AutoencoderKL expects input (B, {c}, H, W) with H and W multiples of {f} "
                f"(channel_mult {list(self.config.channel_mult)}); got shape {tuple(x.shape)}"
            )
