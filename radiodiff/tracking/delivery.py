"""How the outbox's records reach an MLflow run, and how to tell a refusal from an unreachable server."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

import mlflow
import numpy as np
from mlflow.entities import Metric, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from PIL import Image

from radiodiff.tracking.outbox import Delivery, PermanentError, Record

IMAGE_FILE = "image.png"
PROBE_TIMEOUT_S = 3.0


def mlflow_delivery(run_id: str, on_back: Callable[[], None] = lambda: None) -> Delivery:
    """The Delivery of records into run `run_id` of the current tracking store (`on_back`: after an outage)."""
    client = MlflowClient()
    uri = mlflow.get_tracking_uri()

    def send(record: Record) -> None:
        try:
            _SENDERS[record.kind](client, run_id, record)
        except MlflowException as err:
            if err.get_http_status_code() < 500:  # a 4xx: a bad value, no permission, no such run
                raise PermanentError(str(err).splitlines()[0]) from err
            raise

    return Delivery(send=send, answers=lambda: server_answers(uri), where=uri, on_back=on_back)


def server_answers(tracking_uri: str) -> bool:
    """Whether an HTTP tracking server answers its health check quickly; a local store (sqlite) always does."""
    if not tracking_uri.startswith(("http://", "https://")):
        return True
    try:
        with urllib.request.urlopen(tracking_uri.rstrip("/") + "/health", timeout=PROBE_TIMEOUT_S) as answer:
            return answer.status < 500
    except urllib.error.HTTPError as err:
        return err.code < 500
    except (OSError, ValueError):
        return False


def tracking_failure(err: BaseException) -> str | None:
    """One line for a tracking-server failure that ends a command (unreachable, credentials refused); None for
    anything else."""
    if not isinstance(err, MlflowException):
        return None
    uri, status, text = mlflow.get_tracking_uri(), err.get_http_status_code(), str(err)
    if "failed with exception" in text and status >= 500:
        return f"the tracking server {uri} is not answering: start it, or point MLFLOW_TRACKING_URI at a running one"
    if err.error_code == "UNAUTHENTICATED" or "error code 401" in text:
        return f"the tracking server {uri} refused the credentials: set MLFLOW_TRACKING_USERNAME and _PASSWORD"
    if err.error_code == "PERMISSION_DENIED" or "error code 403" in text:
        return f"the tracking server {uri} denied this user the operation: {text.splitlines()[0][:200]}"
    return None


def _send_metrics(client: MlflowClient, run_id: str, record: Record) -> None:
    metrics = [Metric(key, value, timestamp, step) for key, value, timestamp, step in record.payload["metrics"]]
    client.log_batch(run_id, metrics=metrics, synchronous=True)


def _send_tags(client: MlflowClient, run_id: str, record: Record) -> None:
    tags = [RunTag(key, value) for key, value in record.payload["tags"].items()]
    client.log_batch(run_id, tags=tags, synchronous=True)


def _send_image(client: MlflowClient, run_id: str, record: Record) -> None:
    if record.files is None:
        raise PermanentError(f"the image file of record {record.seq} is gone")
    image = np.asarray(Image.open(record.files / IMAGE_FILE).convert("RGB"))
    payload = record.payload
    client.log_image(
        run_id, image, key=payload["key"], step=payload["step"], timestamp=payload["timestamp"], synchronous=True
    )


def _send_artifacts(client: MlflowClient, run_id: str, record: Record) -> None:
    if record.files is None:
        raise PermanentError(f"the files of record {record.seq} are gone")
    client.log_artifacts(run_id, str(record.files), record.payload["artifact_path"])


_SENDERS = {"metrics": _send_metrics, "tags": _send_tags, "image": _send_image, "artifacts": _send_artifacts}
