"""The VAE-GAN loss and the PatchGAN: hand-computed values, the adaptive weight, the phase switch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from radiodiff.config import VAEConfig, VAELossConfig
from radiodiff.losses.vae_gan import VAEGANLoss
from radiodiff.models.discriminator import NLayerDiscriminator
from radiodiff.models.vae import AutoencoderKL, DiagonalGaussian

DISC_START = 10
GENERATOR_KEYS = {"loss", "loss_rec", "loss_kl", "loss_g", "d_weight"}
DISCRIMINATOR_KEYS = {"loss_d", "logits_real", "logits_fake"}


class ScaledIdentity(nn.Module):
    """Stub discriminator D(x) = scale * x that counts its calls."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.scale * x


def make_loss(stub_scale: float | None = 1.0, **overrides: float) -> VAEGANLoss:
    config = VAELossConfig(**{"disc_start": DISC_START, **overrides})
    loss = VAEGANLoss(config, in_channels=1)
    if stub_scale is not None:
        loss.discriminator = ScaledIdentity(stub_scale)
    return loss


def standard_posterior() -> DiagonalGaussian:
    return DiagonalGaussian(torch.zeros(1, 3, 1, 1), torch.zeros(1, 3, 1, 1))  # KL = 0


def linear_decoder_case(scale: float, **overrides: float) -> tuple[VAEGANLoss, nn.Parameter, tuple]:
    """reconstruction = conv1x1(ones, w) with w = 1, inputs = 3: both gradients on w are known.

    rec = mean|3 - w| + mean (3 - w)^2 = 2 + 4 = 6;  d rec / dw = -1 - 2 * 2 = -5
    loss_g = -mean(scale * w) = -scale;               d loss_g / dw = -scale
    """
    w = nn.Parameter(torch.ones(1, 1, 1, 1))
    reconstruction = F.conv2d(torch.ones(1, 1, 4, 4), w)
    args = (torch.full((1, 1, 4, 4), 3.0), reconstruction, standard_posterior(), DISC_START, w)
    return make_loss(scale, **overrides), w, args


def test_phase_switches_at_disc_start() -> None:
    loss = make_loss()
    assert loss.phase(0) == loss.phase(DISC_START - 1) == "vae"
    assert loss.phase(DISC_START) == loss.phase(10**6) == "vae_gan"


def test_hinge_loss_matches_hand_computed_values() -> None:
    loss = make_loss()
    real = torch.tensor([2.0, 0.5, -1.0]).view(1, 1, 1, 3)
    fake = torch.tensor([-2.0, 0.0, 0.5]).view(1, 1, 1, 3)
    value, logs = loss.discriminator_loss(real, fake, DISC_START)
    # relu(1 - real) = (0, 0.5, 2) -> 5/6;  relu(1 + fake) = (0, 1, 1.5) -> 5/6;  0.5 * (5/6 + 5/6) = 5/6
    torch.testing.assert_close(value, torch.tensor(5 / 6))
    torch.testing.assert_close(logs["logits_real"], torch.tensor(0.5))
    torch.testing.assert_close(logs["logits_fake"], torch.tensor(-0.5))
    assert set(logs) == DISCRIMINATOR_KEYS


def test_discriminator_loss_gives_no_gradient_to_the_autoencoder() -> None:
    loss = make_loss(stub_scale=None)
    fake = torch.randn(2, 1, 32, 32, requires_grad=True)
    value, _ = loss.discriminator_loss(torch.randn(2, 1, 32, 32), fake, DISC_START)
    value.backward()
    assert fake.grad is None
    assert all(p.grad is not None for p in loss.discriminator.parameters())


def test_before_disc_start_the_discriminator_is_not_called() -> None:
    loss = make_loss()
    x, reconstruction = torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4)
    value, logs = loss.generator_loss(x, reconstruction, standard_posterior(), DISC_START - 1, nn.Parameter(x))
    value_d, logs_d = loss.discriminator_loss(x, reconstruction, DISC_START - 1)
    assert loss.discriminator.calls == 0
    torch.testing.assert_close(value, torch.tensor(2.0))  # L1 1 + L2 1, KL 0
    assert logs["loss_g"] == 0 and logs["d_weight"] == 0
    assert value_d == 0 and all(v == 0 for v in logs_d.values())
    assert set(logs) == GENERATOR_KEYS and set(logs_d) == DISCRIMINATOR_KEYS


