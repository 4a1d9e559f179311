"""Tiny training configs and a way to run the real command line in a subprocess (tests only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# A VAE small enough to train 24 steps in a few seconds on 2 CPU cores, on 32x32 generated maps.
TINY_VAE = (
    "generator.maps=6 generator.tx_per_map=2 generator.size=32 generator.workers=1 "
    "data.image_size=[32,32] data.batch_size=4 "
    "vae.channels=8 vae.channel_mult=[1,2] "
    "vae_train.steps=24 vae_train.warmup_steps=4 vae_train.val_every=8 vae_train.sample_every=8 "
    "vae_train.checkpoint_every=8 vae_train.val_batches=2 vae_loss.disc_start=10 "
    "tracking.log_every=2 tracking.system_metrics=false"
)


# TINY_VAE as a sweep trial: 8 steps without the GAN phase, validated every 2 steps (a pruner has 4 points to act on).
SWEEP_VAE = (
    f"{TINY_VAE} vae_train.steps=8 vae_train.val_every=2 vae_train.sample_every=8 vae_train.checkpoint_every=8 "
    "vae_train.val_batches=1 vae_loss.disc_start=100"
)


def run_radiodiff(args: list[str], home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`radiodiff ARGS` in a fresh process whose RADIODIFF_HOME and working directory are `home`."""
    environment = {**os.environ, "RADIODIFF_HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "radiodiff", *args], cwd=home, env=environment, capture_output=True, text=True
    )


def run_mlflow(
    entry_point: str,
    home: Path,
    params: dict[str, str] | None = None,
    options: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """`mlflow run PROJECT -e ENTRY --env-manager local [OPTIONS] [-P k=v ...]` as a user runs it (RADIODIFF_HOME
    and the working directory are `home`; the tracking store is the caller's MLFLOW_TRACKING_URI)."""
    command = [sys.executable, "-m", "mlflow", "run", str(PROJECT_ROOT), "-e", entry_point, "--env-manager", "local"]
    command += options or []
    for key, value in (params or {}).items():
        command += ["-P", f"{key}={value}"]
    environment = {**os.environ, "RADIODIFF_HOME": str(home), **(env or {})}
    return subprocess.run(command, cwd=home, env=environment, capture_output=True, text=True)


def error_lines(output: str) -> list[str]:
    """The `radiodiff <command>: error: ...` lines of a process's output."""
    return [line for line in output.splitlines() if line.startswith("radiodiff ") and ": error: " in line]


def history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    """(step, value) pairs of a metric, in step order, duplicates kept."""
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def assert_same_history(got: list[tuple[int, float]], expected: list[tuple[int, float]], key: str) -> None:
    """Two metric histories (`history`) with the same steps (none missing, none duplicated) and values within 1e-6:
    what an exact resume leaves."""
    assert [s for s, _ in got] == [s for s, _ in expected], key
    assert max(abs(a - b) for (_, a), (_, b) in zip(got, expected, strict=True)) <= 1e-6, key


def runs_by_start(client: MlflowClient, experiment: str = "Default") -> list:
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    return client.search_runs([experiment_id], order_by=["attributes.start_time ASC"])


# A conditional UNet small enough for a few CPU steps on 32x32 maps (latent 3x16x16 from the tiny VAE), with the
# EMA on (the CPU default has none for the LDM), so checkpoints, resume and export cover the EMA weights too.
TINY_LDM = (
    "generator.maps=6 generator.tx_per_map=2 generator.size=32 generator.workers=1 "
    "data.image_size=[32,32] data.batch_size=4 vae.channels=8 vae.channel_mult=[1,2] "
    "ldm.channels=8 ldm.channel_mult=[1,2] ldm.attention_heads=2 ldm.window_size=4 "
    "diffusion.sampling_steps=2 diffusion.scale_factor=0 "
    "ldm_train.steps=12 ldm_train.warmup_steps=2 ldm_train.val_every=4 ldm_train.sample_every=4 "
    "ldm_train.checkpoint_every=4 ldm_train.val_batches=1 ldm_train.ema_decay=0.99 "
    "tracking.log_every=2 tracking.system_metrics=false"
)

# A RadioUNet small enough for a few CPU steps on the 32x32 maps of TINY_LDM's data set (the same generated maps).
TINY_UNET = (
    "generator.maps=6 generator.tx_per_map=2 generator.size=32 generator.workers=1 "
    "data.image_size=[32,32] data.batch_size=4 "
    "radiounet.channels=8 radiounet.channel_mult=[1,2,4] radiounet.convs_per_level=1 "
    "unet_train.steps=12 unet_train.warmup_steps=2 unet_train.val_every=4 unet_train.sample_every=4 "
    "unet_train.checkpoint_every=4 unet_train.val_batches=1 tracking.log_every=2 tracking.system_metrics=false"
)


def write_vae_package(folder: Path, overrides: str = TINY_LDM) -> Path:
    """A model package of a randomly initialised tiny VAE (config.yaml + autoencoder.safetensors)."""
    import torch
    from safetensors.torch import save_file

    from radiodiff.config import dump, load
    from radiodiff.models.vae import AutoencoderKL
    from radiodiff.models.weight_files import weights_file

    config = load(PROJECT_ROOT / "configs/default.yaml", overrides)
    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(AutoencoderKL(config.vae).state_dict(), weights_file(folder, "autoencoder"))
    (folder / "config.yaml").write_text(dump(config))
    return folder


def write_model_package(folder: Path, overrides: str = "") -> Path:
    """A RadioDiff model package (VAE + denoiser) of a randomly initialised tiny VAE and UNet built for 32x32 maps,
    TINY_LDM with `overrides` on top."""
    import torch
    from safetensors.torch import save_file

    from radiodiff.config import load
    from radiodiff.models.unet import ConditionalUNet
    from radiodiff.models.weight_files import weights_file

    folder = write_vae_package(folder, f"{TINY_LDM} diffusion.scale_factor=0.3 {overrides}".strip())
    config = load(folder / "config.yaml")
    unet = ConditionalUNet(config.ldm, config.vae.embed_dim, (32, 32), latent_factor=2)
    for decoder in unet.decoders:  # zero-initialised outputs would make every map the same
        torch.nn.init.normal_(decoder.conv_out.weight, std=0.1)
    save_file(unet.state_dict(), weights_file(folder, "denoiser"))
    return folder
