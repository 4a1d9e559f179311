"""train_vae end to end on a real sqlite MLflow store: what the run records, exact resume, NaN survival."""

from __future__ import annotations

import math
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient
from safetensors.torch import load_file
from training_helpers import PROJECT_ROOT, TINY_VAE, assert_same_history, history, run_radiodiff, runs_by_start

from radiodiff.config import Config, load
from radiodiff.data.generated import fingerprint
from radiodiff.jobs.train_vae import train_vae
from radiodiff.training.faults import NAN_STEPS_VARIABLE

TRAIN_KEYS = ["loss", "loss_rec", "loss_kl", "loss_g", "loss_d", "d_weight", "lr", "grad_norm", "samples_per_s"]


def test_train_vae_run_records_everything(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "1")
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING", "1")
    config = load(PROJECT_ROOT / "configs/default.yaml", TINY_VAE + " tracking.system_metrics=true")
    run_id = train_vae(config)

    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["cfg.vae.channels"] == "8"
    assert run.data.params["cfg.vae_loss.disc_start"] == "10"
    assert run.data.tags["radiodiff.entry_point"] == "train_vae"
    assert run.data.tags["radiodiff.phase"] == "vae_gan"
    assert run.data.tags["radiodiff.vae_uri"] == "models:/radiodiff-vae/1"
    assert [d.dataset.name for d in run.inputs.dataset_inputs] == [f"generated-{_fingerprint(config)}"]

    for key in [*TRAIN_KEYS, "nan_skips"]:
        assert [s for s, _ in history(client, run_id, f"train/{key}")] == list(range(2, 25, 2)), key
    assert [s for s, _ in history(client, run_id, "val/rmse")] == [0, 8, 16, 24]
    for key in ("val/ssim", "val/psnr", "val/nmse", "baseline/mean_map_rmse"):
        assert key in run.data.metrics
    assert any(k.startswith("system/") for k in run.data.metrics)
    lrs = [v for _, v in history(client, run_id, "train/lr")]
    assert lrs[1] > lrs[-1] >= config.vae_train.lr * config.vae_train.lr_floor - 1e-12

    artifacts = _artifact_paths(client, run_id)
    assert "config/resolved.yaml" in artifacts
    for which in ("last", "best"):
        for name in (
            "autoencoder.safetensors",
            "autoencoder.ema.safetensors",
            "discriminator.safetensors",
            "config.yaml",
            "state.json",
            "training_state.pt",
        ):
            assert f"checkpoints/{which}/{name}" in artifacts
    sample_steps = {
        int(p.split("+")[2]) for p in artifacts if p.startswith("images/samples+step+") and p.endswith(".png")
    }
    assert sample_steps == {0, 8, 16, 24}
    version = client.get_model_version("radiodiff-vae", "1")
    assert version.run_id == run_id


# The speed levers (docs/speed.md): bf16 autocast on the CPU's bf16 units.
SPEED_LEVERS = "vae_train.mixed_precision=bf16"


@pytest.mark.parametrize("levers", ["", SPEED_LEVERS], ids=["fp32", "speed-levers"])
def test_exact_resume_after_sigkill_matches_an_uninterrupted_run(home: Path, levers: str) -> None:
    overrides = f"{TINY_VAE} {levers}".strip()
    args = ["train_vae", "--config", str(PROJECT_ROOT / "configs/default.yaml"), "--overrides", overrides]
    assert run_radiodiff(args, home).returncode == 0
    killed = run_radiodiff(args, home, env={"RADIODIFF_FAULT_KILL_AT_STEP": "13"})
    assert killed.returncode == -9  # SIGKILL, after the checkpoint of step 8 and the metrics of steps 10, 12

    client = MlflowClient()
    uninterrupted, crashed = runs_by_start(client)
    assert crashed.info.status == "RUNNING"
    resumed = _mlflow_run_resume(crashed.info.run_id, home, overrides)
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    assert client.get_run(crashed.info.run_id).info.status == "FINISHED"
    for key in ("train/loss", "train/loss_rec", "train/lr", "val/rmse"):
        expected = history(client, uninterrupted.info.run_id, key)
        got = history(client, crashed.info.run_id, key)
        assert_same_history(got, expected, key)


def test_nan_batches_are_skipped_counted_and_survived(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAN_STEPS_VARIABLE, "5,9-11")  # one lone NaN step, then 3 in a row -> restore
    config = load(PROJECT_ROOT / "configs/default.yaml", TINY_VAE + " vae_train.nan_max_consecutive=3")
    run_id = train_vae(config, register=False)

    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    skips = dict(history(client, run_id, "train/nan_skips"))
    assert (skips[4], skips[6], skips[10], skips[12], skips[24]) == (0, 1, 3, 4, 4)
    assert "restored checkpoint of step 8" in run.data.tags["radiodiff.last_event"]
    assert all(math.isfinite(v) for s, v in history(client, run_id, "train/loss") if s > 12)
    weights = load_file(home / "outputs" / run_id / "checkpoints" / "last" / "autoencoder.safetensors")
    assert all(torch.isfinite(t).all() for t in weights.values())


def _mlflow_run_resume(run_id: str, home: Path, overrides: str = TINY_VAE) -> subprocess.CompletedProcess:
    """`mlflow run . -e train_vae --env-manager local --run-id RUN_ID`, as a user resumes a crashed run."""
    command = (
        f"{shlex.quote(sys.executable)} -m mlflow run {shlex.quote(str(PROJECT_ROOT))} -e train_vae "
        f"--env-manager local --run-id {run_id} -P overrides={shlex.quote(overrides)}"
    )
    env = {**os.environ, "RADIODIFF_HOME": str(home)}
    return subprocess.run(command, shell=True, cwd=home, env=env, capture_output=True, text=True)


def _artifact_paths(client: MlflowClient, run_id: str, path: str = "") -> set[str]:
    found = set()
    for info in client.list_artifacts(run_id, path or None):
        found |= _artifact_paths(client, run_id, info.path) if info.is_dir else {info.path}
    return found


def _fingerprint(config: Config) -> str:
    return fingerprint(config.generator)
