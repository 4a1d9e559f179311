"""A model of the dynamic setting (DRM) end to end: trained on a layout with cars, served over HTTP, a `cars`
input required, and the served answer equal to the in-process prediction."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
from fixtures_radiomapseer import write_radiomapseer
from mlflow.tracking import MlflowClient
from serving_helpers import post, served_model
from training_helpers import PROJECT_ROOT, TINY_LDM, write_vae_package

from radiodiff.config import load
from radiodiff.jobs.train_ldm import train_ldm

DRM = "data.setting=dynamic data.simulation=carsDPM ldm_train.steps=3"


@pytest.fixture
def drm_model(mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The logged model of a tiny LDM trained for 3 steps on a 32x32 layout with car masks."""
    monkeypatch.setenv("RADIODIFF_HOME", str(tmp_path))
    root = tmp_path / "drm"
    write_radiomapseer(root, maps=6, tx=2, size=32, cars=True, simulations=("carsDPM",))
    package = write_vae_package(tmp_path / "vae")
    overrides = f"{TINY_LDM} {DRM} data.data_dir={root} diffusion.vae_uri={package}"
    run_id = train_ldm(load(PROJECT_ROOT / "configs/default.yaml", overrides))
    return MlflowClient().get_run(run_id).data.tags["radiodiff.model_uri"]


def _scene() -> dict[str, list]:
    buildings = np.zeros((2, 32, 32), np.float32)
    buildings[:, 4:12, 6:14] = 1
    cars = np.zeros_like(buildings)
    cars[0, 20:23, 2:5] = 1
    cars[1, 25:28, 10:13] = 1
    tx = np.zeros_like(buildings)
    tx[:, 18, 20] = 1
    return {"buildings": buildings.tolist(), "tx": tx.tolist(), "cars": cars.tolist()}


def test_a_served_drm_model_needs_cars_and_answers_as_in_process(
    drm_model: str, mlflow_store: str, tmp_path: Path
) -> None:
    scene, params = _scene(), {"steps": 2, "seed": 7}
    local = mlflow.pyfunc.load_model(drm_model)
    expected = local.predict({k: np.asarray(v, np.float32) for k, v in scene.items()}, params=params)
    without_cars = {k: v for k, v in scene.items() if k != "cars"}

    with served_model(drm_model, {"MLFLOW_TRACKING_URI": mlflow_store}, tmp_path) as port:
        status, body = post(port, {"inputs": without_cars, "params": params})
        assert status == 400, body
        assert "cars" in json.loads(body)["message"], body

        status, body = post(port, {"inputs": scene, "params": params})
        assert status == 200, body
        served = np.asarray(json.loads(body)["predictions"], np.float32)

    assert served.shape == expected.shape == (2, 32, 32)
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-6)
    assert not np.allclose(expected[0], expected[1]), "the two scenes differ only by their cars"


def test_the_drm_predictor_refuses_a_scene_without_cars(drm_model: str) -> None:
    model = mlflow.pyfunc.load_model(drm_model)
    scene = {k: np.asarray(v, np.float32) for k, v in _scene().items() if k != "cars"}
    with pytest.raises(mlflow.exceptions.MlflowException, match="cars"):
        model.predict(scene)
