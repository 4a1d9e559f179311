"""The fixed-size UNet on larger latents: tiles, their blend (MultiDiffusion), padding, sampling at any map size."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from unet_helpers import TILE_MAP, TINY, tiny_unet

from radiodiff.config import DiffusionConfig, VAEConfig
from radiodiff.data.condition import outdoor_only
from radiodiff.diffusion import sample
from radiodiff.generation import sample_maps
from radiodiff.models.latent_codec import LatentCodec
from radiodiff.models.padding import EMPTY, crop_to, pad_to, padded_size, run_padded
from radiodiff.models.tiled_denoiser import TiledDenoiser, tile_offsets, tile_window
from radiodiff.models.unet import ConditionalUNet
from radiodiff.models.vae import AutoencoderKL


@pytest.fixture(scope="module")
def unet() -> ConditionalUNet:
    return tiny_unet()


def inputs(batch: int, latent: tuple[int, int], seed: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x_t = torch.randn(batch, 3, *latent, generator=g)
    cond = torch.rand(batch, 3, 4 * latent[0], 4 * latent[1], generator=g) * 2 - 1
    return x_t, torch.log(torch.rand(batch, generator=g) * 0.9 + 0.05) / 4, cond


class Constant(nn.Module):
    """A stand-in network of the UNet's size interface that answers constants."""

    map_size, latent_size, levels = (32, 32), (8, 8), 2

    def forward(self, x_t: torch.Tensor, t_input: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, ...]:
        assert tuple(x_t.shape[-2:]) == self.latent_size and tuple(cond.shape[-2:]) == self.map_size
        return torch.full_like(x_t, 0.7), torch.full_like(x_t, -2.5)


