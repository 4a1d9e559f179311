"""Resuming a killed train_ldm through `mlflow run --run-id ID` with no `-P vae`: everything comes from the run's
own checkpoint; and the one-line errors of re-entering a run that cannot be resumed."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from training_helpers import (
    PROJECT_ROOT,
    TINY_LDM,
    assert_same_history,
    error_lines,
    history,
    run_mlflow,
    run_radiodiff,
    runs_by_start,
    write_vae_package,
)

COMPARED = ("train/loss", "train/loss_c", "train/loss_eps", "train/lr", "train/grad_norm", "val/rmse")
KILL = {"RADIODIFF_FAULT_KILL_AT_STEP": "7"}  # after the checkpoint of step 4 and the metrics of step 6


def _kill_then_resume(home: Path, overrides: str) -> str:
    """train_ldm under `mlflow run -P vae=...`, killed at step 7, resumed by `mlflow run --run-id` alone."""
    package = write_vae_package(home / "vae")
    killed = run_mlflow("train_ldm", home, {"vae": str(package), "overrides": overrides}, env=KILL)
    assert killed.returncode != 0  # the job was SIGKILLed; `mlflow run` marks the run FAILED
    run_id = runs_by_start(MlflowClient())[-1].info.run_id
    assert MlflowClient().get_run(run_id).info.status == "FAILED"
    resumed = run_mlflow("train_ldm", home, options=["--run-id", run_id])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    run = MlflowClient().get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["vae"] == str(package)  # the launch's parameter, untouched by the resume
    assert run.data.params["cfg.diffusion.vae_uri"] == str(package)
    assert run.data.tags["radiodiff.vae_uri"] == str(package)
    return run_id


def test_mlflow_run_resume_without_vae_logs_every_step_once(home: Path) -> None:
    run_id = _kill_then_resume(home, f"{TINY_LDM} ldm_train.steps=8")
    client = MlflowClient()
    for key in COMPARED[:-1]:
        assert [s for s, _ in history(client, run_id, key)] == [2, 4, 6, 8], key
    assert [s for s, _ in history(client, run_id, "val/rmse")] == [0, 4, 8]
    assert client.get_run(run_id).data.tags["radiodiff.step"] == "8"


@pytest.mark.slow
def test_mlflow_run_resume_matches_an_uninterrupted_run(home: Path) -> None:
    package = write_vae_package(home / "vae")
    args = ["train_ldm", "--config", str(PROJECT_ROOT / "configs/default.yaml"), "--overrides", TINY_LDM]
    assert run_radiodiff([*args, "--vae", str(package)], home).returncode == 0
    uninterrupted = runs_by_start(MlflowClient())[0].info.run_id  # `radiodiff` and `mlflow run`: one experiment
    resumed = _kill_then_resume(home, TINY_LDM)
    client = MlflowClient()
    for key in COMPARED:
        expected, got = history(client, uninterrupted, key), history(client, resumed, key)
        assert_same_history(got, expected, key)


def test_resuming_an_unknown_run_is_one_line(home: Path) -> None:
    MlflowClient().search_experiments()  # the store exists (a new one makes MLflow log its creation)
    done = run_radiodiff(["train_ldm", "--resume", "nope"], home)
    assert done.returncode == 2
    assert done.stderr.strip() == f"radiodiff train_ldm: error: no run with id 'nope' in the tracking store {_uri()}"


def test_re_entering_a_run_of_another_job_is_one_line_also_under_mlflow_run(home: Path) -> None:
    client = MlflowClient()
    experiment_id = client.get_experiment_by_name("Default").experiment_id
    vae_run = client.create_run(experiment_id, tags={"radiodiff.entry_point": "train_vae"}).info.run_id
    expected = f"radiodiff train_ldm: error: run {vae_run} is a train_vae run, not train_ldm: resume it with -e "
    expected += "train_vae"

    done = run_radiodiff(["train_ldm", "--resume", vae_run], home)
    assert (done.returncode, done.stderr.strip()) == (2, expected)
    launched = run_mlflow("train_ldm", home, options=["--run-id", vae_run])
    assert launched.returncode != 0  # `mlflow run` reports a failed job with its own status 1
    assert error_lines(launched.stdout + launched.stderr) == [expected]
    assert "Traceback" not in launched.stdout + launched.stderr


def test_mlflow_run_train_ldm_without_a_vae_is_one_line(home: Path) -> None:
    launched = run_mlflow("train_ldm", home, {"overrides": TINY_LDM})
    assert launched.returncode != 0
    (line,) = error_lines(launched.stdout + launched.stderr)
    assert line.startswith("radiodiff train_ldm: error: train_ldm needs a trained VAE: pass -P vae=")
    assert "Traceback" not in launched.stdout + launched.stderr


def _uri() -> str:
    return MlflowClient().tracking_uri
