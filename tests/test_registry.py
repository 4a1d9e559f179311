"""evaluation.registry on a real sqlite MLflow store: version tags, champion promotion rules, loading the champion."""

from __future__ import annotations

import mlflow
import pytest
from registry_helpers import log_constant_model

from evaluation.registry import alias_holder, champion_uri, promote_if_better, register_version

NAME = "radiodiff-test"


def champion_prediction(name: str = NAME) -> float:
    """What the model under `models:/<name>@champion` predicts."""
    return mlflow.pyfunc.load_model(champion_uri(name)).predict([0.0])[0]


def test_champion_uri() -> None:
    assert champion_uri() == "models:/radiodiff@champion"
    assert champion_uri("radiodiff-vae", "staging") == "models:/radiodiff-vae@staging"


def test_version_tags_hold_metrics_and_first_version_becomes_champion(mlflow_store: str) -> None:
    metrics = {"test/rmse": 0.0412, "test/ssim": 0.95, "test/psnr": 35}
    version = register_version(log_constant_model(1.0), metrics, NAME, tags={"eval_run_id": "abc", "dataset": "seer"})
    assert (str(version.version), version.status) == ("1", "READY")  # sqlite gives an int
    stored = mlflow.MlflowClient().get_model_version(NAME, "1").tags
    assert stored == {
        "test/rmse": "0.0412",
        "test/ssim": "0.95",
        "test/psnr": "35.0",
        "eval_run_id": "abc",
        "dataset": "seer",
    }
    assert alias_holder(NAME) is None
    promoted, why = promote_if_better(NAME, "1")
    assert promoted and why == "version 1 (test/rmse 0.0412) is the first champion: alias champion moved"
    assert str(alias_holder(NAME).version) == "1"
    assert champion_prediction() == 1.0


def test_promotion_only_on_a_strictly_better_metric(mlflow_store: str) -> None:
    first, better, other = (log_constant_model(value) for value in (1.0, 2.0, 3.0))
    for uri, rmse in [(first, 0.045), (better, 0.0412), (other, 0.0412), (other, 0.05)]:
        register_version(uri, {"test/rmse": rmse}, NAME)
    assert promote_if_better(NAME, "1")[0]
    assert promote_if_better(NAME, "2") == (
        True,
        "version 2 (test/rmse 0.0412) beats champion version 1 (0.045): alias champion moved",
    )
    assert promote_if_better(NAME, "3") == (
        False,
        "version 3 (0.0412) does not beat champion version 2 (0.0412): champion kept",
    )
    assert promote_if_better(NAME, "4") == (
        False,
        "version 4 (0.05) does not beat champion version 2 (0.0412): champion kept",
    )
    assert promote_if_better(NAME, "2")[0] is False  # already the champion
    assert str(alias_holder(NAME).version) == "2"
    assert champion_prediction() == 2.0


def test_champion_without_the_metric_is_replaced_and_unscored_candidates_are_not(mlflow_store: str) -> None:
    uri = log_constant_model(1.0)
    register_version(uri, {"test/ssim": 0.9}, NAME)  # v1: no test/rmse
    register_version(uri, {"test/rmse": float("nan")}, NAME)  # v2: diverged
    register_version(uri, {"test/rmse": 0.2}, NAME)  # v3
    mlflow.MlflowClient().set_registered_model_alias(NAME, "champion", "1")
    assert promote_if_better(NAME, "2") == (
        False,
        "version 2 has no finite test/rmse tag: alias champion left unchanged",
    )
    promoted, why = promote_if_better(NAME, "3")
    assert promoted and "replaces champion version 1 (no score)" in why
    assert str(alias_holder(NAME).version) == "3"


def test_higher_is_better_for_ssim_and_unknown_metrics_are_refused(mlflow_store: str) -> None:
    uri = log_constant_model(1.0)
    for ssim in (0.90, 0.80, 0.95):
        register_version(uri, {"test/ssim": ssim}, NAME)
    assert promote_if_better(NAME, "1", metric="test/ssim", alias="best_ssim")[0]
    assert not promote_if_better(NAME, "2", metric="test/ssim", alias="best_ssim")[0]
    assert promote_if_better(NAME, "3", metric="test/ssim", alias="best_ssim")[0]
    assert str(alias_holder(NAME, "best_ssim").version) == "3" and alias_holder(NAME) is None
    with pytest.raises(ValueError, match="test/fid"):
        promote_if_better(NAME, "3", metric="test/fid")


def test_versions_contend_once_promoted_and_are_tagged_so(mlflow_store: str) -> None:
    uri = log_constant_model(1.0)
    for rmse in (0.3, 0.1, 0.2):  # v2 is only registered: it never asked for the alias
        register_version(uri, {"test/rmse": rmse}, NAME)
    assert promote_if_better(NAME, "1")[0]
    assert promote_if_better(NAME, "3") == (
        True,
        "version 3 (test/rmse 0.2) beats champion version 1 (0.3): alias champion moved",
    )
    client = mlflow.MlflowClient()
    tags = {v: client.get_model_version(NAME, v).tags.get("radiodiff.contends.champion") for v in "123"}
    assert tags == {"1": "test/rmse", "2": None, "3": "test/rmse"}
    assert str(alias_holder(NAME).version) == "3"
