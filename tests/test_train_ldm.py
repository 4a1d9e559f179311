"""train_ldm end to end on a real sqlite MLflow store: what the run records, and exact resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from training_helpers import (
    PROJECT_ROOT,
    TINY_LDM,
    assert_same_history,
    history,
    run_radiodiff,
    runs_by_start,
    write_vae_package,
)

from radiodiff.config import ConfigError, load
from radiodiff.jobs.train_ldm import train_ldm

TRAIN_KEYS = ["loss", "loss_c", "loss_eps", "lr", "grad_norm", "samples_per_s", "nan_skips"]


def test_train_ldm_run_records_everything(home: Path) -> None:
    package = write_vae_package(home / "vae")
    config = load(PROJECT_ROOT / "configs/default.yaml", f"{TINY_LDM} diffusion.vae_uri={package}")
    run_id = train_ldm(config)

    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["cfg.diffusion.vae_uri"] == str(package)
    assert run.data.tags["radiodiff.vae_uri"] == str(package)
    assert float(run.data.params["cfg.diffusion.scale_factor"]) > 0  # estimated from the latents
    for key in TRAIN_KEYS:
        assert [s for s, _ in history(client, run_id, f"train/{key}")] == list(range(2, 13, 2)), key
    for key in ("nmse", "rmse", "ssim", "psnr"):
        assert [s for s, _ in history(client, run_id, f"val/{key}")] == [0, 4, 8, 12], key
    assert "baseline/free_space_rmse" in run.data.metrics
    images = {a.path for a in client.list_artifacts(run_id, "images")}
    assert {int(p.split("+")[2]) for p in images if p.endswith(".png")} == {0, 4, 8, 12}
    checkpoint = {a.path for a in client.list_artifacts(run_id, "checkpoints/last")}
    assert {"checkpoints/last/denoiser.safetensors", "checkpoints/last/denoiser.ema.safetensors"} <= checkpoint


def test_train_ldm_without_a_vae_says_how_to_give_one(home: Path) -> None:
    with pytest.raises(ConfigError, match="-P vae=models:/radiodiff-vae/<version>"):
        train_ldm(load(PROJECT_ROOT / "configs/default.yaml", TINY_LDM))


# The speed levers (docs/speed.md): bf16 autocast in training and in the validation's sampling.
SPEED_LEVERS = "ldm_train.mixed_precision=bf16 diffusion.sampling_precision=bf16"


@pytest.mark.parametrize("levers", ["", SPEED_LEVERS], ids=["fp32", "speed-levers"])
def test_ldm_exact_resume_after_sigkill(home: Path, levers: str) -> None:
    package = write_vae_package(home / "vae")
    overrides = f"{TINY_LDM} {levers}".strip()
    args = ["train_ldm", "--config", str(PROJECT_ROOT / "configs/default.yaml"), "--overrides", overrides]
    args += ["--vae", str(package)]
    assert run_radiodiff(args, home).returncode == 0
    assert run_radiodiff(args, home, env={"RADIODIFF_FAULT_KILL_AT_STEP": "7"}).returncode == -9

    client = MlflowClient()
    uninterrupted, crashed = runs_by_start(client)
    resumed = run_radiodiff(["train_ldm", "--resume", crashed.info.run_id], home)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    for key in ("train/loss", "train/loss_c", "train/loss_eps", "val/rmse"):
        expected = history(client, uninterrupted.info.run_id, key)
        got = history(client, crashed.info.run_id, key)
        assert_same_history(got, expected, key)
