"""From a condition to radio maps: RadioDiff's few-step sampler in latent space, then the VAE decoder.

Shared by validation during training and by the inference predictor, so both sample the same way. Maps of any
size go through: the condition is padded (as open ground without a transmitter) to the UNet's multiple and at
least its tile, the UNet runs tiled where the latent is larger than the size it was built for (`TiledDenoiser`),
and the decoded map is cropped back to the condition's size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import torch
from torch import nn

from radiodiff.config import DiffusionConfig
from radiodiff.data.condition import outdoor_only
from radiodiff.data.transforms import denormalize
from radiodiff.diffusion import sample
from radiodiff.models.latent_codec import LatentCodec
from radiodiff.models.padding import crop_to, pad_to
from radiodiff.models.tiled_denoiser import TiledDenoiser
from radiodiff.models.unet import ConditionalUNet


def sampling_context(
    denoiser: nn.Module, diffusion: DiffusionConfig, device: torch.device
) -> contextlib.AbstractContextManager:
    """Where the sampler runs: the UNet reusing one condition's features across its N + 1 calls (exact), under
    bf16 autocast when `diffusion.sampling_precision` asks for it."""
    stack = contextlib.ExitStack()
    if isinstance(denoiser, ConditionalUNet):
        stack.enter_context(denoiser.reusing_condition())
    if diffusion.sampling_precision == "bf16":
        stack.enter_context(torch.autocast(device.type, dtype=torch.bfloat16))
    return stack


@torch.no_grad()
def sample_maps(
    denoiser: nn.Module,
    codec: LatentCodec,
    cond: torch.Tensor,
    seeds: Sequence[int],
    diffusion: DiffusionConfig,
    steps: int | None = None,
    *,
    zero_buildings: bool = True,
) -> torch.Tensor:
    """Radio maps for conditions, one sampler seed per map.

    Args:
        denoiser: the conditional UNet, model(x_t, t_input, cond) -> (F1, F2), in eval mode.
        codec: the frozen first stage and its latent scale factor.
        cond: (B, 3, H, W) condition images in [-1, 1], any H, W (the UNet's own map size: one plain call per
            step, bit for bit).
        seeds: B integers: map i depends only on seeds[i] and cond[i].
        diffusion: t_eps and the default number of steps.
        steps: sampler steps N (N + 1 network calls); None: `diffusion.sampling_steps`.
        zero_buildings: set the condition's building cells to 0 (`outdoor_only`: RadioMapSeer's maps are 0 there);
            False for the icassp layout, whose maps hold a path loss in every cell.
    Returns:
        (B, 1, H, W) radio maps on the [0, 1] grey scale.
    """
    tiled = TiledDenoiser(denoiser)
    size = tuple(cond.shape[-2:])
    padded = pad_to(cond, tiled.working_size(size))  # (B, 3, H', W')
    f = codec.vae.downsample_factor
    shape = (cond.shape[0], codec.vae.config.embed_dim, padded.shape[-2] // f, padded.shape[-1] // f)
    steps = steps or diffusion.sampling_steps
    k = diffusion.samples_averaged
    if k > 1:  # K samples per map, map i's from seeds i*K .. i*K + K-1: it still depends on seeds[i] alone
        padded = padded.repeat_interleave(k, dim=0)
        shape = (shape[0] * k, *shape[1:])
        seeds = [seed * k + j for seed in seeds for j in range(k)]
    with sampling_context(denoiser, diffusion, cond.device):
        result = sample(tiled, padded, shape, list(seeds), steps, diffusion.t_eps, device=cond.device)
        decoded = codec.decode(result.x0).float()
    maps = denormalize(decoded).clamp(0, 1)
    if k > 1:  # the mean of K posterior samples approaches the posterior mean, the map of least squared error
        maps = maps.reshape(-1, k, *maps.shape[1:]).mean(dim=1)
    maps = crop_to(maps, size)
    return outdoor_only(maps, cond) if zero_buildings else maps
