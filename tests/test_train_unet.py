"""train_unet end to end on a real sqlite MLflow store: `mlflow run . -e train_unet`, what the run records, the
logged model's interface (RadioDiff's inputs and params) in process and served over HTTP, and exact resume after
SIGKILL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from serving_helpers import post, served_model
from training_helpers import (
    PROJECT_ROOT,
    TINY_UNET,
    assert_same_history,
    history,
    run_mlflow,
    run_radiodiff,
    runs_by_start,
)

from radiodiff.config import load
from radiodiff.inference import RequestError
from radiodiff.jobs.train_unet import train_unet


def _scene(size: int = 32) -> dict[str, np.ndarray]:
    buildings = np.zeros((2, size, size - 8), np.float32)
    buildings[:, 4:12, 6:14] = 1
    tx = np.zeros_like(buildings)
    tx[0, 20, 20], tx[1, 3, 3] = 1, 1
    return {"buildings": buildings, "tx": tx}


def test_mlflow_run_train_unet_records_the_run_and_serves_radiodiffs_interface(home: Path) -> None:
    done = run_mlflow("train_unet", home, {"overrides": TINY_UNET})
    assert done.returncode == 0, done.stderr[-3000:]

    client = MlflowClient()
    (run,) = runs_by_start(client)
    run_id = run.info.run_id
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.project.entryPoint"] == "train_unet"
    assert run.data.params["cfg.radiounet.channels"] == "8"
    assert [s for s, _ in history(client, run_id, "train/loss")] == list(range(2, 13, 2))
    for key in ("nmse", "rmse", "ssim", "psnr", "mae"):
        assert [s for s, _ in history(client, run_id, f"val/{key}")] == [0, 4, 8, 12], key
    assert {"baseline/free_space_rmse", "baseline/mean_map_rmse"} <= set(run.data.metrics)
    # It learns: the MSE it minimises falls (12 steps on a few tiny maps do not move val/rmse reliably: predictions are
    # 0 in buildings, where an untrained network's map is then already right: 0.200 at step 0, 0.226 at step 12).
    loss = history(client, run_id, "train/loss")
    assert loss[-1][1] < 0.5 * loss[0][1]
    images = {a.path for a in client.list_artifacts(run_id, "images")}
    assert {int(p.split("+")[2]) for p in images if p.endswith(".png")} == {0, 4, 8, 12}
    checkpoint = {a.path for a in client.list_artifacts(run_id, "checkpoints/last")}
    assert {"checkpoints/last/radiounet.safetensors", "checkpoints/last/radiounet.ema.safetensors"} <= checkpoint

    model = mlflow.pyfunc.load_model(run.data.tags["radiodiff.model_uri"])
    scene = _scene()
    maps = model.predict(scene, params={"steps": 5, "seed": 3})
    assert maps.shape == (2, 32, 24) and maps.dtype == np.float32 and 0 <= maps.min() <= maps.max() <= 1
    np.testing.assert_array_equal(model.predict(scene), maps)  # deterministic: steps and seed change nothing
    with pytest.raises(RequestError, match=r"^param 'steps' must be an integer in 1\.\.1000 .*; got 5000$"):
        model.predict(scene, params={"steps": 5000})
    with pytest.raises(RequestError, match=r"^missing input 'tx'"):
        model.predict({"buildings": scene["buildings"]})
    assert model.metadata.metadata["radiodiff_model_type"] == {"type": "radiounet"}


def test_unet_exact_resume_after_sigkill(home: Path) -> None:
    args = ["train_unet", "--config", str(PROJECT_ROOT / "configs/default.yaml"), "--overrides", TINY_UNET]
    assert run_radiodiff(args, home).returncode == 0
    assert run_radiodiff(args, home, env={"RADIODIFF_FAULT_KILL_AT_STEP": "7"}).returncode == -9

    client = MlflowClient()
    uninterrupted, crashed = runs_by_start(client)
    resumed = run_radiodiff(["train_unet", "--resume", crashed.info.run_id], home)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    for key in ("train/loss", "train/grad_norm", "val/rmse", "val/ssim"):
        expected = history(client, uninterrupted.info.run_id, key)
        got = history(client, crashed.info.run_id, key)
        assert_same_history(got, expected, key)


def test_the_logged_radiounet_serves_over_http_as_in_process(home: Path) -> None:
    run_id = train_unet(load(PROJECT_ROOT / "configs/default.yaml", f"{TINY_UNET} unet_train.steps=4"))
    model_uri = MlflowClient().get_run(run_id).data.tags["radiodiff.model_uri"]
    scene = _scene()
    expected = mlflow.pyfunc.load_model(model_uri).predict(scene)
    good = {"inputs": {name: values.tolist() for name, values in scene.items()}, "params": {"steps": 2, "seed": 1}}
    env = {"MLFLOW_TRACKING_URI": os.environ["MLFLOW_TRACKING_URI"]}
    with served_model(model_uri, env, home) as port:
        status, body = post(port, good)
        assert status == 200, body
        np.testing.assert_array_equal(np.asarray(json.loads(body)["predictions"], np.float32), expected)
        status, body = post(port, {**good, "params": {"steps": 5000}})
    assert status == 400 and json.loads(body)["message"].startswith("param 'steps' must be an integer in 1..1000")


def test_a_stage_batch_size_overrides_the_data_sections(home: Path) -> None:
    """`unet_train.batch_size` sets the maps per step of this stage only (`data.batch_size` is 4 in TINY_UNET)."""
    config = load(PROJECT_ROOT / "configs/default.yaml", f"{TINY_UNET} unet_train.steps=2 unet_train.batch_size=2")
    run = MlflowClient().get_run(train_unet(config))
    assert (run.data.params["global_batch"], run.data.params["cfg.unet_train.batch_size"]) == ("2", "2")
    assert run.data.params["cfg.data.batch_size"] == "4"
