"""Checkpoint faults with real processes and a real sqlite MLflow store: a SIGKILL in the middle of a checkpoint
write (between its files, or between the two renames of its swap) leaves a whole checkpoint that resume finds and
continues from exactly; a damaged local checkpoint falls back to the run's artifact copy with one warning line;
nothing whole anywhere is one error line naming the damaged file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import torch
from mlflow.tracking import MlflowClient
from training_helpers import (
    PROJECT_ROOT,
    TINY_VAE,
    assert_same_history,
    error_lines,
    history,
    run_mlflow,
    run_radiodiff,
    runs_by_start,
)

from radiodiff.config import Config
from radiodiff.jobs.common import find_checkpoint
from radiodiff.paths import run_dir
from radiodiff.training.checkpoint import (
    TRAINING_STATE_FILE,
    TrainingState,
    load_checkpoint,
    load_state,
    save_checkpoint,
)
from radiodiff.training.checkpoint_manifest import MANIFEST_FILE, CheckpointCorrupt
from radiodiff.training.faults import KILL_IN_CHECKPOINT_VARIABLE, KILL_STEP_VARIABLE

TINY = f"{TINY_VAE} vae_train.steps=16"  # checkpoints at steps 0, 8, 16
TRAIN_VAE = ["train_vae", "--config", str(PROJECT_ROOT / "configs/default.yaml"), "--overrides", TINY]
COMPARED = ("train/loss", "train/loss_rec", "train/lr", "val/rmse")

# Two checkpoints (steps 4 and 8) of a tiny module, written by a process that the fault hook may kill.
WRITER = """
import sys
from pathlib import Path

import torch

from radiodiff.config import Config
from radiodiff.training.checkpoint import TrainingState, save_checkpoint

for step in (4, 8):
    weights = {"net": {"w": torch.full((3, 2), float(step))}}
    save_checkpoint(Path(sys.argv[1]), TrainingState(kind="vae", step=step), Config(), weights, weights, {})
