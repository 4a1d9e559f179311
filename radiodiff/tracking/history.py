"""Reading runs back from the tracking store: run info, params, tags, metric histories and logged images.

The report (and anything else that looks at finished work) reads runs through these functions and never
touches MLflow entities: everything returned is a plain dataclass, dict or bytes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

IMAGE_FOLDER = "images"
SEARCH_LIMIT = 200  # runs looked at when searching an experiment for its latest training run


class RunNotFound(FileNotFoundError):
    """A run id or experiment that the tracking store does not hold (the command line prints one line)."""


@dataclass(frozen=True)
class MetricPoint:
    """One logged value of a metric."""

    step: int
    value: float
    timestamp_ms: int
    """Wall-clock time of the logging call, milliseconds since the epoch."""


@dataclass(frozen=True)
class RunRecord:
    """What a run is: identity, state, params, tags and the metric keys it logged."""

    run_id: str
    run_name: str
    experiment_id: str
    experiment_name: str
    status: str
    """RUNNING, SCHEDULED, FINISHED, FAILED or KILLED."""
    start_time_ms: int
    end_time_ms: int | None
    params: dict[str, str]
    tags: dict[str, str]
    metric_keys: tuple[str, ...]


def fetch_run(run_id: str) -> RunRecord:
    """The record of a run; raises RunNotFound naming the run and the tracking store when it does not exist."""
    run = _get_run(run_id)
    experiment = MlflowClient().get_experiment(run.info.experiment_id)
    return RunRecord(
        run_id=run.info.run_id,
        run_name=run.info.run_name or "",
        experiment_id=run.info.experiment_id,
        experiment_name=experiment.name,
        status=run.info.status,
        start_time_ms=int(run.info.start_time or 0),
        end_time_ms=int(run.info.end_time) if run.info.end_time else None,
        params=dict(run.data.params),
        tags=dict(run.data.tags),
        metric_keys=tuple(sorted(run.data.metrics)),
    )


def metric_history(run_id: str, key: str) -> list[MetricPoint]:
    """Every logged value of `key`, ordered by (step, timestamp); values logged twice at one step are kept."""
    points = MlflowClient().get_metric_history(run_id, key)
    return sorted((MetricPoint(int(m.step), float(m.value), int(m.timestamp)) for m in points), key=_order)


def image_artifacts(run_id: str, key: str) -> dict[int, str]:
    """Step -> artifact path of the full-resolution PNG logged with `log_image(key=key, step=...)`.

    MLflow names them `images/<key>+step+<n>+timestamp+<ms>+<uuid>.png` (plus a `+compressed.webp` preview,
    ignored here). When one step holds several images (a run logged twice), the newest one is returned.
    """
    found: dict[int, tuple[int, str]] = {}
    for info in MlflowClient().list_artifacts(run_id, IMAGE_FOLDER):
        parts = Path(info.path).name.removesuffix(".png").split("+")
        if info.is_dir or not info.path.endswith(".png") or len(parts) != 6:
            continue
        if parts[0] != key.replace("/", "~") or parts[1] != "step" or parts[3] != "timestamp":
            continue
        step, stamp = int(parts[2]), int(parts[4])
        if step not in found or stamp > found[step][0]:
            found[step] = (stamp, info.path)
    return {step: path for step, (_, path) in sorted(found.items())}


def read_artifact(run_id: str, path: str) -> bytes:
    """The bytes of one artifact file of a run (downloaded through the run's artifact repository)."""
    with tempfile.TemporaryDirectory(prefix="radiodiff-artifact-") as folder:
        local = MlflowClient().download_artifacts(run_id, path, folder)
        return Path(local).read_bytes()


def latest_training_run(experiment: str, metric: str = "train/loss") -> str:
    """The id of the newest run (by start time) of an experiment that logged `metric`.

    Runs without it (the `main` pipeline's parent run, `mlflow run` launcher runs of other jobs, report
    runs) are passed over. Raises RunNotFound naming the experiment when it does not exist or holds none.
    """
    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is None:
        raise RunNotFound(f"no experiment named {experiment!r} in the tracking store {client.tracking_uri}")
    runs = client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"], max_results=SEARCH_LIMIT)
    for run in runs:
        if metric in run.data.metrics:
            return run.info.run_id
    raise RunNotFound(f"experiment {experiment!r} has no run that logged {metric!r}")


def _get_run(run_id: str) -> Run:
    client = MlflowClient()
    try:
        return client.get_run(run_id)
    except MlflowException as err:
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise RunNotFound(f"no run with id {run_id!r} in the tracking store {client.tracking_uri}") from None
        raise


def _order(point: MetricPoint) -> tuple[int, int]:
    return point.step, point.timestamp_ms
