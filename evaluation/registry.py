"""The MLflow model registry: register scored models and keep the alias `champion` on the best one.

A version carries its scores as version tags (`test/rmse` -> "0.0412", ...), so promotion reads nothing but the
registry. The alias moves only to a strictly better version (ARCHITECTURE: `champion` = best by `test/rmse`).
"""

from __future__ import annotations

import math

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.entities.model_registry.model_version_status import ModelVersionStatus
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode

DEFAULT_NAME = "radiodiff"  # radiodiff.inference.MODEL_REGISTERED_NAME (not imported: it pulls in torch)
DEFAULT_ALIAS = "champion"
DEFAULT_METRIC = "test/rmse"
HIGHER_IS_BETTER = frozenset({"ssim", "psnr"})  # metric names (after the last "/") to maximise
LOWER_IS_BETTER = frozenset({"nmse", "rmse", "mae", "rmse_db", "loss"})


def champion_uri(name: str = DEFAULT_NAME, alias: str = DEFAULT_ALIAS) -> str:
    """The model URI of the alias holder, e.g. `models:/radiodiff@champion`."""
    return f"models:/{name}@{alias}"


def register_version(
    model_uri: str,
    metrics: dict[str, float],
    name: str = DEFAULT_NAME,
    tags: dict[str, object] | None = None,
    timeout_s: int = 300,
) -> ModelVersion:
    """Register a logged model as a new version of `name`, its metrics and `tags` as version tags.

    Args:
        model_uri: the logged model (`models:/<model_id>`, `runs:/<run_id>/model`, ...).
        metrics: scores by key (`test/rmse`, ...); stored as tags with string values.
        tags: more version tags, e.g. the evaluation run id and the data set name.
        timeout_s: how long to wait for the version to become READY.

    Returns:
        The READY model version.
    """
    version_tags = {key: str(float(value)) for key, value in metrics.items()}
    version_tags.update({key: str(value) for key, value in (tags or {}).items()})
    version = mlflow.register_model(model_uri, name, await_registration_for=timeout_s, tags=version_tags)
    if version.status != ModelVersionStatus.to_string(ModelVersionStatus.READY):
        raise RuntimeError(f"version {version.version} of {name} is {version.status} after {timeout_s} s, not READY")
    return version


def alias_holder(name: str = DEFAULT_NAME, alias: str = DEFAULT_ALIAS) -> ModelVersion | None:
    """The version of `name` holding `alias`, or None when no version holds it (or `name` is not registered)."""
    client = mlflow.MlflowClient()
    try:
        version = client.get_registered_model(name).aliases.get(alias)
    except MlflowException as err:
        if err.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
            return None
        raise
    return client.get_model_version(name, version) if version is not None else None


def promote_if_better(
    name: str, version: str, metric: str = DEFAULT_METRIC, alias: str = DEFAULT_ALIAS
) -> tuple[bool, str]:
    """Move `alias` to `version` if its `metric` tag is strictly better than the alias holder's.

    A tie keeps the holder; no holder, or a holder without a finite `metric` tag, means promotion.
    Lower is better except for SSIM and PSNR. A candidate without a finite `metric` tag is never promoted.

    Returns:
        (promoted, a one-line explanation).
    """
    higher = _higher_is_better(metric)
    client = mlflow.MlflowClient()
    score = _tag_value(client.get_model_version(name, str(version)), metric)
    if score is None:
        return False, f"version {version} has no finite {metric} tag: alias {alias} left unchanged"
    holder = alias_holder(name, alias)
    if holder is not None and str(holder.version) == str(version):
        return False, f"version {version} ({metric} {score:.6g}) already holds alias {alias}"
    best = _tag_value(holder, metric) if holder is not None else None
    if best is not None and not (score > best if higher else score < best):
        rival = f"{alias} version {holder.version} ({best:.6g})"
        return False, f"version {version} ({score:.6g}) does not beat {rival}: {alias} kept"
    client.set_registered_model_alias(name, alias, str(version))
    return True, f"version {version} ({metric} {score:.6g}) {_against(holder, best, alias)}: alias {alias} moved"


def _against(holder: ModelVersion | None, best: float | None, alias: str) -> str:
    """The middle of the explanation: whom the candidate replaced."""
    if holder is None:
        return f"is the first {alias}"
    if best is None:
        return f"replaces {alias} version {holder.version} (no score)"
    return f"beats {alias} version {holder.version} ({best:.6g})"


def _tag_value(version: ModelVersion, metric: str) -> float | None:
    """The finite float in `version`'s tag `metric`, else None."""
    try:
        value = float(version.tags[metric])
    except (KeyError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _higher_is_better(metric: str) -> bool:
    """Whether a larger `metric` (judged by its name after the last "/") is better."""
    short = metric.rsplit("/", 1)[-1]
    if short not in HIGHER_IS_BETTER | LOWER_IS_BETTER:
        known = sorted(HIGHER_IS_BETTER | LOWER_IS_BETTER)
        raise ValueError(f"metric {metric!r}: cannot tell whether higher is better; known names {known}")
    return short in HIGHER_IS_BETTER
