"""The sampler's speed levers (docs/speed.md): condition features reused across its calls, bf16 sampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from training_helpers import write_model_package
from unet_helpers import TILE_MAP, tiny_unet

from radiodiff.config import DiffusionConfig, VAEConfig
from radiodiff.data.condition import outdoor_only
from radiodiff.diffusion import sample
from radiodiff.generation import sample_maps
from radiodiff.models.latent_codec import LatentCodec
from radiodiff.models.tiled_denoiser import TiledDenoiser
from radiodiff.models.unet import ConditionalUNet
from radiodiff.models.vae import AutoencoderKL
from radiodiff.predictor import RadioMapPredictor


@pytest.fixture(scope="module")
def unet() -> ConditionalUNet:
    return tiny_unet()


@pytest.fixture(scope="module")
def codec() -> LatentCodec:
    torch.manual_seed(0)
    return LatentCodec(AutoencoderKL(VAEConfig(channels=8, channel_mult=(1, 2, 4))).eval(), 0.3)


def conditions(batch: int, size: tuple[int, int]) -> torch.Tensor:
    return torch.rand(batch, 3, *size, generator=torch.Generator().manual_seed(1)) * 2 - 1


def count_encodings(unet: ConditionalUNet, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    encode = unet.cond_encoder.forward
    monkeypatch.setattr(unet.cond_encoder, "forward", lambda c: calls.append(len(c)) or encode(c))
    return calls


@pytest.mark.parametrize("size", [TILE_MAP, (64, 64)], ids=["plain", "tiled"])
def test_the_condition_is_encoded_once_per_sampling_and_the_maps_are_unchanged(
    unet: ConditionalUNet, codec: LatentCodec, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """N = 5 is 6 UNet calls but one encoding of the condition (the tiled map: one per tile batch), bit for bit."""
    cond, diffusion = conditions(2, size), DiffusionConfig(sampling_steps=5)
    calls = count_encodings(unet, monkeypatch)
    maps = sample_maps(unet, codec, cond, [3, 4], diffusion)
    tiles = 1 if size == TILE_MAP else 9  # 64 px: latent 16, tiles of 8 at offsets 0, 4, 8 per axis
    assert calls == [2 * tiles]

    calls.clear()
    latent = (2, 3, size[0] // 4, size[1] // 4)
    plain = sample(TiledDenoiser(unet), cond, latent, [3, 4], 5, diffusion.t_eps)  # no reuse: every call encodes
    assert len(calls) == 6
    assert torch.equal(maps, outdoor_only((codec.decode(plain.x0) * 0.5 + 0.5).clamp(0, 1), cond))


def test_features_are_reused_only_inside_sampling_and_without_autograd(
    unet: ConditionalUNet, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_encodings(unet, monkeypatch)
    cond, x_t, t = conditions(1, TILE_MAP), torch.zeros(1, 3, 8, 8), torch.zeros(1)
    unet(x_t, t, cond)
    unet(x_t, t, cond)
    with unet.reusing_condition(), torch.enable_grad():
        unet(x_t, t, cond)
    with unet.reusing_condition(), torch.no_grad():
        unet(x_t, t, cond)
        unet(x_t, t, cond.clone())  # equal values: reused
        unet(x_t, t, -cond)  # another condition: encoded
    assert len(calls) == 5


def test_bf16_sampling_returns_fp32_maps_close_to_the_fp32_ones(unet: ConditionalUNet, codec: LatentCodec) -> None:
    cond = conditions(4, TILE_MAP)
    fp32 = sample_maps(unet, codec, cond, [0, 1, 2, 3], DiffusionConfig(sampling_steps=2))
    bf16 = sample_maps(unet, codec, cond, [0, 1, 2, 3], DiffusionConfig(sampling_steps=2, sampling_precision="bf16"))
    assert bf16.dtype == torch.float32 and bf16.shape == fp32.shape
    assert not torch.equal(bf16, fp32)  # autocast did run in bf16
    assert (bf16 - fp32).abs().mean() < 0.01  # grey levels in [0, 1]


@pytest.mark.parametrize("precision", ["no", "bf16"])
def test_the_exported_model_samples_a_request_of_several_scenes_in_one_pass(
    tmp_path: Path, precision: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `mlflow.pyfunc` and `mlflow models serve` run: a request of B scenes is one sampler pass at batch B (the
    condition encoded once for all B), under bf16 autocast when the model's `diffusion.sampling_precision` says so,
    and each map is the one its scene alone would get (seed + i)."""
    predictor = RadioMapPredictor(write_model_package(tmp_path, f"diffusion.sampling_precision={precision}"))
    encodings = count_encodings(predictor.denoiser, monkeypatch)
    calls: list[tuple[int, bool]] = []
    record = lambda _, args: calls.append((len(args[0]), torch.is_autocast_enabled("cpu")))  # noqa: E731
    predictor.denoiser.register_forward_pre_hook(record)
    buildings = np.zeros((3, 32, 32), np.float32)
    buildings[:, 4:12, 6:20] = 1.0
    tx = np.zeros_like(buildings)
    for i, (row, col) in enumerate([(20, 5), (25, 25), (14, 28)]):
        tx[i, row, col] = 1.0

    maps = predictor.predict(buildings, tx, steps=2, seed=5)
    assert encodings == [3] and calls == [(3, precision == "bf16")] * 3  # N = 2: 3 UNet calls
    alone = [predictor.predict(buildings[i : i + 1], tx[i : i + 1], steps=2, seed=5 + i) for i in range(3)]
    np.testing.assert_allclose(maps, np.concatenate(alone), atol=1e-4 if precision == "no" else 2e-2)
