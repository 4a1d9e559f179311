"""The heartbeat of a running job on a real sqlite store, and the one rule that tells a dead run from a live one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient

from radiodiff.config import ConfigError
from radiodiff.tracking.experiment import DEFAULT_EXPERIMENT, choose_experiment
from radiodiff.tracking.heartbeat import HEARTBEAT_TAG, INTERVAL_TAG, PROCESS_TAG, STEP_TAG, is_dead, keep_alive

NOW = 1_700_000_000.0


def _tags(beat_age_s: float, interval: str = "10", process: str = "elsewhere:1") -> dict[str, str]:
    return {HEARTBEAT_TAG: f"{NOW - beat_age_s:.0f}", INTERVAL_TAG: interval, PROCESS_TAG: process}


def test_a_running_run_is_dead_after_two_missed_intervals() -> None:
    start_ms = int((NOW - 3600) * 1000)
    assert not is_dead("RUNNING", _tags(19), start_ms, NOW)
    assert is_dead("RUNNING", _tags(21), start_ms, NOW)
    assert not is_dead("FINISHED", _tags(3000), start_ms, NOW)  # only a RUNNING run can be dead
    assert not is_dead("FAILED", _tags(3000), start_ms, NOW)


def test_a_run_that_never_beat_counts_from_its_start_with_the_default_interval() -> None:
    assert not is_dead("RUNNING", {}, int((NOW - 100) * 1000), NOW)
    assert is_dead("RUNNING", {}, int((NOW - 121) * 1000), NOW)


def test_a_vanished_process_on_this_host_is_dead_at_once() -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    assert is_dead("RUNNING", _tags(0, process=f"{host}:{gone.stdout.strip()}"), 0, NOW)
    assert not is_dead("RUNNING", _tags(0, process=f"{host}:{os.getpid()}"), 0, NOW)


def test_keep_alive_beats_every_interval_records_the_step_and_nests(mlflow_store: str) -> None:
    client = MlflowClient()
    run_id = client.create_run(client.get_experiment_by_name("Default").experiment_id).info.run_id
    with keep_alive(run_id, 1) as heart:
        first = float(client.get_run(run_id).data.tags[HEARTBEAT_TAG])
        with keep_alive(run_id, 1) as inner:
            assert inner is heart  # one thread per run, however many blocks ask for it
        heart.reached(7)
        heart.reached(5)
        time.sleep(2.5)
        tags = client.get_run(run_id).data.tags
        assert float(tags[HEARTBEAT_TAG]) >= first + 1
        assert tags[STEP_TAG] == "7"
        assert tags[INTERVAL_TAG] == "1"
        assert tags[PROCESS_TAG] == f"{socket.gethostname()}:{os.getpid()}"
    assert not is_dead("RUNNING", client.get_run(run_id).data.tags, 0, time.time())


def test_beat_soon_records_the_step_before_the_interval(mlflow_store: str) -> None:
    """A checkpoint's upload wakes the heartbeat: the step is written at once, not an interval (60 s) later."""
    client = MlflowClient()
    run_id = client.create_run(client.get_experiment_by_name("Default").experiment_id).info.run_id
    with keep_alive(run_id, 60) as heart:
        heart.reached(0)
        deadline = time.time() + 10
        while client.get_run(run_id).data.tags.get(STEP_TAG) != "0" and time.time() < deadline:
            time.sleep(0.05)
        heart.reached(8)
        heart.beat_soon()
        while client.get_run(run_id).data.tags.get(STEP_TAG) != "8" and time.time() < deadline:
            time.sleep(0.05)
        assert client.get_run(run_id).data.tags[STEP_TAG] == "8"  # within 10 s, not the 60 s interval


def test_the_experiment_is_mlflows_choice_unless_configured(mlflow_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    assert choose_experiment("") == DEFAULT_EXPERIMENT
    assert choose_experiment("mine") == "mine"
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "theirs")
    assert choose_experiment("") == "theirs"
    assert choose_experiment("theirs") == "theirs"
    with pytest.raises(ConfigError, match=r"tracking.experiment = 'mine' but .* 'theirs': .*--experiment-name mine"):
        choose_experiment("mine")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", MlflowClient().create_experiment("by-id"))
    assert choose_experiment("") == "by-id"
