"""`radiodiff train_vae` through a real `radiodiff server` on a real PostgreSQL, read back over plain HTTP: params,
metrics and sample images in the store, checkpoints in the proxied artifacts folder."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from server_helpers import TrackingServer, artifact_paths, metric_steps, request, runs_of
from training_helpers import PROJECT_ROOT, TINY_VAE, run_radiodiff

CHECKPOINT_FILES = ("autoencoder.safetensors", "config.yaml", "state.json", "training_state.pt")


def test_train_vae_through_the_server(tracking_server: TrackingServer, tmp_path: Path) -> None:
    args = ["train_vae", "--config", str(PROJECT_ROOT / "configs/default.yaml"), "--overrides", TINY_VAE]
    done = run_radiodiff(args, tmp_path, env=tracking_server.client_env())
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlflow.db").exists()  # nothing went local

    (run,) = runs_of(tracking_server, "train_vae")
    info, run_id = run["info"], run["info"]["run_id"]
    assert info["status"] == "FINISHED"
    assert info["artifact_uri"].startswith("mlflow-artifacts:/")  # proxied: clients never touch the folder
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    assert params["cfg.vae.channels"] == "8" and params["cfg.vae_train.steps"] == "24"
    assert metric_steps(tracking_server, run_id, "train/loss") == list(range(2, 25, 2))
    assert metric_steps(tracking_server, run_id, "val/rmse") == [0, 8, 16, 24]

    artifacts = artifact_paths(tracking_server, run_id)
    samples = {p.split("+")[2] for p in artifacts if p.startswith("images/samples+step+") and p.endswith(".png")}
    assert samples == {"0", "8", "16", "24"}
    stored = tmp_path / "mlartifacts" / info["experiment_id"] / run_id / "artifacts"
    for which in ("last", "best"):
        for name in CHECKPOINT_FILES:
            assert f"checkpoints/{which}/{name}" in artifacts
            assert (stored / "checkpoints" / which / name).stat().st_size > 0


def test_sigterm_to_the_command_stops_the_whole_server(tracking_server: TrackingServer) -> None:
    os.kill(tracking_server.process.pid, signal.SIGTERM)  # what systemd or `docker stop` sends: the command only
    tracking_server.process.wait(timeout=30)
    with pytest.raises(ProcessLookupError):  # no worker outlived it
        os.killpg(tracking_server.process.pid, 0)
    assert request(tracking_server.url, "GET", "/health", timeout=2)[0] == 0
