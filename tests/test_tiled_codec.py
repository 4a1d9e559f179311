"""A crop-trained first stage on maps of other sizes: tiles of its crop, blended (radiodiff/models/tiled_codec.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from radiodiff.config import VAEConfig
from radiodiff.models.latent_codec import LatentCodec
from radiodiff.models.tiled_codec import reconstruct, run_tiled
from radiodiff.models.vae import AutoencoderKL


def test_tiles_of_a_pointwise_function_give_the_function_itself_at_any_size() -> None:
    x = torch.randn(2, 3, 45, 70)
    square = lambda t: t * t + 1  # noqa: E731  (pointwise: tiling must not change it)
    for size in ((45, 70), (16, 16), (9, 12)):  # larger than, equal to, smaller than the tile
        part = x[..., : size[0], : size[1]]
        torch.testing.assert_close(run_tiled(square, part, (16, 16), 1.0, 4, -1.0), square(part))


def test_a_downsampling_stage_keeps_latents_aligned_and_an_input_of_the_tile_size_is_one_plain_call() -> None:
    x = torch.randn(1, 1, 40, 56)
    pooled = run_tiled(lambda t: F.avg_pool2d(t, 4), x, (16, 16), 0.25, 4, 0.0)  # tile offsets are multiples of 4
    torch.testing.assert_close(pooled, F.avg_pool2d(x, 4))
    calls = []
    run_tiled(lambda t: calls.append(t.shape) or t, torch.zeros(1, 1, 16, 16), (16, 16), 1.0, 4, 0.0)
    assert calls == [torch.Size([1, 1, 16, 16])]


def test_a_crop_trained_codec_sees_only_tiles_of_its_crop() -> None:
    torch.manual_seed(0)
    vae = AutoencoderKL(VAEConfig(channels=8, channel_mult=(1, 2))).eval()
    seen = []
    encode = vae.encode
    vae.encode = lambda t: seen.append(tuple(t.shape[-2:])) or encode(t)
    codec = LatentCodec(vae, 1.0, tile=(16, 16), pad_value=-1.0)
    mean, std = codec.moments(torch.rand(2, 1, 30, 44) * 2 - 1)
    assert mean.shape == std.shape == (2, vae.config.embed_dim, 15, 22) and set(seen) == {(16, 16)}
    assert codec.decode(mean).shape == (2, 1, 30, 44)
    assert reconstruct(vae, torch.zeros(1, 1, 30, 44), (16, 16), -1.0).shape == (1, 1, 30, 44)
    assert set(seen) == {(16, 16)}