@pytest.mark.parametrize(("length", "tile", "multiple"), [(8, 8, 2), (16, 8, 2), (18, 8, 2), (24, 8, 4), (9, 4, 1)])
def test_tiles_cover_the_side_half_a_tile_apart_and_end_flush(length: int, tile: int, multiple: int) -> None:
    offsets = tile_offsets(length, tile, multiple)
    assert offsets[0] == 0 and offsets[-1] == length - tile
    covered = set().union(*(range(o, o + tile) for o in offsets))
    assert covered == set(range(length))
    assert all(0 < b - a <= max(multiple, tile // 2) for a, b in itertools.pairwise(offsets))
    with pytest.raises(ValueError, match="smaller than the tile"):
        tile_offsets(tile - 1, tile)


def test_window_is_positive_symmetric_and_largest_in_the_middle() -> None:
    window = tile_window((8, 6))
    assert window.shape == (8, 6) and window.min() > 0
    assert torch.equal(window, window.flip(0)) and torch.equal(window, window.flip(1))
    assert window[3:5, 2:4].min() == window.max()


def test_at_the_tile_size_it_is_the_plain_call_bit_for_bit(unet: ConditionalUNet) -> None:
    x_t, t, cond = inputs(2, unet.latent_size)
    tiled, plain = TiledDenoiser(unet)(x_t, t, cond), unet(x_t, t, cond)
    assert all(torch.equal(a, b) for a, b in zip(tiled, plain, strict=True))


def test_a_twice_larger_latent_is_tiled_and_blended(unet: ConditionalUNet) -> None:
    x_t, t, cond = inputs(2, (16, 16))
    f1, f2 = TiledDenoiser(unet)(x_t, t, cond)
    assert f1.shape == f2.shape == x_t.shape and torch.isfinite(f1).all() and torch.isfinite(f2).all()
    # Latent rows/cols 0..3 lie only in the top-left tile (tiles at 0, 4, 8): there the blend is that tile's call.
    corner = unet(x_t[..., :8, :8], t, cond[..., :32, :32])
    torch.testing.assert_close(f1[..., :4, :4], corner[0][..., :4, :4], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(f2[..., :4, :4], corner[1][..., :4, :4], rtol=1e-5, atol=1e-6)
    again = TiledDenoiser(unet, max_tile_batch=5)(x_t, t, cond)  # other chunks of the tile batch, same result
    torch.testing.assert_close(again[0], f1, rtol=1e-5, atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(TiledDenoiser(unet)(x_t, t, cond), (f1, f2), strict=True))


def test_blend_weights_are_normalised_and_cover_every_pixel() -> None:
    x_t, t, cond = inputs(3, (18, 26))  # not a multiple of the tile: the last tiles sit flush with the border
    f1, f2 = TiledDenoiser(Constant())(x_t, t, cond)
    torch.testing.assert_close(f1, torch.full_like(x_t, 0.7))
    torch.testing.assert_close(f2, torch.full_like(x_t, -2.5))
    with pytest.raises(ValueError, match="must be x_t"):
        TiledDenoiser(Constant())(x_t, t, cond[..., :-4])


def test_padding_helpers_pad_bottom_right_and_crop_back() -> None:
    assert padded_size((36, 52), 8) == (40, 56)
    assert padded_size((16, 64), 8, minimum=(32, 32)) == (32, 64)
    x = torch.randn(2, 3, 5, 7)
    padded = pad_to(x, (8, 8))
    assert padded.shape == (2, 3, 8, 8) and torch.equal(crop_to(padded, (5, 7)), x)
    assert (padded[..., 5:, :] == EMPTY).all() and (padded[..., :, 7:] == EMPTY).all()
    assert pad_to(x, (5, 7)) is x
    vae = AutoencoderKL(VAEConfig(channels=8, channel_mult=(1, 2))).eval()
    maps = torch.rand(1, 1, 30, 44) * 2 - 1
    assert run_padded(lambda m: vae(m, sample_posterior=False)[0], maps, vae.downsample_factor).shape == maps.shape


@pytest.mark.parametrize("size", [(32, 32), (64, 64), (36, 52), (16, 24)])
def test_sample_maps_returns_the_condition_size(unet: ConditionalUNet, size: tuple[int, int]) -> None:
    """Equal to the plain sampler at the UNet's own size; tiled when larger, padded when smaller or odd-sized."""
    torch.manual_seed(0)
    vae = AutoencoderKL(VAEConfig(channels=8, channel_mult=(1, 2, 4))).eval()  # f = 4, as the UNet's
    codec, diffusion = LatentCodec(vae, 0.3), DiffusionConfig(sampling_steps=2)
    cond = torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(1)) * 2 - 1
    maps = sample_maps(unet, codec, cond, [3, 4], diffusion)
    assert maps.shape == (2, 1, *size) and 0 <= maps.min() <= maps.max() <= 1
    if size == TILE_MAP:
        plain = sample(unet, cond, (2, 3, 8, 8), [3, 4], 2, diffusion.t_eps)
        assert torch.equal(maps, outdoor_only((codec.decode(plain.x0) * 0.5 + 0.5).clamp(0, 1), cond))
    assert (maps[cond[:, :1] > 0] == 0).all()  # the condition's building cells


def test_tiles_run_on_the_device_of_the_inputs() -> None:
    """The wrapper is built per call and never moved: its window must follow the inputs (meta stands for CUDA)."""
    with torch.device("meta"):
        model = ConditionalUNet(TINY, latent_channels=3, map_size=TILE_MAP).eval()
    x_t, t, cond = (v.to("meta") for v in inputs(2, (16, 16)))
    with torch.no_grad():
        f1, f2 = TiledDenoiser(model)(x_t, t, cond)
    assert f1.device.type == f2.device.type == "meta" and f1.shape == x_t.shape


def test_averaged_samples_are_the_mean_of_the_single_samples_of_their_seeds(unet: ConditionalUNet) -> None:
    """`diffusion.samples_averaged` = K: map i is the mean of the K one-sample maps of seeds i*K .. i*K + K-1."""
    torch.manual_seed(0)
    vae = AutoencoderKL(VAEConfig(channels=8, channel_mult=(1, 2, 4))).eval()
    codec = LatentCodec(vae, 0.3)
    cond = torch.rand(2, 3, *TILE_MAP, generator=torch.Generator().manual_seed(1)) * 2 - 1
    averaged = sample_maps(unet, codec, cond, [3, 4], DiffusionConfig(sampling_steps=2, samples_averaged=3))
    single = DiffusionConfig(sampling_steps=2)
    for i, seed in enumerate([3, 4]):
        draws = [sample_maps(unet, codec, cond[i : i + 1], [seed * 3 + j], single) for j in range(3)]
        torch.testing.assert_close(averaged[i : i + 1], torch.stack(draws).mean(dim=0), atol=1e-5, rtol=0)
    assert not torch.allclose(averaged, sample_maps(unet, codec, cond, [3, 4], single))
