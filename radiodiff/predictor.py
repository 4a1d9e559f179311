"""The radio-map predictor (pure torch): building maps + transmitter maps -> radio maps.

`MapPredictor` holds what every model type shares (the request checks and the condition images); the RadioUNet
baseline's predictor is `radiodiff.radiounet_predictor`. `RadioMapPredictor` loads a RadioDiff model package, a
folder holding
    config.yaml                 the LDM run's config, whose `vae` section is the first stage's own
    autoencoder.safetensors     the frozen VAE
    denoiser.safetensors        the conditional UNet (EMA weights)
Maps are predicted on their own pixel grid, at any H x W >= 8 x 8, square or not, never resized: a pixel keeps
the physical size it had in training (`data.image_size` of the RadioMapSeer maps), whatever the area covered.
The UNet is built for its training size (`map_size`: the crop size of a crop-trained model); `sample_maps` pads a
smaller or odd-sized scene as open ground and covers a larger one with overlapping tiles of that size.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from radiodiff.config import Config, load
from radiodiff.data.condition import condition_image
from radiodiff.data.datasets import first_stage_tiling
from radiodiff.data.transforms import locate_tx
from radiodiff.generation import sample_maps
from radiodiff.models.latent_codec import LatentCodec
from radiodiff.models.latent_condition import CONDITION_PARTS, LatentCondition, stage_config_name
from radiodiff.models.unet import ConditionalUNet
from radiodiff.models.vae import AutoencoderKL
from radiodiff.prediction_request import sampler_params, scene_arrays


class MapPredictor:
    """What every map predictor shares: the scene inputs of a request, checked (`radiodiff.prediction_request`) and
    turned into condition images as the training data is (`condition_image`), then `predict_conditions`.

    Subclasses set `model_type`, `config` (the trained model's) and `device`, and implement `predict_conditions`.
    """

    model_type: str
    """"radiodiff" (VAE + latent diffusion) or "radiounet" (the supervised baseline)."""
    config: Config
    device: torch.device

    def predict(
        self,
        buildings: np.ndarray,
        tx: np.ndarray,
        steps: int | None = None,
        seed: int = 0,
        cars: np.ndarray | None = None,
    ) -> np.ndarray:
        """Radio maps for a batch of scenes.

        Args:
            buildings: (B, H, W) building masks, 1 (or 255) inside buildings, 0 outside.
            tx: (B, H, W) transmitter maps: the brightest pixel (or blob) marks the transmitter.
            steps: sampler steps N (N + 1 network calls); None or 0: the model's configured number.
            seed: map i is sampled with seed + i.
            cars: (B, H, W) car masks like `buildings`; required by a model of the dynamic setting (DRM).
        Returns:
            (B, H, W) float32 path gain on the grey scale [0, 1] (0 = at or below -147 dB, 1 = -47 dB), on the
            inputs' own grid.
        Raises:
            InputError: a request outside `radiodiff.prediction_request`'s limits (the message names the input or
                param): inputs of the wrong shape, with non-finite values, without a transmitter, `cars` missing
                for a DRM model or given to a static one, `steps` or `seed` out of range.
        """
        return self.predict_inputs({"buildings": buildings, "tx": tx, "cars": cars}, steps, seed)

    def predict_inputs(self, inputs: Mapping[str, object], steps: object = None, seed: object = None) -> np.ndarray:
        """`predict` for named inputs (`CONDITION_INPUTS` of the model's setting), as a served request holds them."""
        params = sampler_params(steps, seed)
        scene = scene_arrays(self.config.data.setting, inputs)
        scenes = zip(scene["buildings"], scene["tx"], scene.get("cars", [None] * len(scene["tx"])), strict=True)
        cond = torch.from_numpy(np.stack([self._condition(*parts) for parts in scenes]))
        maps = self.predict_conditions(cond, [params.seed + i for i in range(len(cond))], params.steps)
        return maps[:, 0].cpu().numpy().astype(np.float32)

    def predict_conditions(self, cond: torch.Tensor, seeds: list[int], steps: int | None = None) -> torch.Tensor:
        """Radio maps (B, 1, H, W) in [0, 1] for condition images (B, C, H, W) in [-1, 1] of any size."""
        raise NotImplementedError

    def _condition(self, buildings: np.ndarray, tx: np.ndarray, cars: np.ndarray | None) -> np.ndarray:
        """(C, H, W) in [-1, 1] on the input's own grid, built as the training data is (`condition_image`)."""
        position = locate_tx(_to_uint8(tx))
        masks = [None if m is None else _mask(m) for m in (buildings, cars)]
        return condition_image(masks[0], position, self.config.data, masks[1])


class RadioMapPredictor(MapPredictor):
    """Predicts path-gain maps on the RadioMapSeer grey scale [0, 1] (FACTS §1) with RadioDiff."""

    model_type = "radiodiff"

    def __init__(self, package_dir: str | Path, device: str = "cpu") -> None:
        package_dir = Path(package_dir)
        self.config = load(package_dir / "config.yaml")
        self.device = torch.device(device)
        vae = AutoencoderKL(self.config.vae)
        vae.load_state_dict(load_file(package_dir / "autoencoder.safetensors"))
        self.map_size = tuple(self.config.data.crop_size or self.config.data.image_size)  # the UNet's (tile) size
        self.denoiser = ConditionalUNet(
            self.config.ldm,
            self.config.vae.embed_dim,
            self.map_size,
            latent_factor=vae.downsample_factor,
            latent_condition=_latent_condition(package_dir),
        )
        self.denoiser.load_state_dict(load_file(package_dir / "denoiser.safetensors"))
        self.denoiser.to(self.device).eval().requires_grad_(False)
        tile, pad_value = first_stage_tiling(self.config.data)
        self.codec = LatentCodec(vae.to(self.device), self.config.diffusion.scale_factor, tile, pad_value)

    def predict_conditions(self, cond: torch.Tensor, seeds: list[int], steps: int | None = None) -> torch.Tensor:
        """Radio maps (B, 1, H, W) in [0, 1] for condition images (B, 3, H, W) in [-1, 1] of any size."""
        outdoor = self.config.data.layout == "radiomapseer"
        cond = cond.to(self.device)
        return sample_maps(self.denoiser, self.codec, cond, seeds, self.config.diffusion, steps, zero_buildings=outdoor)


def _latent_condition(package_dir: Path) -> LatentCondition | None:
    """The condition stages of a multi-condition package (`condition_<part>.yaml`), untrained: their weights and
    scale factors are the denoiser's."""
    stages = {
        part: AutoencoderKL(load(package_dir / stage_config_name(part)).vae)
        for part in CONDITION_PARTS
        if (package_dir / stage_config_name(part)).is_file()
    }
    return LatentCondition(stages) if stages else None


def _mask(values: np.ndarray) -> np.ndarray:
    """A 0/1 or 0/255 mask as RadioMapSeer's uint8 grey levels (255 inside)."""
    threshold = 127.5 if values.max() > 1 else 0.5
    return np.where(values > threshold, 255, 0).astype(np.uint8)


def _to_uint8(tx: np.ndarray) -> np.ndarray:
    return np.rint(255 * tx / tx.max()).astype(np.uint8)
