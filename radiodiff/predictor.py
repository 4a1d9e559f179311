"""The radio-map predictor (pure torch): building maps + transmitter maps -> radio maps.

It loads a RadioDiff model package, a folder holding
    config.yaml                 the LDM run's config, whose `vae` section is the first stage's own
    autoencoder.safetensors     the frozen VAE
    denoiser.safetensors        the conditional UNet (EMA weights)
Maps of another size than the model's are resized to it (buildings nearest, the transmitter re-drawn at its
scaled position) and the prediction is resized back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from radiodiff.config import Config, load
from radiodiff.data.transforms import locate_tx, render_tx, resize_mask, scale_tx
from radiodiff.generation import sample_maps
from radiodiff.models.latent_codec import LatentCodec
from radiodiff.models.unet import ConditionalUNet
from radiodiff.models.vae import AutoencoderKL


class InputError(ValueError):
    """Predictor input of the wrong shape or with non-finite values; the message says what is wrong."""


class RadioMapPredictor:
    """Predicts path-gain maps on the RadioMapSeer grey scale [0, 1] (FACTS §1)."""

    def __init__(self, package_dir: str | Path, device: str = "cpu") -> None:
        package_dir = Path(package_dir)
        self.config: Config = load(package_dir / "config.yaml")
        self.device = torch.device(device)
        vae = AutoencoderKL(self.config.vae)
        vae.load_state_dict(load_file(package_dir / "autoencoder.safetensors"))
        self.map_size = tuple(self.config.data.crop_size or self.config.data.image_size)
        self.denoiser = ConditionalUNet(
            self.config.ldm, self.config.vae.embed_dim, self.map_size, latent_factor=vae.downsample_factor
        )
        self.denoiser.load_state_dict(load_file(package_dir / "denoiser.safetensors"))
        self.denoiser.to(self.device).eval().requires_grad_(False)
        self.codec = LatentCodec(vae.to(self.device), self.config.diffusion.scale_factor)

    def predict(self, buildings: np.ndarray, tx: np.ndarray, steps: int | None = None, seed: int = 0) -> np.ndarray:
        """Radio maps for a batch of scenes.

        Args:
            buildings: (B, H, W) building masks, 1 (or 255) inside buildings, 0 outside.
            tx: (B, H, W) transmitter maps: the brightest pixel (or blob) marks the transmitter.
            steps: sampler steps N (N + 1 network calls); None: the model's configured number.
            seed: map i is sampled with seed + i.
        Returns:
            (B, H, W) float32 path gain on the grey scale [0, 1] (0 = at or below -147 dB, 1 = -47 dB).
        """
        buildings, tx = _check_inputs(buildings, tx)
        cond = torch.from_numpy(np.stack([self._condition(b, t) for b, t in zip(buildings, tx, strict=True)]))
        maps = self.predict_conditions(cond, [seed + i for i in range(len(buildings))], steps)
        if maps.shape[-2:] != buildings.shape[-2:]:
            maps = F.interpolate(maps, size=buildings.shape[-2:], mode="bilinear", align_corners=False)
        return maps[:, 0].cpu().numpy().astype(np.float32)

    def predict_conditions(self, cond: torch.Tensor, seeds: list[int], steps: int | None = None) -> torch.Tensor:
        """Radio maps (B, 1, H', W') in [0, 1] for condition images (B, 3, H', W') in [-1, 1] at the model's size."""
        return sample_maps(self.denoiser, self.codec, cond.to(self.device), seeds, self.config.diffusion, steps)

    def _condition(self, buildings: np.ndarray, tx: np.ndarray) -> np.ndarray:
        """(3, H', W') in [-1, 1] at the model's size: [buildings, tx, buildings] (static setting)."""
        mask = resize_mask((buildings > 0.5).astype(np.uint8) * 255, self.map_size)
        position = scale_tx(locate_tx(_to_uint8(tx)), tx.shape, self.map_size)
        marker = render_tx(position, self.map_size, self.config.data.tx_radius)
        return np.stack([mask, marker, mask]).astype(np.float32) / 127.5 - 1.0


def _check_inputs(buildings: np.ndarray, tx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    buildings, tx = np.asarray(buildings, dtype=np.float32), np.asarray(tx, dtype=np.float32)
    if buildings.ndim != 3 or tx.shape != buildings.shape:
        raise InputError(f"buildings and tx must both be (B, H, W); got {buildings.shape} and {tx.shape}")
    if min(buildings.shape[1:]) < 8:
        raise InputError(f"maps must be at least 8x8 pixels; got {buildings.shape[1:]}")
    for name, values in (("buildings", buildings), ("tx", tx)):
        if not np.isfinite(values).all():
            raise InputError(f"{name} contains NaN or infinite values")
    if (tx.reshape(len(tx), -1).max(axis=1) <= 0).any():
        raise InputError("every tx map needs a positive pixel at the transmitter; one is all zero")
    if buildings.max() > 1:
        buildings = buildings / 255.0
    return buildings, tx


def _to_uint8(tx: np.ndarray) -> np.ndarray:
    return np.rint(255 * tx / tx.max()).astype(np.uint8)
