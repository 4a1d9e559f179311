"""The autoencoder and its blocks: shapes, errors, size of the paper config, KL, sampling, overfitting."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from radiodiff.config import VAEConfig
from radiodiff.models.blocks import Downsample, ResnetBlock, Upsample, group_norm
from radiodiff.models.vae import AutoencoderKL, DiagonalGaussian

TINY = VAEConfig(channels=8, channel_mult=(1, 2, 4), num_res_blocks=1)
PAPER = VAEConfig(in_channels=1, channels=128, channel_mult=(1, 2, 4), num_res_blocks=2, z_channels=3)
# FACTS §2 says ~55 M; without the reference's two middle self-attention layers (1.05 M each) it is 53.2 M.
PAPER_PARAMS_RANGE = (52e6, 56e6)


@pytest.mark.parametrize(("channels", "groups"), [(8, 8), (16, 16), (32, 32), (96, 32), (128, 32), (3, 1)])
def test_group_norm_uses_32_groups_or_fewer(channels: int, groups: int) -> None:
    norm = group_norm(channels)
    assert norm.num_groups == groups
    assert norm(torch.randn(2, channels, 4, 4)).shape == (2, channels, 4, 4)


def test_resnet_block_widths_and_time_embedding() -> None:
    x = torch.randn(2, 8, 6, 10)
    assert ResnetBlock(8, 16)(x).shape == (2, 16, 6, 10)
    assert isinstance(ResnetBlock(8).skip, torch.nn.Identity)
    block = ResnetBlock(8, 16, temb_channels=12)
    assert block(x, torch.randn(2, 12)).shape == (2, 16, 6, 10)
    with pytest.raises(ValueError, match="a time embedding"):
        block(x)
    with pytest.raises(ValueError, match=r"no time embedding; got shape \(2, 12\)"):
        ResnetBlock(8)(x, torch.randn(2, 12))


@pytest.mark.parametrize(("size", "down"), [((6, 10), (3, 5)), ((32, 48), (16, 24)), ((5, 7), (2, 3))])
def test_downsample_halves_and_upsample_doubles(size: tuple[int, int], down: tuple[int, int]) -> None:
    x = torch.randn(1, 8, *size)
    y = Downsample(8)(x)
    assert y.shape == (1, 8, *down)
    assert Upsample(8)(y).shape == (1, 8, 2 * down[0], 2 * down[1])


@pytest.mark.parametrize("size", [(32, 32), (64, 96), (16, 48)])
def test_autoencoder_shapes_square_and_non_square(size: tuple[int, int]) -> None:
    vae = AutoencoderKL(TINY)
    h, w = size
    reconstruction, posterior = vae(torch.rand(2, 1, h, w) * 2 - 1)
    assert vae.downsample_factor == 4
    assert posterior.mean.shape == posterior.logvar.shape == (2, 3, h // 4, w // 4)
    assert reconstruction.shape == (2, 1, h, w)
    assert vae.decode(posterior.mode()).shape == (2, 1, h, w)


def test_downsample_factor_follows_channel_mult() -> None:
    vae = AutoencoderKL(VAEConfig(channels=8, channel_mult=(1, 2, 2, 4), embed_dim=4))
    assert vae.downsample_factor == 8
    assert vae.encode(torch.zeros(1, 1, 16, 40)).mean.shape == (1, 4, 2, 5)


@pytest.mark.parametrize("shape", [(1, 1, 30, 32), (1, 1, 32, 34), (1, 2, 32, 32), (1, 32, 32)])
def test_bad_input_shape_names_the_shape(shape: tuple[int, ...]) -> None:
    vae = AutoencoderKL(TINY)
    with pytest.raises(ValueError, match=r"multiples of 4 .* got shape " + _re_shape(shape)):
        vae(torch.zeros(shape))


def test_bad_latent_shape_names_the_shape() -> None:
    with pytest.raises(ValueError, match=r"\(B, 3, h, w\); got shape \(1, 4, 8, 8\)"):
        AutoencoderKL(TINY).decode(torch.zeros(1, 4, 8, 8))


def test_paper_config_size_and_latent() -> None:
    with torch.device("meta"):  # no memory, no init cost: shapes and counts only
        vae = AutoencoderKL(PAPER)
        _, posterior = vae(torch.empty(1, 1, 256, 256), sample_posterior=False)
    count = sum(p.numel() for p in vae.parameters())
    print(f"paper-config AutoencoderKL: {count:,} parameters ({count / 1e6:.2f} M)")
    assert PAPER_PARAMS_RANGE[0] < count < PAPER_PARAMS_RANGE[1]
    assert posterior.mean.shape == (1, 3, 64, 64)
    assert vae.last_layer.shape == (1, 128, 3, 3)


def test_kl_of_standard_normal_is_zero() -> None:
    posterior = DiagonalGaussian(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4))
    assert torch.equal(posterior.kl(), torch.zeros(2))


def test_kl_matches_closed_form() -> None:
    mean = torch.tensor([1.0, -0.5]).view(2, 1, 1, 1).expand(2, 3, 4, 5)
    logvar = torch.tensor([math.log(4.0), math.log(0.25)]).view(2, 1, 1, 1).expand(2, 3, 4, 5)
    kl = DiagonalGaussian(mean, logvar).kl()
    # KL(N(m, s^2) || N(0, 1)) = 0.5 * (m^2 + s^2 - 1 - ln s^2) per element, 60 elements per sample
    expected = [60 * 0.5 * (1 + 4 - 1 - math.log(4)), 60 * 0.5 * (0.25 + 0.25 - 1 - math.log(0.25))]
    torch.testing.assert_close(kl, torch.tensor(expected))
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, (0.5 * logvar).exp()), torch.distributions.Normal(0.0, 1.0)
    ).sum(dim=(1, 2, 3))
    torch.testing.assert_close(kl, reference)


def test_logvar_is_clamped() -> None:
    moments = torch.tensor([0.0, 0.0, 100.0, -100.0]).view(1, 4, 1, 1)  # mean (0, 0), logvar (100, -100)
    posterior = DiagonalGaussian.from_moments(moments)
    assert posterior.logvar.flatten().tolist() == [20.0, -30.0]
    assert torch.isfinite(posterior.kl()).all()


def test_sample_is_deterministic_given_a_generator() -> None:
    posterior = DiagonalGaussian(torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8))
    first = posterior.sample(torch.Generator().manual_seed(7))
    again = posterior.sample(torch.Generator().manual_seed(7))
    other = posterior.sample(torch.Generator().manual_seed(8))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert torch.equal(posterior.mode(), posterior.mean)


def test_forward_is_deterministic_given_a_generator() -> None:
    vae = AutoencoderKL(TINY).eval()
    x = torch.zeros(1, 1, 16, 16)
    first, _ = vae(x, generator=torch.Generator().manual_seed(0))
    again, _ = vae(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(first, again)


def test_overfits_one_small_batch() -> None:
    maps = _smooth_maps(2, 32)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        vae = AutoencoderKL(VAEConfig(channels=8, channel_mult=(1, 2), num_res_blocks=1))
    optimizer = torch.optim.Adam(vae.parameters(), lr=3e-3)
    initial = _reconstruction_mse(vae, maps)
    for _ in range(150):
        reconstruction, _ = vae(maps, sample_posterior=False)
        loss = F.l1_loss(reconstruction, maps) + F.mse_loss(reconstruction, maps)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    final = _reconstruction_mse(vae, maps)
    print(f"overfit: MSE {initial:.4f} -> {final:.5f} ({initial / final:.0f}x)")
    assert final < initial / 20


def test_last_layer_receives_gradient() -> None:
    vae = AutoencoderKL(TINY)
    reconstruction, _ = vae(torch.zeros(1, 1, 16, 16))
    reconstruction.sum().backward()
    assert vae.last_layer is vae.decoder.conv_out.weight
    assert vae.last_layer.grad is not None


def _re_shape(shape: tuple[int, ...]) -> str:
    return "\\(" + ", ".join(str(s) for s in shape) + "\\)"


def _smooth_maps(n: int, size: int) -> torch.Tensor:
    """Radio-map-like targets in [-1, 1]: a log-distance decay from a transmitter, per map."""
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    maps = []
    for i in range(n):
        ty, tx = 8 + 12 * i, 20 - 10 * i
        distance = ((ys - ty) ** 2 + (xs - tx) ** 2).float().sqrt() + 1.0
        maps.append(1.0 - 2.0 * torch.log(distance) / math.log(2 * size))
    return torch.stack(maps)[:, None].clamp(-1, 1)


@torch.no_grad()
def _reconstruction_mse(vae: AutoencoderKL, maps: torch.Tensor) -> float:
    reconstruction, _ = vae(maps, sample_posterior=False)
    return F.mse_loss(reconstruction, maps).item()
