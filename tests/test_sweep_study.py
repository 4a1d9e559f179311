"""The sweep's study: per-trial seeding, opening one study from several launches, its definition, the storage
rules, and a trial whose process was SIGKILLed (a real process, real sqlite MLflow and Optuna stores)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from radiodiff.config import ConfigError, load
from radiodiff.errors import RunConflict
from radiodiff.sweep.sampler import TrialSeededTPESampler
from radiodiff.sweep.storage import check_not_tracking_store, open_storage
from radiodiff.sweep.study import RUN_ATTR, StudyDefinition, check_definition, fail_dead_trials, open_study
from radiodiff.tracking.sweep_runs import end_dead_children, run_is_live


def _draws(sampler: optuna.samplers.BaseSampler, study: optuna.Study | None = None, n: int = 4) -> list[float]:
    study = study or optuna.create_study(sampler=sampler)
    study.sampler = sampler
    for _ in range(n):
        study.optimize(lambda trial: trial.suggest_float("x", -1, 1) ** 2, n_trials=1)
    return [t.params["x"] for t in study.trials[-n:]]


def test_trial_seeded_tpe_is_reproducible_and_a_restart_draws_new_values() -> None:
    assert _draws(TrialSeededTPESampler(7)) == _draws(TrialSeededTPESampler(7))
    assert _draws(TrialSeededTPESampler(7)) != _draws(TrialSeededTPESampler(8))
    # a second process continues the study with a fresh sampler: plain seeded TPE draws its first values again
    plain = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=7))
    first = _draws(optuna.samplers.TPESampler(seed=7), plain, n=2)
    assert _draws(optuna.samplers.TPESampler(seed=7), plain, n=2) == first
    seeded = optuna.create_study()
    first = _draws(TrialSeededTPESampler(7), seeded, n=2)
    assert not set(_draws(TrialSeededTPESampler(7), seeded, n=2)) & set(first)


def _definition(**config: object) -> StudyDefinition:
    flat = load(None, {"vae.channels": 16, **config}).flat()
    return StudyDefinition("train_vae", "val/rmse", "minimize", "vae_train.lr=loguniform(0.0001,0.003)", flat)


def test_a_study_is_created_once_and_its_definition_is_kept(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'optuna.db'}", heartbeat_s=60, grace_s=120)
    definition = _definition()
    name = definition.default_name()
    assert name.startswith("train_vae-") and name == _definition().default_name()
    assert name != _definition(**{"vae_train.steps": 41}).default_name()
    assert open_study(storage, name, definition, seed=0, startup_trials=2, warmup_steps=0).created
    again = open_study(storage, name, definition, seed=0, startup_trials=2, warmup_steps=0)
    assert not again.created
    check_definition(again.study, definition)
    with pytest.raises(RunConflict) as caught:
        check_definition(again.study, _definition(**{"vae.channels": 32}))
    assert str(caught.value) == (
        f"study {name!r} was created with vae.channels = 16, not 32: drop -P study to start a study of these "
        "settings, or sweep with the study's own"
    )


def test_the_study_never_shares_the_tracking_database(tmp_path: Path) -> None:
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(ConfigError, match="is the tracking store's database: Optuna and MLflow both keep an "):
        check_not_tracking_store(f"sqlite:///{tmp_path / '.' / 'mlflow.db'}", tracking)
    with pytest.raises(ConfigError, match=r"^storage postgresql\+psycopg2://u:\*\*\*@db:5432/mlflow is the"):
        check_not_tracking_store("postgresql+psycopg2://u:secret@db:5432/mlflow", "postgresql://v@db:5432/mlflow")
    check_not_tracking_store(f"sqlite:///{tmp_path / 'sweeps' / 'optuna.db'}", tracking)
    check_not_tracking_store("postgresql://u@db:5432/optuna", "postgresql://u@db:5432/mlflow")
    check_not_tracking_store(f"sqlite:///{tmp_path / 'optuna.db'}", "http://127.0.0.1:5000")


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("optuna.db", "storage 'optuna.db' is not a database URI: use sqlite:///PATH or postgresql+psycopg2://"),
        ("postgresql+psycopg2://u:pw@127.0.0.1:1/optuna", "storage postgresql+psycopg2://u:***@127.0.0.1:1/optuna: "
         "cannot open the database"),
    ],
)  # fmt: skip
def test_a_storage_that_cannot_open_is_one_line(uri: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_storage(uri, heartbeat_s=60, grace_s=120)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value) and "pw" not in str(caught.value)


TRIAL_PROCESS = """
import time
from mlflow.tracking import MlflowClient
from radiodiff.tracking.heartbeat import keep_alive

run = MlflowClient().create_run("0", tags={{"mlflow.parentRunId": "{parent}"}})
with keep_alive(run.info.run_id, 60):
    print(run.info.run_id, flush=True)
    time.sleep(600)
"""


def test_a_trial_whose_process_was_killed_fails_and_its_run_ends(mlflow_store: str, tmp_path: Path) -> None:
    client = MlflowClient()
    parent = client.create_run("0").info.run_id
    script = textwrap.dedent(TRIAL_PROCESS.format(parent=parent))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ)
    try:
        child = process.stdout.readline().strip()
        storage = open_storage(f"sqlite:///{tmp_path / 'optuna.db'}", heartbeat_s=60, grace_s=120)
        study = open_study(storage, "s", _definition(), seed=0, startup_trials=2, warmup_steps=0).study
        with pytest.warns(UserWarning, match="Heartbeat of storage is supposed to be used with Study.optimize"):
            trial = study.ask()  # trial 0, run in that process
        trial.set_user_attr(RUN_ATTR, child)
        assert run_is_live(child)
        assert end_dead_children(parent) == [] and fail_dead_trials(study, run_is_live) == []
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()

    assert end_dead_children(parent) == [child]
    run = client.get_run(child)
    assert (run.info.status, run.data.tags["radiodiff.sweep.state"]) == ("KILLED", "failed")
    assert fail_dead_trials(study, run_is_live) == [0]
    assert study.trials[0].state == TrialState.FAIL
    assert end_dead_children(parent) == [] and fail_dead_trials(study, run_is_live) == []
