"""Data-parallel training on 2 CPU processes (accelerate, gloo) through `mlflow run -P processes=2`: one MLflow
run per job, the same losses and validation scores as one process with the same global batch, exact resume after
one rank is killed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from serving_helpers import free_port
from training_helpers import TINY_LDM, TINY_UNET, TINY_VAE, history, run_mlflow, runs_by_start, write_vae_package

VAE_STEPS = f"{TINY_VAE} vae_train.steps=20 vae_train.val_every=10 vae_train.sample_every=10"
VAE_KEYS = ("train/loss", "train/loss_rec", "train/loss_kl", "train/loss_g", "train/loss_d", "train/d_weight")
LDM_STEPS = f"{TINY_LDM} ldm_train.steps=12"
LDM_KEYS = ("train/loss", "train/loss_c", "train/loss_eps")


def _train(entry: str, home: Path, overrides: str, processes: int, batch: int, **params: str) -> str:
    """One job with `processes` processes of `batch` maps each; returns the id of the run it made."""
    before = {r.info.run_id for r in _runs()}
    done = run_mlflow(
        entry, home, {"overrides": f"{overrides} data.batch_size={batch}", "processes": str(processes), **params}
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    (run_id,) = {r.info.run_id for r in _runs()} - before  # exactly one run per job, whatever the process count
    return run_id


def _runs() -> list:
    client = MlflowClient()
    return runs_by_start(client) if client.get_experiment_by_name("Default") else []


def _assert_same(
    client: MlflowClient, a: str, b: str, keys: tuple[str, ...], rel: float = 0.0, tol: float = 0.0
) -> None:
    """Same steps, and values within `rel` relative or `tol` absolute, for every key."""
    for key in keys:
        ha, hb = history(client, a, key), history(client, b, key)
        assert [s for s, _ in ha] == [s for s, _ in hb] and ha, key
        for (step, va), (_, vb) in zip(ha, hb, strict=True):
            assert abs(va - vb) <= max(rel * abs(vb), tol), (key, step, va, vb)


def test_two_processes_train_the_vae_as_one_with_the_same_global_batch(home: Path) -> None:
    one = _train("train_vae", home, VAE_STEPS, processes=1, batch=4)
    two = _train("train_vae", home, VAE_STEPS, processes=2, batch=2)
    client = MlflowClient()
    run = client.get_run(two)
    assert (run.data.params["processes"], run.data.params["global_batch"]) == ("2", "4")
    assert run.info.status == "FINISHED"
    _assert_same(client, one, two, VAE_KEYS, rel=1e-4)  # the GAN phase starts at step 10
    _assert_same(client, one, two, ("val/rmse", "val/ssim"), tol=1e-6)  # every validation map scored once


def test_two_processes_train_the_ldm_as_one_with_the_same_global_batch(home: Path) -> None:
    package = str(write_vae_package(home / "vae"))
    one = _train("train_ldm", home, LDM_STEPS, processes=1, batch=4, vae=package)
    two = _train("train_ldm", home, LDM_STEPS, processes=2, batch=2, vae=package)
    client = MlflowClient()
    _assert_same(client, one, two, LDM_KEYS, rel=1e-4)  # resnet10t's BatchNorm: statistics of the global batch
    _assert_same(client, one, two, ("val/rmse",), tol=1e-6)


def test_two_processes_train_the_radiounet_as_one_with_the_same_global_batch(home: Path) -> None:
    one = _train("train_unet", home, TINY_UNET, processes=1, batch=4)
    two = _train("train_unet", home, TINY_UNET, processes=2, batch=2)
    client = MlflowClient()
    assert client.get_run(two).data.params["global_batch"] == "4"
    _assert_same(client, one, two, ("train/loss",), rel=1e-4)  # GroupNorm: per sample, whatever the split
    _assert_same(client, one, two, ("val/rmse", "val/ssim"), tol=1e-6)


def test_a_killed_rank_ends_the_job_and_two_processes_resume_exactly(home: Path) -> None:
    package = str(write_vae_package(home / "vae"))
    whole = _train("train_ldm", home, LDM_STEPS, processes=2, batch=2, vae=package)
    before = {r.info.run_id for r in _runs()}
    started = time.monotonic()
    killed = run_mlflow(
        "train_ldm",
        home,
        {"overrides": f"{LDM_STEPS} data.batch_size=2", "processes": "2", "vae": package},
        env={"RADIODIFF_FAULT_KILL_AT_STEP": "7", "RADIODIFF_FAULT_KILL_RANK": "1"},
    )
    assert killed.returncode != 0
    ended = time.time()
    assert time.monotonic() - started < 180  # launch + 7 steps + the end of the job once rank 1 is gone
    (run_id,) = {r.info.run_id for r in _runs()} - before
    client = MlflowClient()
    last_step = max(m.timestamp for m in client.get_metric_history(run_id, "train/loss")) / 1000  # step 6
    assert ended - last_step < 60  # one more step, the kill, and the launcher stops the surviving rank
    resumed = run_mlflow("train_ldm", home, {"processes": "2"}, options=["--run-id", run_id])
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-4000:]
    _assert_same(client, whole, run_id, (*LDM_KEYS, "val/rmse"), tol=1e-6)
    for key in LDM_KEYS:
        steps = [s for s, _ in history(client, run_id, key)]
        assert len(steps) == len(set(steps)), key  # no step logged twice


@pytest.mark.slow
def test_gradient_accumulation_under_two_processes_matches_one(home: Path) -> None:
    accumulated = f"{VAE_STEPS} vae_train.grad_accum=2"
    one = _train("train_vae", home, accumulated, processes=1, batch=4)
    two = _train("train_vae", home, accumulated, processes=2, batch=2)
    client = MlflowClient()
    assert client.get_run(two).data.params["global_batch"] == "8"
    _assert_same(client, one, two, VAE_KEYS, rel=1e-4)


@pytest.mark.slow
def test_two_machines_on_loopback_train_into_one_run(home: Path) -> None:
    """Two launcher invocations (`--num_machines 2`, one process each), as on two hosts: their own local
    folders, one shared tracking store; rank 0 owns the run."""
    port = free_port()
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_machines", "2",
                "--num_processes", "2", "--main_process_ip", "127.0.0.1", "--main_process_port", str(port),
                "--dynamo_backend", "no", "--mixed_precision", "no"]  # fmt: skip
    job = ["-m", "radiodiff", "train_vae", "--overrides", f"{TINY_VAE} vae_train.steps=10 data.batch_size=2"]
    machines = []
    for rank in (0, 1):
        folder = home / f"machine{rank}"
        folder.mkdir()
        env = {**os.environ, "RADIODIFF_HOME": str(folder)}
        command = [*launcher, "--machine_rank", str(rank), *job]
        machines.append(
            subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        )
    outputs = [m.communicate(timeout=600)[0].decode() for m in machines]
    assert [m.returncode for m in machines] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]

    (run,) = _runs()
    client = MlflowClient()
    assert run.info.status == "FINISHED" and run.data.params["processes"] == "2"
    assert [s for s, _ in history(client, run.info.run_id, "train/loss")] == list(range(2, 11, 2))
    assert (home / "machine0" / "outputs" / run.info.run_id / "checkpoints" / "last").is_dir()
    assert (home / "machine1" / "outputs" / run.info.run_id / "checkpoints" / "last").is_dir()  # its local copy


@pytest.mark.slow
def test_main_with_two_processes_trains_each_step_in_one_child_run(home: Path) -> None:
    overrides = f"{TINY_LDM} vae_train.steps=6 vae_train.warmup_steps=2 vae_train.val_every=3 ldm_train.steps=4"
    done = run_mlflow("main", home, {"overrides": f"{overrides} data.batch_size=2", "processes": "2"})
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    client = MlflowClient()
    runs = {r.data.tags.get("radiodiff.entry_point"): r for r in _runs()}
    parent = runs["main"]
    for step in ("train_vae", "train_ldm"):
        child = runs[step]
        assert child.info.status == "FINISHED" and child.data.params["processes"] == "2"
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert parent.data.tags[f"radiodiff.step.{step}"] == child.info.run_id
    assert len(_runs()) == 5  # main, generate_data, train_vae, train_ldm, evaluate: one run each
    assert {k: str(v) for k, v in client.get_registered_model("radiodiff").aliases.items()} == {"champion": "1"}
