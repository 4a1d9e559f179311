"""The RadioUNet baseline as a TrainingTask: supervised regression from the condition image to the radio map."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from radiodiff.config import Config
from radiodiff.data.condition import condition_channels
from radiodiff.data.transforms import denormalize
from radiodiff.metrics import score_maps
from radiodiff.models.padding import padded_size, run_padded
from radiodiff.models.radiounet import RadioUNet
from radiodiff.models.summary import model_summary
from radiodiff.radiounet_predictor import RADIOUNET_MODULE, unet_maps
from radiodiff.training.prediction_grid import prediction_grid
from radiodiff.training.task import StepOutput, adamw
from radiodiff.training.vae_task import SAMPLE_ROWS


class RadioUNetTask:
    """RadioUNet (Levie et al. 2021) trained with the MSE between each stage's map and the truth.

    The paper trains with the mean squared error on the map; its cascade RadioUNet_C trains the first UNet, then the
    second one on the first one's output. Here both stages train in one run on the sum of their MSEs (the first
    stage's term is the first UNet's own objective; the second stage always refines the first one's current map).
    """

    kind = "radiounet"
    main_module = RADIOUNET_MODULE

    def __init__(self, config: Config) -> None:
        self.config = config
        self.network = RadioUNet(config.radiounet, condition_channels(config.data))

    def modules(self) -> dict[str, nn.Module]:
        return {RADIOUNET_MODULE: self.network}

    def optimizers(self, modules: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        lr = self.base_lrs()[RADIOUNET_MODULE]
        return {RADIOUNET_MODULE: adamw(modules[RADIOUNET_MODULE], lr, self.config.unet_train)}

    def base_lrs(self) -> dict[str, float]:
        return {RADIOUNET_MODULE: self.config.unet_train.lr}

    def phase(self, step: int) -> str:
        return "radiounet"

    def compute(self, modules: dict[str, nn.Module], batch: dict[str, Any], step: int) -> StepOutput:
        target = batch["target"]  # (B, 1, H, W) in [-1, 1], the scale the network predicts on
        stages = run_padded(modules[RADIOUNET_MODULE], batch["cond"], self.network.multiple)  # (B, stages, H, W)
        per_stage = ((stages.float() - target) ** 2).mean(dim=(0, 2, 3))  # MSE of each stage's map, (stages,)
        loss = per_stage.sum()  # the cascade's loss: the sum over its stages
        logs = {"loss": loss.detach()}
        if len(per_stage) > 1:
            logs.update({f"loss_stage{s + 1}": value.detach() for s, value in enumerate(per_stage)})
        return StepOutput(losses={RADIOUNET_MODULE: loss}, logs=logs)

    def summary(self) -> dict[str, list]:
        size = padded_size(self.config.data.crop_size or self.config.data.image_size, self.network.multiple)
        example = torch.zeros(1, self.network.in_channels, *size)
        return model_summary(self.network, lambda model: model(example))

    @torch.no_grad()
    def validate(self, model: nn.Module, batches: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """FACTS §3 metrics of the predicted maps against the truth, per validation map ({name: (n,)}), with the
        scoring code of the LDM's validation (`score_maps`); whole maps of any size are padded and cropped back."""
        return score_maps((unet_maps(model, b["cond"]), denormalize(b["target"])) for b in batches)

    @torch.no_grad()
    def sample_grid(self, model: nn.Module, batch: dict[str, Any]) -> np.ndarray:
        """Rows of buildings | tx | truth | prediction | |error| on the project's fixed colour scales."""
        rows_batch = {k: v[:SAMPLE_ROWS] for k, v in batch.items()}
        return prediction_grid(rows_batch, unet_maps(model, rows_batch["cond"]))