"""
WRITTEN = ["net.safetensors", "net.ema.safetensors", "config.yaml", "training_state.pt", "state.json", MANIFEST_FILE]


def _write_then_kill(folder: Path, kill: str) -> subprocess.CompletedProcess:
    env = {**os.environ, KILL_IN_CHECKPOINT_VARIABLE: kill}
    return subprocess.run([sys.executable, "-c", WRITER, str(folder)], env=env, cwd=PROJECT_ROOT, capture_output=True)


@pytest.mark.parametrize(
    ("kill", "left", "resumed_step"),
    [
        ("last@8:1", {"last": WRITTEN, "last.writing": WRITTEN[:1]}, 4),  # between the first two files
        ("last@8:5", {"last": WRITTEN, "last.writing": WRITTEN[:5]}, 4),  # every file but the manifest
        ("last@8:6", {"last": WRITTEN, "last.writing": WRITTEN}, 8),  # whole, not yet swapped in
        ("last@8:rename", {"last.old": WRITTEN, "last.writing": WRITTEN}, 8),  # half-renamed: no `last`
    ],
)
def test_a_kill_in_a_checkpoint_write_leaves_a_whole_one_that_resume_finds(
    home: Path, kill: str, left: dict[str, list[str]], resumed_step: int
) -> None:
    folder = run_dir("run1") / "checkpoints" / "last"
    assert _write_then_kill(folder, kill).returncode == -9
    assert {p.name: sorted(f.name for f in p.iterdir()) for p in folder.parent.iterdir()} == {
        k: sorted(v) for k, v in left.items()
    }

    assert find_checkpoint("run1") == folder
    resumed = load_checkpoint(folder)  # what the trainer reads, verified against the manifest
    assert resumed.state.step == resumed_step
    assert torch.equal(resumed.weights["net"]["w"], torch.full((3, 2), float(resumed_step)))
    if resumed_step == 8:  # the interrupted swap was finished, as the save would have
        assert sorted(p.name for p in folder.parent.iterdir()) == ["last"]


def _run_with_checkpoint(step: int, logged: bool = True) -> tuple[str, Path]:
    """A resumable (FAILED) train_vae run with a local tiny checkpoint of `step` and, when `logged`, the same
    checkpoint as its artifact `checkpoints/last`."""
    client = MlflowClient()
    experiment = client.get_experiment_by_name("Default").experiment_id
    run_id = client.create_run(experiment, tags={"radiodiff.entry_point": "train_vae"}).info.run_id
    folder = run_dir(run_id) / "checkpoints" / "last"
    weights = {"net": {"w": torch.full((3, 2), float(step))}}
    save_checkpoint(folder, TrainingState(kind="vae", step=step, run_id=run_id), Config(), weights, weights, {})
    if logged:
        client.log_artifacts(run_id, str(folder), "checkpoints/last")
    client.set_terminated(run_id, "FAILED")
    return run_id, folder


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_a_damaged_local_checkpoint_falls_back_to_the_artifact_copy(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id, folder = _run_with_checkpoint(step=8)
    _truncate(folder / TRAINING_STATE_FILE)
    assert find_checkpoint(run_id) == folder
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("radiodiff")]
    assert warning.startswith(f"radiodiff: warning: {folder / TRAINING_STATE_FILE} is truncated: ")
    assert warning.endswith("; resuming from the run's artifact copy checkpoints/last (step 8)")
    assert load_checkpoint(folder).state.step == 8  # the artifact copy, now the local one, whole


def test_no_whole_copy_anywhere_is_one_line_naming_both_damaged_files(home: Path) -> None:
    client = MlflowClient()
    run_id, folder = _run_with_checkpoint(step=8)
    artifacts = Path(urlparse(client.get_run(run_id).info.artifact_uri).path)  # the store's own copy
    (artifacts / "checkpoints" / "last" / MANIFEST_FILE).write_text("{}")
    _truncate(folder / "net.safetensors")
    with pytest.raises(CheckpointCorrupt) as refused:
        find_checkpoint(run_id)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"run {run_id} has no whole checkpoint: ")
    assert f"{folder / 'net.safetensors'} is truncated" in message
    assert f"downloaded/last/{MANIFEST_FILE} is corrupted or truncated" in message


def test_resuming_with_no_whole_checkpoint_is_one_line_naming_the_file(home: Path) -> None:
    run_id, folder = _run_with_checkpoint(step=8, logged=False)
    _truncate(folder / "state.json")
    done = run_radiodiff(["train_vae", "--resume", run_id], home)
    assert done.returncode == 2, done.stderr[-3000:]
    (line,) = error_lines(done.stderr)
    assert line.startswith(f"radiodiff train_vae: error: {folder / 'state.json'} is truncated: ")
    assert line.endswith(f"; run {run_id} has no artifact copy checkpoints/last to fall back to")
    assert "Traceback" not in done.stderr
    assert MlflowClient().get_run(run_id).info.status == "FAILED"  # untouched: it can be resumed once repaired


def test_sigkill_between_checkpoint_files_then_mlflow_run_resume_matches(
    home: Path, uninterrupted: dict[str, list[tuple[int, float]]]
) -> None:
    """The must-show: killed after the 2nd file of the step-16 checkpoint, resumed by `mlflow run --run-id`."""
    killed = run_radiodiff(TRAIN_VAE, home, env={KILL_IN_CHECKPOINT_VARIABLE: "last@16:2"})
    assert killed.returncode == -9
    run_id = runs_by_start(MlflowClient())[-1].info.run_id
    checkpoints = run_dir(run_id) / "checkpoints"
    assert load_state(checkpoints / "last").step == 8  # the last whole checkpoint
    assert sorted(p.name for p in (checkpoints / "last.writing").iterdir()) == sorted(
        ["autoencoder.safetensors", "discriminator.safetensors"]
    )
    _resume_and_compare(home, run_id, uninterrupted)


def _resume_and_compare(home: Path, run_id: str, uninterrupted: dict[str, list[tuple[int, float]]]) -> None:
    """`mlflow run . -e train_vae --run-id RUN_ID`, as a user resumes a crashed run; then its histories compared."""
    resumed = run_mlflow("train_vae", home, {"overrides": TINY}, options=["--run-id", run_id])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    _assert_finished_like(run_id, uninterrupted)


def _assert_finished_like(run_id: str, uninterrupted: dict[str, list[tuple[int, float]]]) -> None:
    client = MlflowClient()
    assert client.get_run(run_id).info.status == "FINISHED"
    for key in COMPARED:
        got = history(client, run_id, key)
        assert_same_history(got, uninterrupted[key], key)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, float]]]:
    """The histories of an uninterrupted TINY run, in a store of its own (shared by this module's tests)."""
    home = tmp_path_factory.mktemp("uninterrupted")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    done = run_radiodiff(TRAIN_VAE, home, env={"MLFLOW_TRACKING_URI": uri})
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient(tracking_uri=uri)
    (run,) = runs_by_start(client)
    return {key: history(client, run.info.run_id, key) for key in COMPARED}


@pytest.mark.slow  # ~50 s: the fallback itself is tried in seconds by test_a_damaged_local_checkpoint_falls_back...
def test_a_damaged_local_checkpoint_resumes_from_the_artifact_copy_and_finishes(
    home: Path, uninterrupted: dict[str, list[tuple[int, float]]]
) -> None:
    assert run_radiodiff(TRAIN_VAE, home, env={KILL_STEP_VARIABLE: "13"}).returncode == -9  # after step 8's
    run_id = runs_by_start(MlflowClient())[-1].info.run_id
    damaged = run_dir(run_id) / "checkpoints" / "last" / "autoencoder.safetensors"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))

    resumed = run_radiodiff(["train_vae", "--resume", run_id], home)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    warnings = [line for line in resumed.stderr.splitlines() if line.startswith("radiodiff: warning:")]
    assert warnings == [
        f"radiodiff: warning: {damaged} is corrupted: its SHA-256 differs from the one in {MANIFEST_FILE}; "
        "resuming from the run's artifact copy checkpoints/last (step 8)"
    ]
    assert "Traceback" not in resumed.stderr
    _assert_finished_like(run_id, uninterrupted)


@pytest.mark.slow
def test_sigkill_between_the_renames_then_mlflow_run_resume_matches(
    home: Path, uninterrupted: dict[str, list[tuple[int, float]]]
) -> None:
    """Killed half-renamed at step 8 (`last` moved to `last.old`, `last.writing` whole): resume takes step 8."""
    killed = run_radiodiff(TRAIN_VAE, home, env={KILL_IN_CHECKPOINT_VARIABLE: "last@8:rename"})
    assert killed.returncode == -9
    run_id = runs_by_start(MlflowClient())[-1].info.run_id
    checkpoints = run_dir(run_id) / "checkpoints"
    assert not (checkpoints / "last").exists()
    assert (load_state(checkpoints / "last.old").step, load_state(checkpoints / "last.writing").step) == (0, 8)
    _resume_and_compare(home, run_id, uninterrupted)
