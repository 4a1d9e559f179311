"""Training outlives its tracking server: a real `radiodiff server` on a real PostgreSQL, stopped mid-run.

The server stays away longer than MLflow's client retries (MLFLOW_HTTP_REQUEST_MAX_RETRIES=2: about 6 s), then
comes back: the job finishes without a traceback, FINISHED, with checkpoints written locally during the outage
and every logged step of `train/loss` in the store exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mlflow.tracking import MlflowClient
from training_helpers import TINY_VAE, error_lines, run_radiodiff

STEPS = 160
OUTAGE_S = 30
JOB = (
    f"{TINY_VAE} vae_train.steps={STEPS} vae_train.checkpoint_every=8 vae_train.val_every=40 "
    "vae_train.sample_every=40 tracking.heartbeat_s=5"
)
CLIENT_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


def start_training(home: Path, overrides: str) -> subprocess.Popen:
    env = {**os.environ, "RADIODIFF_HOME": str(home), **CLIENT_ENV}
    command = [sys.executable, "-m", "radiodiff", "train_vae", "--overrides", overrides]
    return subprocess.Popen(command, cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_logged_step(client: MlflowClient, job: subprocess.Popen, step: int, timeout_s: float = 300) -> str:
    """The job's run id once its `train/loss` reached `step` in the store."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert job.poll() is None, job.communicate()
        runs = client.search_runs(["0"])
        if runs and any(m.step >= step for m in client.get_metric_history(runs[0].info.run_id, "train/loss")):
            return runs[0].info.run_id
        time.sleep(0.5)
    raise AssertionError(f"the job did not log step {step} within {timeout_s} s")


def local_checkpoint_step(home: Path, run_id: str) -> int:
    return json.loads((home / "outputs" / run_id / "checkpoints" / "last" / "state.json").read_text())["step"]


def logged_steps(client: MlflowClient, run_id: str, key: str) -> list[int]:
    return sorted(m.step for m in client.get_metric_history(run_id, key))


def test_training_goes_on_through_an_outage_and_delivers_every_step_once(tracking_server, tmp_path: Path) -> None:
    client = MlflowClient()
    job = start_training(tmp_path, JOB)
    run_id = wait_for_logged_step(client, job, step=8)
    tracking_server.stop()
    stopped_at = local_checkpoint_step(tmp_path, run_id)
    time.sleep(OUTAGE_S)
    assert local_checkpoint_step(tmp_path, run_id) > stopped_at  # checkpoints never waited for the server
    tracking_server.start()
    _, err = job.communicate(timeout=600)

    assert job.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if "is not answering" in line]) == 1, err[-3000:]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert logged_steps(client, run_id, "train/loss") == list(range(2, STEPS + 1, 2))  # each once, none lost
    assert {a.path for a in client.list_artifacts(run_id, "checkpoints")} == {"checkpoints/last", "checkpoints/best"}
    assert not (tmp_path / "outputs" / run_id / "outbox").exists()  # everything delivered


def test_a_server_away_too_long_leaves_the_records_for_sync(tracking_server, tmp_path: Path) -> None:
    client = MlflowClient()
    job = start_training(tmp_path, f"{TINY_VAE} tracking.outage_wait_s=3")
    run_id = wait_for_logged_step(client, job, step=2)
    tracking_server.stop()
    _, err = job.communicate(timeout=600)
    assert job.returncode == 2
    assert "Traceback" not in err, err[-3000:]
    [line] = error_lines(err)
    assert "did not answer for 3 s" in line and f"radiodiff sync {run_id}" in line
    assert (tmp_path / "outputs" / run_id / "outbox").is_dir()

    tracking_server.start()
    synced = run_radiodiff(["sync", run_id], tmp_path, CLIENT_ENV)
    assert synced.returncode == 0, synced.stderr
    assert "sent" in synced.stdout
    assert logged_steps(client, run_id, "train/loss") == list(range(2, 25, 2))
    again = run_radiodiff(["sync", run_id], tmp_path, CLIENT_ENV)
    assert "nothing waits" in again.stdout

    resumed = run_radiodiff(["train_vae", "--resume", run_id], tmp_path, CLIENT_ENV)  # the export it missed
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert client.get_run(run_id).info.status == "FINISHED"
    assert logged_steps(client, run_id, "train/loss") == list(range(2, 25, 2))


def test_a_job_started_without_its_server_says_so_in_one_line(tmp_path: Path) -> None:
    from serving_helpers import free_port

    env = {
        **CLIENT_ENV,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}",
    }
    done = run_radiodiff(["train_vae", "--overrides", TINY_VAE], tmp_path, env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    [line] = error_lines(done.stderr)
    assert "is not answering: start it, or point MLFLOW_TRACKING_URI at a running one" in line
