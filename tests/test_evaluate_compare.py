"""`evaluate --compare`: a RadioUNet and a RadioDiff run scored on the same maps by the same code, in one table; and
registering a RadioUNet goes to `radiounet`, never to `radiodiff`."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image
from training_helpers import (
    PROJECT_ROOT,
    TINY_LDM,
    TINY_UNET,
    run_mlflow,
    run_radiodiff,
    runs_by_start,
    write_vae_package,
)

from evaluation.evaluate import evaluate
from radiodiff.config import load
from radiodiff.errors import ModelNotFound
from radiodiff.jobs.train_ldm import train_ldm
from radiodiff.jobs.train_unet import train_unet

METRICS = ("nmse", "rmse", "ssim", "psnr", "mae", "rmse_db")


@pytest.fixture
def trained(home: Path) -> dict[str, str]:
    """A tiny RadioUNet run and a tiny RadioDiff run on the same generated maps: {type: run id}."""
    package = write_vae_package(home / "vae")
    ldm_overrides = f"{TINY_LDM} diffusion.vae_uri={package} ldm_train.steps=2"
    ldm_config = load(PROJECT_ROOT / "configs/default.yaml", ldm_overrides)
    unet_config = load(PROJECT_ROOT / "configs/default.yaml", f"{TINY_UNET} unet_train.steps=4")
    return {"radiodiff": train_ldm(ldm_config), "radiounet": train_unet(unet_config)}


def _artifact_json(client: MlflowClient, run_id: str, path: str, dst: Path) -> dict:
    return json.loads(Path(client.download_artifacts(run_id, path, str(dst))).read_text())


def test_compare_scores_both_models_on_the_same_maps_in_one_table(trained: dict[str, str], home: Path) -> None:
    client = MlflowClient()
    config = load(PROJECT_ROOT / "configs/default.yaml", TINY_UNET)
    ldm_uri, unet_uri = (f"runs:/{trained[kind]}/model" for kind in ("radiodiff", "radiounet"))
    with pytest.raises(ModelNotFound, match="models:/nope/1"):  # refused before any run is made
        evaluate(config, ldm_uri, compare=["models:/nope/1"])
    assert len(client.search_runs([client.get_experiment_by_name("Default").experiment_id])) == 2
    folder = mlflow.artifacts.download_artifacts(unet_uri, dst_path=str(home / "model"))  # the same, as a folder
    both = client.get_run(evaluate(config, ldm_uri, split="val", compare=[unet_uri, folder]))
    alone = client.get_run(evaluate(config, unet_uri, split="val"))

    label = f"radiounet-{trained['radiounet'][:8]}"
    for key in METRICS:  # the same maps and the same metric code: the RadioUNet's own evaluation, to the bit
        assert both.data.metrics[f"compare/{label}/{key}"] == alone.data.metrics[f"test/{key}"], key
        assert both.data.metrics[f"compare/{label}-2/{key}"] == alone.data.metrics[f"test/{key}"], key
    assert both.data.metrics["baseline/test_rmse"] == alone.data.metrics["baseline/test_rmse"]
    assert both.data.params["compared_models"] == f"{unet_uri} {folder}" and "compared_models" not in alone.data.params

    table = _artifact_json(client, both.info.run_id, "evaluation/comparison.json", home / "dl")
    rows = dict(zip(table["columns"], zip(*table["data"], strict=True), strict=True))
    methods = list(rows["method"])
    assert methods[:4] == [
        "free space (fitted on the training maps)",
        f"RadioDiff (run {trained['radiodiff'][:8]}), evaluated",
        f"RadioUNet (run {trained['radiounet'][:8]})",
        f"RadioUNet (run {trained['radiounet'][:8]})",  # the local folder's MLmodel names its run
    ]
    ours, published = rows["data"][:4], rows["data"][4:]
    assert len(set(ours)) == 1 and ours[0].endswith("val split, 2 maps at 32x32")
    assert set(published) == {"RadioMapSeer DPM 256x256 (published)"}
    assert (rows["rmse"][methods.index("RadioUNet")], rows["rmse"][methods.index("RadioDiff (paper)")]) == (
        0.0244,
        0.0190,
    )
    assert rows["rmse"][2] == pytest.approx(alone.data.metrics["test/rmse"])
    description = both.data.tags["mlflow.note.content"]
    assert f"| RadioUNet (run {trained['radiounet'][:8]}) | {ours[0]} |" in description
    assert "| RadioUNet | RadioMapSeer DPM 256x256 (published) | 0.0074 | 0.0244 |" in description
    per_map = _artifact_json(client, both.info.run_id, "evaluation/per_map.json", home / "dl2")
    assert f"{label}_rmse" in per_map["columns"]


def test_a_registered_radiounet_goes_to_radiounet_never_to_radiodiff(trained: dict[str, str], home: Path) -> None:
    client = MlflowClient()
    config = load(None, TINY_UNET)
    evaluate(config, f"runs:/{trained['radiounet']}/model", split="val", register=True)
    assert [m.name for m in client.search_registered_models()] == ["radiounet"]
    champion = client.get_model_version_by_alias("radiounet", "champion")
    assert champion.run_id == trained["radiounet"]

    evaluate(config, f"runs:/{trained['radiodiff']}/model", split="val", register=True)
    assert client.get_model_version_by_alias("radiodiff", "champion").run_id == trained["radiodiff"]
    assert {v.run_id for v in client.search_model_versions("name = 'radiodiff'")} == {trained["radiodiff"]}
    assert {v.run_id for v in client.search_model_versions("name = 'radiounet'")} == {trained["radiounet"]}

    again = client.get_run(evaluate(config, "models:/radiounet@champion", split="val", register=True))
    assert "already a registered version" in again.data.tags["radiodiff.registry"]
    assert len(client.search_model_versions("name = 'radiounet'")) == 1
    loaded = mlflow.pyfunc.load_model("models:/radiounet@champion")
    assert loaded.metadata.metadata["radiodiff_model_type"] == {"type": "radiounet"}

    buildings = np.zeros((40, 24), np.uint8)
    buildings[4:12, 6:14] = 255
    Image.fromarray(buildings).save(home / "b.png")
    args = ["--model", "models:/radiounet@champion", "--buildings", str(home / "b.png"), "--tx", "30,12"]
    done = run_radiodiff(["predict", *args, "--out", str(home / "o")], home)
    assert done.returncode == 0, done.stderr[-3000:]
    assert np.load(home / "o.npy").shape == (40, 24)


def test_mlflow_run_evaluate_with_its_default_parameters_compares_both_models(
    trained: dict[str, str], home: Path
) -> None:
    # MLflow logs the entry point's parameters (steps = "", compare = ...) before the job logs its own params.
    ldm_uri, unet_uri = (f"runs:/{trained[kind]}/model" for kind in ("radiodiff", "radiounet"))
    done = run_mlflow("evaluate", home, {"model": ldm_uri, "compare": unet_uri, "split": "val"})
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient()
    run = next(r for r in runs_by_start(client) if r.data.tags.get("radiodiff.entry_point") == "evaluate")
    assert "steps" in run.data.params and run.data.params["sampler_steps"] == "model default"
    assert run.data.params["compared_models"] == unet_uri
    assert f"compare/radiounet-{trained['radiounet'][:8]}/rmse" in run.data.metrics
