"""The ICASSP pipeline as a user runs it, at tiny sizes: generate_data -> three train_vae runs (building, antenna,
radio) -> the multi-condition train_ldm -> evaluate --register, each a real `radiodiff` process against one sqlite
store; then the registered model predicts maps of three non-square sizes in Python and over HTTP
(`mlflow models serve`), each at its own size and in dB."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image
from serving_helpers import post, served_model
from training_helpers import PROJECT_ROOT, run_radiodiff

from radiodiff.data.icassp.index import index_icassp

TINY_ICASSP = (
    "generator.indoor_buildings=4 generator.indoor_min_side=40 generator.indoor_max_side=80 "
    "generator.indoor_tx_per_setting=2 generator.workers=1 data.val_fraction=0.25 data.test_fraction=0.25 "
    "data.crop_size=[32,32] data.crop_tx_margin=4 data.batch_size=4 "
    "vae.channels=8 vae.channel_mult=[1,2] vae_train.steps=4 vae_train.warmup_steps=2 vae_train.val_every=4 "
    "vae_train.sample_every=4 vae_train.checkpoint_every=4 vae_train.val_batches=1 "
    "ldm.channels=16 ldm.channel_mult=[1,2] ldm_train.steps=4 ldm_train.warmup_steps=2 ldm_train.val_every=4 "
    "ldm_train.sample_every=4 ldm_train.checkpoint_every=4 ldm_train.val_batches=1 "
    "tracking.log_every=2 tracking.system_metrics=false"
)
STAGES = ("building", "antenna", "radio")
SIZES = ((40, 56), (72, 48), (52, 80))  # (H, W): three non-square sizes, none the 32 x 32 training crop


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run the whole pipeline once; returns the environment its processes used and the registered model's URI."""
    home = tmp_path_factory.mktemp("icassp")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}

    def radiodiff(*args: str) -> str:
        done = run_radiodiff(list(args), home, env)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout + done.stderr

    config = str(PROJECT_ROOT / "configs/icassp.yaml")
    radiodiff("generate_data", "--config", config, "--overrides", TINY_ICASSP)
    for stage in STAGES:
        radiodiff(
            "train_vae", "--config", str(PROJECT_ROOT / f"configs/icassp_vae_{stage}.yaml"), "--overrides", TINY_ICASSP
        )
    radiodiff("train_ldm", "--config", config, "--overrides", TINY_ICASSP)
    runs = MlflowClient(env["MLFLOW_TRACKING_URI"]).search_runs(["0"], order_by=["start_time DESC"], max_results=1)
    model_uri = runs[0].data.tags["radiodiff.model_uri"]
    radiodiff("evaluate", "--config", config, "--overrides", TINY_ICASSP, "--model", model_uri, "--register", "true")
    return {**env, "home": str(home), "model_uri": model_uri}


def _requests(home: Path) -> list[dict[str, np.ndarray]]:
    """One request per size in SIZES: a window of a generated sample's challenge image holding its transmitter."""
    roots = sorted(home.glob("data/generated-*"))
    index = index_icassp(roots[0])
    sample = index.samples[0]
    image = np.asarray(Image.open(sample.input_path), dtype=np.float32)  # (H, W, 3): R, G, distance
    requests = []
    for height, width in SIZES:
        canvas = np.zeros((height, width, 3), np.float32)
        h, w = min(height, image.shape[0]), min(width, image.shape[1])
        canvas[:h, :w] = image[:h, :w]
        rows, cols = np.indices((height, width))
        canvas[..., 2] = np.hypot(rows - h // 2, cols - w // 2) * 0.25  # the transmitter at the window's centre
        requests.append({"inputs": canvas[None], "antenna": np.array([2]), "frequency_mhz": np.array([1800.0])})
    return requests


def test_every_stage_is_a_run_and_each_vae_is_registered_under_its_own_name(pipeline: dict[str, str]) -> None:
    client = MlflowClient(pipeline["MLFLOW_TRACKING_URI"])
    for stage in STAGES:
        assert client.get_model_version(f"radiodiff-icassp-vae-{stage}", "1").status == "READY"
    (ldm,) = client.search_runs(["0"], "tags.`radiodiff.entry_point` = 'train_ldm'")
    assert ldm.data.params["cfg.diffusion.building_vae_uri"] == "models:/radiodiff-icassp-vae-building/1"  # pinned
    assert ldm.data.params["cfg.data.layout"] == "icassp"


def test_evaluate_reports_rmse_in_db_per_task_beside_the_free_space_pattern_baseline(pipeline: dict[str, str]) -> None:
    client = MlflowClient(pipeline["MLFLOW_TRACKING_URI"])
    run = client.search_runs(["0"], order_by=["start_time DESC"], max_results=1)[0]
    metrics = run.data.metrics
    for prefix in ("test/", "baseline/test_"):
        for key in ("rmse_db", "task1_rmse_db", "task2_rmse_db", "task3_rmse_db", "weighted_rmse_db"):
            assert np.isfinite(metrics[prefix + key]), prefix + key
    weighted = 0.3 * metrics["test/task1_rmse_db"] + 0.3 * metrics["test/task2_rmse_db"]
    assert metrics["test/weighted_rmse_db"] == pytest.approx(weighted + 0.4 * metrics["test/task3_rmse_db"])
    table = json.loads(Path(mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="evaluation/per_map.json", tracking_uri=pipeline["MLFLOW_TRACKING_URI"]
    )).read_text())  # fmt: skip
    per_map = {name: [row[i] for row in table["data"]] for i, name in enumerate(table["columns"])}
    assert np.mean(per_map["rmse_db"]) == pytest.approx(metrics["test/rmse_db"])
    assert set(per_map["task"]) == {1, 2, 3}
    assert str(client.get_model_version_by_alias("radiodiff-icassp", "champion").version) == "1"


def test_the_registered_model_maps_three_non_square_sizes_in_python_and_over_http(pipeline: dict[str, str]) -> None:
    requests = _requests(Path(pipeline["home"]))
    mlflow.set_tracking_uri(pipeline["MLFLOW_TRACKING_URI"])
    try:
        model = mlflow.pyfunc.load_model("models:/radiodiff-icassp@champion")
        in_python = [model.predict(request, params={"seed": 1}) for request in requests]
    finally:
        mlflow.set_tracking_uri(None)
    for (height, width), prediction in zip(SIZES, in_python, strict=True):
        assert prediction.shape == (1, height, width)
        assert prediction.min() >= 0 and prediction.max() <= 255  # path loss in dB
    env = {"MLFLOW_TRACKING_URI": pipeline["MLFLOW_TRACKING_URI"], "RADIODIFF_HOME": pipeline["home"]}
    with served_model("models:/radiodiff-icassp@champion", env, Path(pipeline["home"])) as port:
        for request, expected in zip(requests, in_python, strict=True):
            payload = {"inputs": {k: v.tolist() for k, v in request.items()}, "params": {"seed": 1}}
            status, body = post(port, payload)
            assert status == 200, body
            np.testing.assert_allclose(np.asarray(json.loads(body)["predictions"]), expected, atol=1e-3)
        status, body = post(port, {"inputs": {"inputs": requests[0]["inputs"].tolist(), "antenna": [9],
                                              "frequency_mhz": [1800.0]}})  # fmt: skip
        assert status == 400 and "input 'antenna' must hold pattern ids" in body
