"""The first stage as a TrainingTask: the KL autoencoder and its PatchGAN, trained with the VAE-GAN loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from radiodiff.config import Config
from radiodiff.data.datasets import first_stage_tiling
from radiodiff.data.transforms import denormalize
from radiodiff.losses.vae_gan import VAEGANLoss
from radiodiff.metrics import score_maps
from radiodiff.models.summary import model_summary
from radiodiff.models.tiled_codec import reconstruct
from radiodiff.models.vae import AutoencoderKL
from radiodiff.seeding import make_generators, per_sample_noise, step_seeds
from radiodiff.training.task import StepOutput, adamw
from radiodiff.viz import error_rgb, radio_map_rgb

SAMPLE_ROWS = 4


class VAETask:
    """Phase 1 (`vae`): reconstruction + KL. Phase 2 (`vae_gan`, from `vae_loss.disc_start`): + PatchGAN."""

    kind = "vae"
    main_module = "autoencoder"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.autoencoder = AutoencoderKL(config.vae)
        self.loss = VAEGANLoss(config.vae_loss, config.vae.in_channels)

    def modules(self) -> dict[str, nn.Module]:
        return {"autoencoder": self.autoencoder, "discriminator": self.loss.discriminator}

    def optimizers(self, modules: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        train = self.config.vae_train
        lrs = self.base_lrs()
        return {name: adamw(modules[name], lrs[name], train) for name in ("autoencoder", "discriminator")}

    def base_lrs(self) -> dict[str, float]:
        lr = self.config.vae_train.lr
        return {"autoencoder": lr, "discriminator": self.config.vae_loss.disc_lr or lr}

    def phase(self, step: int) -> str:
        return self.loss.phase(step)

    def compute(self, modules: dict[str, nn.Module], batch: dict[str, Any], step: int) -> StepOutput:
        x = batch["target"]  # (B, 1, H, W) in [-1, 1]
        reconstruction, posterior = modules["autoencoder"](x, noise=self._posterior_noise(batch, step))
        # The generator's GAN term must not leave gradients in the discriminator's parameters.
        self.loss.discriminator.requires_grad_(False)
        loss_ae, logs = self.loss.generator_loss(x, reconstruction, posterior, step, self.autoencoder.last_layer)
        self.loss.discriminator.requires_grad_(True)
        losses = {"autoencoder": loss_ae}
        logs = dict(logs, loss_d=torch.zeros(()))
        if self.phase(step) == "vae_gan":
            # The discriminator's own loss runs through its prepared module (under DDP, the wrapper whose backward
            # all-reduces its gradients); the generator's GAN term above runs the bare module, which gets none.
            loss_d, logs_d = self.loss.discriminator_loss(x, reconstruction.detach(), step, modules["discriminator"])
            losses["discriminator"] = loss_d
            logs["loss_d"] = logs_d["loss_d"]
        return StepOutput(losses=losses, logs=logs)

    def _posterior_noise(self, batch: dict[str, Any], step: int) -> torch.Tensor:
        """eps of each sample's posterior draw, from its own generator (radiodiff.seeding): batch-independent."""
        x, f = batch["target"], self.autoencoder.downsample_factor
        generators = make_generators(step_seeds(batch, self.config.vae_train.seed, step), x.shape[0])
        latent = (self.config.vae.embed_dim, x.shape[-2] // f, x.shape[-1] // f)
        return per_sample_noise(generators, latent, x.device, x.dtype)

    def summary(self) -> dict[str, list]:
        height, width = self.config.data.crop_size or self.config.data.image_size
        example = torch.zeros(1, self.config.vae.in_channels, height, width)
        return model_summary(self.autoencoder, lambda model: model(example, sample_posterior=False))

    @torch.no_grad()
    def validate(self, model: nn.Module, batches: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """Reconstruction metrics (FACTS §3) of the posterior mean, per validation map ({name: (n,)}).

        The validation maps are whole also when training on crops: a crop-trained VAE runs on tiles of its crop
        (`first_stage_tiling`, radiodiff/models/tiled_codec.py).
        """
        return score_maps(
            (
                denormalize(reconstruct(model, b["target"], *first_stage_tiling(self.config.data))),
                denormalize(b["target"]),
            )
            for b in batches
        )

    @torch.no_grad()
    def sample_grid(self, model: nn.Module, batch: dict[str, Any]) -> np.ndarray:
        """Rows of input | reconstruction | |error|, radio maps on the project's fixed colour scale."""
        x = batch["target"][:SAMPLE_ROWS]
        reconstruction = reconstruct(model, x, *first_stage_tiling(self.config.data))
        truth = denormalize(x)[:, 0].cpu().numpy()
        rec = denormalize(reconstruction).clamp(0, 1)[:, 0].cpu().numpy()
        rows = [
            np.concatenate(
                [radio_map_rgb(t, scale="unit"), radio_map_rgb(r, scale="unit"), error_rgb(np.abs(r - t))], 1
            )
            for t, r in zip(truth, rec, strict=True)
        ]
        return np.concatenate(rows, axis=0)
