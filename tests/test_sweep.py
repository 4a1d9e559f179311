"""`sweep` end to end with tiny trials: real `mlflow run` processes, a real sqlite tracking store, a real Optuna
sqlite storage; a sweep SIGKILLed mid-trial and started again; two sweep processes on one study; bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState
from training_helpers import PROJECT_ROOT, SWEEP_VAE, error_lines, history, run_mlflow, run_radiodiff, runs_by_start

from radiodiff.config import load

SPACE = "vae_train.lr=loguniform(1e-6,3e-3) vae.channels=choice(8,16)"  # lr near 1e-6 barely trains: pruned
PARAMS = {"overrides": SWEEP_VAE, "space": SPACE, "trials": "6", "seed": "0", "pruner_startup_trials": "2"}
DONE = (TrialState.COMPLETE, TrialState.PRUNED)


def test_sweep_leaves_a_parent_with_six_trials(home: Path) -> None:
    done = run_mlflow("sweep", home, PARAMS)
    assert done.returncode == 0, done.stderr[-3000:]

    client = MlflowClient()
    parent, trials = _parent_and_trials(client)
    assert sorted(int(run.data.tags["radiodiff.sweep.trial"]) for run in trials) == list(range(6))
    states = {run.data.tags["radiodiff.sweep.trial"]: run.data.tags["radiodiff.sweep.state"] for run in trials}
    assert set(states.values()) == {"complete", "pruned"}
    for run in trials:
        pruned = run.data.tags["radiodiff.sweep.state"] == "pruned"
        assert run.info.status == ("KILLED" if pruned else "FINISHED")
        assert run.data.tags.get("radiodiff.stopped", "").startswith("pruned by the median pruner") == pruned
        assert run.data.tags["radiodiff.sweep.study"] == parent.data.params["sweep.study"]

    study = _study(home, parent.data.params["sweep.study"])
    assert [t.state for t in study.trials] == [TrialState[states[str(t.number)].upper()] for t in study.trials]
    best = study.best_trial
    assert parent.info.status == "FINISHED"
    assert parent.data.params["best.trial"] == str(best.number)
    assert float(parent.data.params["best.vae_train.lr"]) == pytest.approx(best.params["vae_train.lr"])
    assert parent.data.params["best.vae.channels"] == str(best.params["vae.channels"])
    assert parent.data.metrics["sweep/best"] == pytest.approx(best.value)
    complete = sorted(t.number for t in study.trials if t.state == TrialState.COMPLETE)
    assert [s for s, _ in history(client, parent.info.run_id, "sweep/objective")] == complete
    _check_best_files(client, parent.info.run_id, done.stdout, best)


@pytest.mark.slow
def test_killed_sweep_started_again_continues_the_study(home: Path) -> None:
    """SIGKILL the sweep (and its `mlflow run`) while its third trial trains, start the same command again (100 s
    on 2 busy cores; the recovery itself is tried in seconds by test_sweep_study)."""
    first = _start_mlflow_sweep(home)
    try:
        killed_trial = _wait_for_running_trial(home, first, done=2)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()

    done = run_mlflow("sweep", home, PARAMS)
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient()
    parent, trials = _parent_and_trials(client)  # one parent: the restart re-entered it
    study = _study(home, parent.data.params["sweep.study"])
    assert [t.number for t in study.trials] == list(range(7))
    assert sum(t.state in DONE for t in study.trials) == 6
    assert [t.number for t in study.trials if t.state == TrialState.FAIL] == [killed_trial]
    assert any(t.state == TrialState.PRUNED for t in study.trials)

    by_number = {int(run.data.tags["radiodiff.sweep.trial"]): run for run in trials}
    assert sorted(by_number) == list(range(7))
    assert by_number[killed_trial].info.status == "KILLED"
    assert by_number[killed_trial].data.tags["radiodiff.sweep.state"] == "failed"
    launches = [r for r in runs_by_start(client) if r.data.tags.get("radiodiff.sweep.launch_of")]
    assert [r.data.tags["mlflow.parentRunId"] for r in launches] == [parent.info.run_id]  # the restart's own run
    assert parent.info.status == "FINISHED"
    assert parent.data.params["best.trial"] == str(study.best_trial.number)
    _check_best_files(client, parent.info.run_id, done.stdout, study.best_trial)


@pytest.mark.slow
def test_two_sweep_processes_share_one_study_and_parent(home: Path) -> None:
    params = {**PARAMS, "trials": "8"}
    MlflowClient().search_experiments()  # the tracking store's tables exist before two processes use it
    first, second = (_start_mlflow_sweep(home, params) for _ in range(2))
    outputs = [process.communicate(timeout=900) for process in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs

    client = MlflowClient()
    parent, trials = _parent_and_trials(client)
    study = _study(home, parent.data.params["sweep.study"])
    numbers = [t.number for t in study.trials]
    assert numbers == list(range(len(numbers)))  # no trial number twice
    # both processes ran trials; each stops at 8 done (one more at most when both start the last one at once)
    assert 8 <= sum(t.state in DONE for t in study.trials) <= 9
    processes = {run.data.tags["radiodiff.process"] for run in trials}
    assert len(processes) == 2
    launches = [r for r in runs_by_start(client) if r.data.tags.get("radiodiff.sweep.launch_of")]
    assert [r.data.tags["mlflow.parentRunId"] for r in launches] == [parent.info.run_id]  # the joiner's own run
    assert sorted(int(run.data.tags["radiodiff.sweep.trial"]) for run in trials) == numbers


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ("vae_train.lrr=loguniform(1e-4,3e-3)", "sweep space: unknown config key 'vae_train.lrr': did you mean 'lr'?"),
        ("vae_train.lr=loguniform(3e-3,1e-4)", "sweep space 'vae_train.lr': loguniform(3e-3,1e-4) needs low < high"),
    ],
)
def test_bad_space_is_one_line_and_nothing_runs(home: Path, space: str, message: str) -> None:
    done = run_radiodiff(["sweep", "--overrides", SWEEP_VAE, "--space", space, "--trials", "2"], home)
    assert done.returncode == 2, done.stderr[-2000:]
    assert error_lines(done.stderr) == [f"radiodiff sweep: error: {message}"]
    assert done.stderr.strip().count("\n") == 0
    assert not (home / "sweeps").exists()
    assert MlflowClient().search_runs(experiment_ids=["0"]) == []


def _start_mlflow_sweep(home: Path, params: dict[str, str] = PARAMS) -> subprocess.Popen:
    """`mlflow run . -e sweep` as run_mlflow does, in its own process group (to SIGKILL it whole)."""
    command = [sys.executable, "-m", "mlflow", "run", str(PROJECT_ROOT), "-e", "sweep", "--env-manager", "local"]
    for key, value in params.items():
        command += ["-P", f"{key}={value}"]
    return subprocess.Popen(
        command,
        cwd=home,
        env={**os.environ, "RADIODIFF_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_running_trial(home: Path, process: subprocess.Popen, done: int, timeout_s: float = 600) -> int:
    """The number of the trial that runs (its MLflow run open) once `done` trials are COMPLETE or PRUNED."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        names = _study_names(home)
        if names:
            trials = _study(home, names[0]).get_trials(deepcopy=False)
            running = [t for t in trials if t.state == TrialState.RUNNING and "radiodiff.run_id" in t.user_attrs]
            if sum(t.state in DONE for t in trials) >= done and running:
                return running[0].number
        time.sleep(0.5)
    raise AssertionError(f"no trial running after {done} done within {timeout_s} s")


