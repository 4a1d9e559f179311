"""The frozen condition stages of a multi-condition LDM (`diffusion.building_vae_uri`, `antenna_vae_uri`): loaded,
checked against the part they encode, and their latent scale factors estimated on the training conditions."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from radiodiff.config import Config, ConfigError
from radiodiff.inference import CONDITION_URI_KEYS, condition_stage_uris, load_vae, resolve_vae_package
from radiodiff.models.latent_condition import LatentCondition

__all__ = ["build_latent_condition"]

SCALE_BATCHES = 16
"""Training batches whose condition latents estimate each part's scale factor."""


def build_latent_condition(config: Config, train_set: Dataset, device: torch.device) -> LatentCondition | None:
    """The LatentCondition of the config's condition stages, scale factors estimated; None when it names none.

    Raises:
        ConfigError: condition stages on the radiomapseer layout, or a stage trained on another `data.target`.
    """
    uris = condition_stage_uris(config)
    if not uris:
        return None
    if config.data.layout != "icassp":
        raise ConfigError(f"diffusion.{CONDITION_URI_KEYS[next(iter(uris))]}: condition stages need data.layout=icassp")
    stages = {}
    for part, uri in uris.items():
        vae, vae_config = load_vae(resolve_vae_package(uri), device=str(device))
        if vae_config.data.target != part:
            raise ConfigError(
                f"diffusion.{CONDITION_URI_KEYS[part]} = {uri} is a VAE of data.target={vae_config.data.target}; "
                f"it must be the {part} VAE (trained with data.target={part})"
            )
        stages[part] = vae
    condition = LatentCondition(stages).to(device)
    loader = DataLoader(train_set, batch_size=config.ldm_train.batch_for(config.data), shuffle=False)
    means: dict[str, list[torch.Tensor]] = {part: [] for part in condition.parts}
    for i, batch in enumerate(loader):
        if i >= SCALE_BATCHES:
            break
        for part, mean in condition.unscaled(batch["cond"].to(device)).items():
            means[part].append(mean.cpu())
    for part, values in means.items():  # 1 / std of the latents (Rombach et al. 2022's recipe)
        condition.set_scale(part, float(1.0 / torch.cat(values).std().clamp_min(1e-8)))
    return condition