def test_adaptive_weight_matches_closed_form() -> None:
    loss, w, args = linear_decoder_case(scale=2.0)
    value, logs = loss.generator_loss(*args)
    # Taming eq. 7: |d rec/dw| / (|d loss_g/dw| + 1e-4) * disc_weight = 5 / (2 + 1e-4) * 0.5
    d_weight = 5.0 / (2.0 + 1e-4) * 0.5
    torch.testing.assert_close(logs["d_weight"], torch.tensor(d_weight))
    torch.testing.assert_close(logs["loss_g"], torch.tensor(-2.0))
    torch.testing.assert_close(value, torch.tensor(6.0 - 2.0 * d_weight))
    assert loss.discriminator.calls == 1
    value.backward()  # d_weight is detached: d loss / dw = -5 + d_weight * (-2)
    torch.testing.assert_close(w.grad.flatten(), torch.tensor([-5.0 - 2.0 * d_weight]))


@pytest.mark.parametrize(("scale", "d_weight_max", "expected"), [(2.0, 1.0, 0.5), (1e-6, 1e4, 5e3)])
def test_adaptive_weight_is_clamped(scale: float, d_weight_max: float, expected: float) -> None:
    loss, _, args = linear_decoder_case(scale, d_weight_max=d_weight_max)
    _, logs = loss.generator_loss(*args)
    torch.testing.assert_close(logs["d_weight"], torch.tensor(expected))


def test_adaptive_weight_is_zero_without_autograd() -> None:
    loss, _, args = linear_decoder_case(scale=2.0)
    with torch.no_grad():
        value, logs = loss.generator_loss(*args)
    assert logs["d_weight"] == 0
    torch.testing.assert_close(value, torch.tensor(6.0))


def test_logs_are_detached_float_scalars() -> None:
    loss, _, args = linear_decoder_case(scale=2.0)
    _, logs = loss.generator_loss(*args)
    _, logs_d = loss.discriminator_loss(args[0], args[1], DISC_START)
    assert set(logs) == GENERATOR_KEYS and set(logs_d) == DISCRIMINATOR_KEYS
    for value in [*logs.values(), *logs_d.values()]:
        assert value.ndim == 0 and value.dtype == torch.float32 and not value.requires_grad


def test_generator_loss_with_a_real_autoencoder_and_discriminator() -> None:
    vae = AutoencoderKL(VAEConfig(channels=8, channel_mult=(1, 2), num_res_blocks=1))
    loss = VAEGANLoss(VAELossConfig(disc_start=0, disc_channels=8), in_channels=1)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    reconstruction, posterior = vae(x)
    value, logs = loss.generator_loss(x, reconstruction, posterior, 0, vae.last_layer)
    value.backward()
    assert 0 < logs["d_weight"] <= 0.5 * 1e4
    assert all(torch.isfinite(p.grad).all() for p in vae.parameters() if p.grad is not None)
    assert vae.encoder.conv_in.weight.grad is not None


def test_discriminator_shape_init_and_no_batchnorm() -> None:
    disc = NLayerDiscriminator(VAELossConfig(disc_layers=3, disc_channels=64), in_channels=1)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in disc.modules())
    assert disc(torch.randn(1, 1, 64, 64)).shape == (1, 1, 6, 6)  # batch size 1 in train mode
    assert disc(torch.randn(2, 1, 64, 96)).shape == (2, 1, 6, 10)
    widest = disc.main[-4].weight  # the stride-1 conv, 256 -> 512 channels, 2 M weights
    assert abs(widest.std().item() - 0.02) < 1e-3 and abs(widest.mean().item()) < 1e-3


def test_discriminator_is_per_sample() -> None:
    disc = NLayerDiscriminator(VAELossConfig(disc_channels=8), in_channels=1)
    a, b = torch.randn(1, 1, 32, 32), torch.randn(1, 1, 32, 32)
    torch.testing.assert_close(disc(torch.cat([a, b]))[:1], disc(a))
    disc.eval()
    torch.testing.assert_close(disc(torch.cat([a, b]))[1:], disc(b))


def test_discriminator_rejects_too_small_input() -> None:
    disc = NLayerDiscriminator(VAELossConfig(disc_layers=3, disc_channels=8), in_channels=1)
    with pytest.raises(ValueError, match=r"H, W >= 24; got shape \(1, 1, 16, 64\)"):
        disc(torch.zeros(1, 1, 16, 64))