def _study_names(home: Path) -> list[str]:
    if not (home / "sweeps" / "optuna.db").exists():
        return []
    try:
        return optuna.study.get_all_study_names(_storage(home))
    except Exception:  # the sweep is still creating the schema
        return []


def _study(home: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=_storage(home))


def _storage(home: Path) -> str:
    return f"sqlite:///{home / 'sweeps' / 'optuna.db'}"


def _parent_and_trials(client: MlflowClient) -> tuple:
    """The one sweep parent run (no parent of its own) and its trial runs."""
    runs = runs_by_start(client)
    parents = [r for r in runs if r.data.tags.get("radiodiff.entry_point") == "sweep"]
    assert len(parents) == 1, [r.data.tags.get("mlflow.runName") for r in parents]
    (parent,) = parents
    assert "mlflow.parentRunId" not in parent.data.tags
    trials = [r for r in runs if "radiodiff.sweep.trial" in r.data.tags]
    assert {r.data.tags["mlflow.parentRunId"] for r in trials} == {parent.info.run_id}
    assert {r.data.tags["radiodiff.entry_point"] for r in trials} == {"train_vae"}
    return parent, trials


def _check_best_files(client: MlflowClient, parent_id: str, stdout: str, best: optuna.trial.FrozenTrial) -> None:
    """The artifact and the printed local copy of best_overrides.yaml load as configs holding the best values."""
    artifact = Path(client.download_artifacts(parent_id, "sweep/best_overrides.yaml"))
    prefix = "radiodiff sweep: best overrides: "
    (line,) = [line for line in stdout.splitlines() if line.startswith(prefix)]
    local = Path(line.removeprefix(prefix).split(" ")[0])
    assert local.read_text() == artifact.read_text()
    for path in (artifact, local):
        config = load(path)
        assert config.vae_train.lr == pytest.approx(best.params["vae_train.lr"])
        assert config.vae.channels == best.params["vae.channels"]
    whole = load(Path(client.download_artifacts(parent_id, "sweep/best_config.yaml")))
    assert (whole.vae.channels, whole.vae_train.steps) == (best.params["vae.channels"], 8)
