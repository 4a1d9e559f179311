"""The second stage as a TrainingTask: the conditional UNet learns pred_KC in the frozen VAE's latent space."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from radiodiff.config import Config
from radiodiff.data.transforms import denormalize
from radiodiff.diffusion import training_loss, uniform_to_time
from radiodiff.generation import sample_maps
from radiodiff.metrics import score_maps
from radiodiff.models.latent_codec import LatentCodec
from radiodiff.models.latent_condition import LatentCondition
from radiodiff.models.summary import model_summary
from radiodiff.models.unet import ConditionalUNet
from radiodiff.seeding import make_generators, per_sample_noise, per_sample_uniform, sample_seeds, step_seeds
from radiodiff.training.prediction_grid import prediction_grid
from radiodiff.training.task import StepOutput, adamw
from radiodiff.training.vae_task import SAMPLE_ROWS


class LDMTask:
    """RadioDiff's conditional latent diffusion (FACTS §2) on top of a frozen, scaled first stage."""

    kind = "ldm"
    main_module = "denoiser"

    def __init__(
        self,
        config: Config,
        codec: LatentCodec,
        map_size: tuple[int, int],
        latent_condition: LatentCondition | None = None,
    ) -> None:
        self.config = config
        self.codec = codec
        vae = codec.vae
        self.denoiser = ConditionalUNet(
            config.ldm,
            vae.config.embed_dim,
            map_size,
            latent_factor=vae.downsample_factor,
            latent_condition=latent_condition,
        )

    def modules(self) -> dict[str, nn.Module]:
        return {"denoiser": self.denoiser}

    def optimizers(self, modules: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        return {"denoiser": adamw(modules["denoiser"], self.base_lrs()["denoiser"], self.config.ldm_train)}

    def base_lrs(self) -> dict[str, float]:
        return {"denoiser": self.config.ldm_train.lr}

    def phase(self, step: int) -> str:
        return "ldm"

    def compute(self, modules: dict[str, nn.Module], batch: dict[str, Any], step: int) -> StepOutput:
        # Every draw of a sample comes from its own generator (radiodiff.seeding): rank- and batch-independent.
        generators = make_generators(step_seeds(batch, self.config.ldm_train.seed, step), len(batch["map_id"]))
        mean, std = self._moments(batch)  # (B, C_lat, h, w)
        z0 = self.codec.sample(mean, std, per_sample_noise(generators, mean.shape[1:], mean.device, mean.dtype))
        diffusion = self.config.diffusion
        t = uniform_to_time(per_sample_uniform(generators, z0.device), diffusion.t_eps, diffusion.time_power)
        noise = per_sample_noise(generators, z0.shape[1:], z0.device, z0.dtype)
        terms = training_loss(modules["denoiser"], z0, batch["cond"], t, noise)
        logs = {"loss": terms.loss.detach(), "loss_c": terms.loss_c.detach(), "loss_eps": terms.loss_eps.detach()}
        return StepOutput(losses={"denoiser": terms.loss}, logs=logs)

    def predict(self, model: nn.Module, batch: dict[str, Any]) -> torch.Tensor:
        """Sampled radio maps (B, 1, H, W) on the [0, 1] grey scale, N = diffusion.sampling_steps."""
        seeds = sample_seeds(batch, self.config.ldm_train.seed)
        zero_buildings = self.config.data.layout == "radiomapseer"
        return sample_maps(
            model, self.codec, batch["cond"], seeds, self.config.diffusion, zero_buildings=zero_buildings
        )

    def summary(self) -> dict[str, list]:
        unet = self.denoiser
        x_t = torch.zeros(1, unet.latent_channels, *unet.latent_size)
        cond = torch.zeros(1, unet.cond_channels, *unet.map_size)
        return model_summary(unet, lambda model: model(x_t, torch.zeros(1), cond))

    @torch.no_grad()
    def validate(self, model: nn.Module, batches: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """FACTS §3 metrics of sampled maps against the truth, per validation map ({name: (n,)}).

        The validation maps are whole (`image_size`) also when training on crops: `sample_maps` runs the UNet,
        built for the crop, on overlapping tiles of the whole latent.
        """
        return score_maps((self.predict(model, b), denormalize(b["target"])) for b in batches)

    @torch.no_grad()
    def sample_grid(self, model: nn.Module, batch: dict[str, Any]) -> np.ndarray:
        """Rows of buildings | tx | truth | prediction | |error| on the project's fixed colour scales."""
        rows_batch = {k: v[:SAMPLE_ROWS] for k, v in batch.items()}
        return prediction_grid(rows_batch, self.predict(model, rows_batch))

    def _moments(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and std of the batch's radio maps: cached, or encoded now (random crops)."""
        if "latent_mean" in batch:
            return batch["latent_mean"], batch["latent_std"]
        return self.codec.moments(batch["target"])
