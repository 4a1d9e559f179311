"""`radiodiff runs` on a real sqlite store and real killed/resumed train_vae processes: a SIGKILLed run is DEAD
once its heartbeat is stale, its printed resume command works, the resumed run is RUNNING and then FINISHED."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from training_helpers import PROJECT_ROOT, TINY_VAE, run_radiodiff, runs_by_start

from radiodiff.tracking.run_list import experiment_runs

OVERRIDES = f"{TINY_VAE} tracking.heartbeat_s=1"


@pytest.fixture
def home(mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RADIODIFF_HOME", str(tmp_path))
    MlflowClient().search_experiments()  # the store exists (a new one makes MLflow log its creation)
    return tmp_path


def test_killed_run_is_dead_then_resumed_running_then_finished(home: Path) -> None:
    args = ["train_vae", "--config", str(PROJECT_ROOT / "configs/default.yaml"), "--overrides", OVERRIDES]
    assert run_radiodiff(args, home, env={"RADIODIFF_FAULT_KILL_AT_STEP": "13"}).returncode == -9
    (killed,) = runs_by_start(MlflowClient())
    run_id = killed.info.run_id
    time.sleep(2.5)  # more than twice the 1 s heartbeat interval

    row = _row(run_radiodiff(["runs"], home), run_id)
    assert row[1:3] == ["train_vae", "DEAD"]
    assert re.fullmatch(r"\d+ s ago", row[3]) and int(row[3].split()[0]) >= 2
    assert re.fullmatch(r"\d+/24", row[4]) and 2 <= int(row[4].split("/")[0]) <= 12
    command = f"mlflow run . -e train_vae --env-manager local --run-id {run_id}"
    assert row[6] == command

    resume = shlex.split(command.replace("mlflow run .", f"{shlex.quote(sys.executable)} -m mlflow run {PROJECT_ROOT}"))
    resumed = subprocess.Popen(resume, cwd=home, env={**os.environ, "RADIODIFF_HOME": str(home)}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    assert _wait_for_status(run_id, "RUNNING", resumed), "the resumed run never showed RUNNING"
    output, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, output[-3000:]

    row = _row(run_radiodiff(["runs", "--all"], home), run_id)
    assert row[2:5] == ["FINISHED", "-", "24/24"]
    assert row[6] == "-"  # nothing to resume


def test_runs_of_an_unknown_experiment_is_one_line(home: Path) -> None:
    done = run_radiodiff(["runs", "--experiment", "nope"], home)
    assert done.returncode == 2
    uri = MlflowClient().tracking_uri
    assert done.stderr.strip() == f"radiodiff runs: error: no experiment named 'nope' in the tracking store {uri}"


def _row(done: subprocess.CompletedProcess, run_id: str) -> list[str]:
    """The cells of the table row of `run_id` (columns are separated by two spaces or more)."""
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[1]) == ["run id", "entry point", "status", "heartbeat", "step", "started",
                                             "resume with"]  # fmt: skip
    (row,) = [line for line in lines if line.startswith(run_id)]
    return re.split(r"\s{2,}", row)


def _wait_for_status(run_id: str, status: str, process: subprocess.Popen, timeout_s: float = 300) -> bool:
    """Poll the store (as `radiodiff runs` reads it) until the run shows `status`, while `process` lives."""
    deadline = time.time() + timeout_s
    while time.time() < deadline and process.poll() is None:
        if any(r.run_id == run_id and r.status == status for r in experiment_runs("Default")):
            return True
        time.sleep(0.5)
    return False


def test_a_run_stopped_on_purpose_offers_no_resume(home: Path) -> None:
    """A pruned sweep trial ends KILLED with tag radiodiff.stopped: nothing crashed, so nothing to resume."""
    from radiodiff.jobs.runs import resume_command

    client = MlflowClient()
    experiment = client.get_experiment_by_name("Default").experiment_id
    for stopped in ("", "pruned by the sweep at step 8"):
        run = client.create_run(experiment, tags={"radiodiff.entry_point": "train_vae", "radiodiff.stopped": stopped})
        client.set_terminated(run.info.run_id, "KILLED")
    pruned, killed = experiment_runs("Default")  # newest first
    assert pruned.stopped and resume_command(pruned) == ""
    assert not killed.stopped and resume_command(killed).endswith(f"--run-id {killed.run_id}")
