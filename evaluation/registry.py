"""The MLflow model registry: register scored models and keep the alias `champion` on the best one.

A version carries its scores as version tags (`test/rmse` -> "0.0412", ...), so promotion reads nothing but the
registry. The alias moves only to a strictly better version (ARCHITECTURE: `champion` = best by `test/rmse`).

Several processes may promote at once (two `evaluate --register` jobs): the registry has no compare-and-set, so a
read-then-write would let a stale write put the alias back on the worse version. Instead each candidate is tagged
a contender for the alias (`radiodiff.contends.<alias>` = the metric) before it competes, contenders are never
untagged, and every process moves the alias to the best of the contenders and the holder, then reads again, until
a read shows the alias on that best. The last write is followed by such a read, so the alias ends on the best of
every contender.
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
CONTENDER_TAG = "radiodiff.contends.{alias}"  # version tag: value = the metric it contends by
MAX_SETTLE_ROUNDS = 20  # reads and writes before giving up on an alias that keeps moving
UNIQUE_VIOLATION_MARKERS = ("UNIQUE constraint failed", "duplicate key value violates unique constraint")
"""How sqlite and PostgreSQL word a second insert of one alias (MLflow passes the database's message on)."""


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


def alias_holder(
    name: str = DEFAULT_NAME, alias: str = DEFAULT_ALIAS, client: mlflow.MlflowClient | None = None
) -> ModelVersion | None:
    """The version of `name` holding `alias`, or None when no version holds it (or `name` is not registered)."""
    client = client or mlflow.MlflowClient()
    try:
        version = client.get_registered_model(name).aliases.get(alias)
    except MlflowException as err:
        if err.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
            return None
        raise
    return client.get_model_version(name, version) if version is not None else None


def promote_if_better(
    name: str,
    version: str,
    metric: str = DEFAULT_METRIC,
    alias: str = DEFAULT_ALIAS,
    client: mlflow.MlflowClient | None = None,
) -> tuple[bool, str]:
    """Move `alias` to `version` if its `metric` tag is strictly better than the alias holder's; safe to run in
    several processes at once (the module docstring says how).

    A tie keeps the holder (or, between contenders only, the lower version); no holder, or a holder without a
    finite `metric` tag, means promotion. Lower is better except for SSIM and PSNR. A candidate without a finite
    `metric` tag is never promoted. Versions compete once promoted here: a version only registered does not.

    Returns:
        (promoted: `version` holds `alias` now and did not before, a one-line explanation).
    """
    _higher_is_better(metric)  # refuses an unknown metric before anything is written
    client = client or mlflow.MlflowClient()
    score = _tag_value(client.get_model_version(name, str(version)), metric)
    if score is None:
        return False, f"version {version} has no finite {metric} tag: alias {alias} left unchanged"
    client.set_model_version_tag(name, str(version), CONTENDER_TAG.format(alias=alias), metric)
    before, after = settle_alias(name, metric, alias, client)
    if before is not None and str(before.version) == str(version):
        return False, f"version {version} ({metric} {score:.6g}) already holds alias {alias}"
    best = _tag_value(before, metric) if before is not None else None
    if str(after.version) == str(version):
        return True, f"version {version} ({metric} {score:.6g}) {_against(before, best, alias)}: alias {alias} moved"
    rival = f"{alias} version {after.version} ({_tag_value(after, metric):.6g})"
    if before is not None and str(before.version) == str(after.version):
        return False, f"version {version} ({score:.6g}) does not beat {rival}: {alias} kept"
    return False, f"version {version} ({score:.6g}) does not beat {rival}: {alias} moved there"


def settle_alias(
    name: str, metric: str, alias: str, client: mlflow.MlflowClient
) -> tuple[ModelVersion | None, ModelVersion]:
    """Set `alias` to the best of its contenders and its holder until a read shows it there.

    Returns:
        (the holder at the first read, the holder at the last read).
    Raises:
        RuntimeError: the alias still moved after `MAX_SETTLE_ROUNDS` writes (someone else keeps moving it).
    """
    first = None
    for round_ in range(MAX_SETTLE_ROUNDS):
        contenders = _contenders(name, metric, alias, client)
        holder = alias_holder(name, alias, client)
        first = holder if round_ == 0 else first
        best = _best(contenders, holder, metric)
        if holder is not None and str(holder.version) == str(best.version):
            return first, holder
        _write_alias(client, name, alias, str(best.version))
    raise RuntimeError(f"alias {alias} of {name} still moved after {MAX_SETTLE_ROUNDS} writes: is a job looping?")


def _write_alias(client: mlflow.MlflowClient, name: str, alias: str, version: str) -> None:
    """Point `alias` at `version`. MLflow's store creates a new alias by a read then an insert, so two jobs writing
    it for the first time at once make one insert fail on the alias's unique key: the other job wrote it, and the
    next read of `settle_alias` decides."""
    try:
        client.set_registered_model_alias(name, alias, version)
    except MlflowException as err:
        if not any(marker in str(err) for marker in UNIQUE_VIOLATION_MARKERS):
            raise


def _contenders(name: str, metric: str, alias: str, client: mlflow.MlflowClient) -> list[ModelVersion]:
    """Every version of `name` tagged a contender for `alias` by `metric`, with a finite `metric` tag."""
    key, found, token = CONTENDER_TAG.format(alias=alias), [], None
    while True:
        page = client.search_model_versions(f"name = '{name}'", page_token=token)
        found += [v for v in page if v.tags.get(key) == metric and _tag_value(v, metric) is not None]
        token = page.token
        if not token:
            return found


def _best(contenders: list[ModelVersion], holder: ModelVersion | None, metric: str) -> ModelVersion:
    """The best-scored of the contenders and the holder (when it has a score): ties go to the holder, then to the
    lowest version number, so every process picks the same one."""
    sign = -1.0 if _higher_is_better(metric) else 1.0
    pool = contenders + ([holder] if holder is not None and _tag_value(holder, metric) is not None else [])
    is_holder = {str(holder.version)} if holder is not None else set()
    return min(pool, key=lambda v: (sign * _tag_value(v, metric), str(v.version) not in is_holder, int(v.version)))


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
