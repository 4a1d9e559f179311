"""The `train_ldm` job: train RadioDiff's conditional latent diffusion on top of a trained, frozen VAE."""

from __future__ import annotations

from pathlib import Path

from accelerate import PartialState
from torch.utils.data import Dataset

from radiodiff.config import Config, ConfigError
from radiodiff.data.datasets import first_stage_tiling
from radiodiff.data.generated import resolve_data_root
from radiodiff.data.icassp.tables import read_pattern_folder
from radiodiff.inference import (
    CONDITION_URI_KEYS,
    check_vae_uri,
    condition_stage_uris,
    load_vae,
    log_radiodiff_model,
    pin_model_version,
    resolve_vae_package,
)
from radiodiff.jobs.common import TrainingData, map_baselines
from radiodiff.jobs.training_run import TrainingJob, run_training
from radiodiff.models.latent_codec import LatentCodec
from radiodiff.tracking import RunTracker
from radiodiff.training.condition_stages import build_latent_condition
from radiodiff.training.latents import cache_latents, estimate_scale_factor
from radiodiff.training.ldm_task import LDMTask
from radiodiff.training.trainer import ValidationCallback


def train_ldm(
    config: Config, resume: str = "", nested: bool = False, on_validation: ValidationCallback | None = None
) -> str:
    """Train (or resume) the LDM on the VAE given by `diffusion.vae_uri`; returns the MLflow run id.

    A resumed run (`resume`, or `mlflow run --run-id` with no `-P vae`) takes the VAE from its checkpoint's config.
    `on_validation` is called with (step, scores) after each validation and may stop training (`TrainingStopped`).
    """
    job = TrainingJob("train_ldm", lambda c: c.ldm_train, _build_task, _baselines, _export, check=_check_vae)
    return run_training(job, config, resume=resume, nested=nested, on_validation=on_validation)


def _check_vae(config: Config) -> None:
    """Before any data is read: a VAE URI is given and names a VAE package."""
    if not config.diffusion.vae_uri:
        raise ConfigError(
            "train_ldm needs a trained VAE: pass -P vae=models:/radiodiff-vae/<version> (or runs:/<run_id>/vae, "
            "or set diffusion.vae_uri)"
        )
    check_vae_uri(config.diffusion.vae_uri)
    for uri in condition_stage_uris(config).values():
        check_vae_uri(uri)


def _build_task(config: Config, data: TrainingData) -> tuple[LDMTask, Dataset, Config]:
    device = PartialState().device
    config = _pinned_stages(config)
    vae, _ = load_vae(resolve_vae_package(config.diffusion.vae_uri), device=device)
    _check_training_size(config, vae.downsample_factor * 2 ** (len(config.ldm.channel_mult) - 1))
    train_set: Dataset = data.splits["train"]
    codec = LatentCodec(vae, config.diffusion.scale_factor or 1.0, *first_stage_tiling(config.data))
    if config.diffusion.cache_latents and config.data.crop_size is None:
        train_set = cache_latents(train_set, codec, batch_size=config.ldm_train.batch_for(config.data))
    if config.diffusion.scale_factor == 0:
        source = train_set if hasattr(train_set, "means") else cache_latents(data.splits["train"], codec)
        config = config.with_overrides({"diffusion.scale_factor": estimate_scale_factor(source)})
        codec.scale_factor = config.diffusion.scale_factor
    latent_condition = build_latent_condition(config, data.splits["train"], device)
    map_size = tuple(config.data.crop_size or config.data.image_size)
    return LDMTask(config, codec, map_size, latent_condition), train_set, config


def _pinned_stages(config: Config) -> Config:
    """The config with every `models:/<name>/latest` first stage pinned to its version now (a resumed run, and
    the logged params, name the stages it was trained on)."""
    keys = ["vae_uri", *(CONDITION_URI_KEYS[part] for part in condition_stage_uris(config))]
    pinned = {f"diffusion.{key}": pin_model_version(getattr(config.diffusion, key)) for key in keys}
    return config.with_overrides(pinned)


def _check_training_size(config: Config, multiple: int) -> None:
    """The UNet is built for the training size (the crop, else the whole map); validation maps of any size are
    padded and tiled (`sample_maps`)."""
    key = "data.crop_size" if config.data.crop_size is not None else "data.image_size"
    size = config.data.crop_size or config.data.image_size
    if size[0] % multiple or size[1] % multiple:
        raise ConfigError(
            f"{key} = {list(size)}: the VAE and the UNet's {len(config.ldm.channel_mult)} levels need "
            f"sides that are multiples of {multiple}"
        )


def _baselines(config: Config, data: TrainingData) -> dict[str, float]:
    """Free space fitted on the training maps and the mean training map, on the maps val/* is measured on."""
    return map_baselines(data, config, config.ldm_train)


def _export(config: Config, checkpoint: Path, step: int, tracker: RunTracker) -> None:
    """Log the whole map predictor (VAE + UNet) as the run's pyfunc model `model`; `evaluate` registers it."""
    patterns = read_pattern_folder(resolve_data_root(config)) if config.data.layout == "icassp" else None
    model_uri = log_radiodiff_model(checkpoint, config.diffusion.vae_uri, step, patterns)
    tracker.set_tags({"radiodiff.vae_uri": config.diffusion.vae_uri, "radiodiff.model_uri": model_uri})
