"""The MLflow run of a job: its params, metrics, images and artifacts, and finding runs again.

Jobs receive a `RunTracker` and never import mlflow themselves. `mlflow run` creates the run and exports
MLFLOW_RUN_ID; `start_run` attaches to it, so the same job code works under `mlflow run`, under the
`radiodiff` console script and inside the `main` pipeline (as a child run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import mlflow
import numpy as np
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.data.meta_dataset import MetaDataset
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from PIL import Image

from radiodiff.config import Config, dump
from radiodiff.errors import TrackingUnavailable, TrainingStopped
from radiodiff.paths import run_dir
from radiodiff.tracking.delivery import IMAGE_FILE, mlflow_delivery
from radiodiff.tracking.experiment import check_run_experiment, choose_experiment, experiment_id_for
from radiodiff.tracking.heartbeat import STEP_TAG, Heartbeat, heartbeat_age_s, is_dead, keep_alive
from radiodiff.tracking.history import RunNotFound
from radiodiff.tracking.outbox import Outbox
from radiodiff.tracking.run_state import leave_run_open, quiet_system_metrics_outages, restart_system_metrics

PARAM_VALUE_LIMIT = 6000  # MLflow's limit on a param value's length
OUTBOX_DIR = "outbox"
FAILED_RUN_WAIT_S = 30.0
STOPPED_TAG = "radiodiff.stopped"
"""Why a run's training was stopped early (it ended KILLED)."""


class RunTracker:
    """The MLflow run of one job.

    Metrics, tags set while it runs, sample images and checkpoint uploads go through the run's `Outbox` (a
    journal on local disk delivered by a background thread), so the job never waits for the tracking server and
    outlives its outages; params, datasets, tables and models are written at once (at the start and the end).
    """

    def __init__(
        self,
        run_id: str,
        synchronous: bool = False,
        heartbeat: Heartbeat | None = None,
        outbox: Outbox | None = None,
        outage_wait_s: float = 3600,
    ) -> None:
        self.run_id = run_id
        self.synchronous = synchronous
        self.client = MlflowClient()
        self.heartbeat = heartbeat
        self.outbox = outbox or open_outbox(run_id)
        self.outage_wait_s = outage_wait_s

    def log_config(self, config: Config) -> None:
        """The resolved config as params `cfg.<section>.<key>` and as the artifact `config/resolved.yaml`."""
        self.log_params({f"cfg.{key}": value for key, value in config.flat().items()})
        self.log_text(dump(config), "config/resolved.yaml")

    def log_params(self, params: dict[str, Any]) -> None:
        """Log params, skipping those already recorded with the same value (a resumed run re-logs them)."""
        logged = self.client.get_run(self.run_id).data.params
        fresh = {k: _param_text(v) for k, v in params.items()}
        fresh = {k: v for k, v in fresh.items() if logged.get(k) != v}
        if fresh:
            mlflow.log_params(fresh, synchronous=True)

    def set_tags(self, tags: dict[str, Any]) -> None:
        self.outbox.put("tags", {"tags": {k: str(v) for k, v in tags.items()}})

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat.reached(step)
        timestamp = int(time.time() * 1000)
        rows = [[key, float(value), timestamp, step] for key, value in metrics.items()]
        self.outbox.put("metrics", {"metrics": rows})
        if self.synchronous:
            self.flush()

    def log_image(self, key: str, image: np.ndarray, step: int) -> None:
        """An (H, W, 3) uint8 image under an image key with a step slider in the UI."""
        staging = self.outbox.staging_folder()
        Image.fromarray(np.asarray(image, dtype=np.uint8)).save(staging / IMAGE_FILE)
        payload = {"key": key, "step": step, "timestamp": int(time.time() * 1000)}
        self.outbox.put("image", payload, files=staging)

    def upload_later(self, folder: str | Path, artifact_path: str) -> None:
        """Upload a folder's files as `artifact_path` in the background, as they are now (hard links: the folder
        may be replaced at once); a newer upload to the same path that is still waiting supersedes this one."""
        staging = self.outbox.staging_folder()
        _link_tree(Path(folder), staging)
        self.outbox.put("artifacts", {"artifact_path": artifact_path}, files=staging, replaces=artifact_path)
        self.outbox.persist()  # every record up to this checkpoint survives whatever happens next
        if self.heartbeat is not None:
            self.heartbeat.beat_soon()  # `radiodiff runs` then shows at least this checkpoint's step

    def log_figure_png(self, image: np.ndarray, artifact_file: str) -> None:
        """An (H, W, 3) uint8 image as a PNG artifact file."""
        mlflow.log_image(image, artifact_file=artifact_file)

    def log_text(self, text: str, artifact_file: str) -> None:
        mlflow.log_text(text, artifact_file)

    def log_dict(self, values: dict[str, Any], artifact_file: str) -> None:
        mlflow.log_dict(values, artifact_file)

    def log_table(self, columns: dict[str, list], artifact_file: str) -> None:
        """A table (column name -> values) shown in the run's artifact viewer and evaluation views."""
        mlflow.log_table(data=columns, artifact_file=artifact_file)

    def set_description(self, markdown: str) -> None:
        """The run's description (shown on the run page)."""
        mlflow.set_tag("mlflow.note.content", markdown)

    def logged_steps(self, keys: list[str]) -> dict[str, set[int]]:
        """The steps already stored per metric key (a resumed run skips them)."""
        return {key: {m.step for m in self.client.get_metric_history(self.run_id, key)} for key in keys}

    def logged_image_steps(self, key: str) -> set[int]:
        """The steps of images already logged under `key` (file names images/<key>+step+<n>+...)."""
        steps = set()
        for info in self.client.list_artifacts(self.run_id, "images"):
            parts = Path(info.path).name.split("+")
            if len(parts) > 2 and parts[0] == key and parts[1] == "step":
                steps.add(int(parts[2]))
        return steps

    def log_dataset(self, root: str | Path, name: str, digest: str, context: str) -> None:
        """Record a data folder as a run input (shown in the run's Datasets panel)."""
        with warnings.catch_warnings():  # a local folder matches the local-artifact source twice; same class
            warnings.simplefilter("ignore", UserWarning)
            source = resolve_dataset_source(str(Path(root).resolve()))
        mlflow.log_input(MetaDataset(source, name=name, digest=digest[:36]), context=context)

    def flush(self) -> None:
        """Wait until every record so far is in the store; raises TrackingUnavailable (one line) when the server
        stays unreachable for `outage_wait_s`."""
        if not self.outbox.wait(self.outage_wait_s):
            raise TrackingUnavailable(
                f"the tracking server {mlflow.get_tracking_uri()} did not answer for {self.outage_wait_s:.0f} s: "
                f"{self.outbox.waiting} records of run {self.run_id} wait in {self.outbox.folder}; when it is "
                f"back, `radiodiff sync {self.run_id}` sends them (a resume with --run-id does too)"
            )


def open_outbox(run_id: str) -> Outbox:
    """The outbox of run `run_id` in this machine's working folder for it (records an earlier process left
    there are delivered first); after an outage it restarts the run's system metrics."""
    quiet_system_metrics_outages()
    return Outbox(run_dir(run_id) / OUTBOX_DIR, mlflow_delivery(run_id, lambda: restart_system_metrics(run_id)))


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link (copy where links are impossible) every file of `source` into `target`, keeping sub-folders."""
    for path in source.rglob("*"):
        if path.is_dir():
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


def download_checkpoint(run_id: str, which: str, dst: Path) -> Path | None:
    """The run's artifact folder `checkpoints/<which>` downloaded into `dst`; None when it has none."""
    client = MlflowClient()
    if not any(info.path == f"checkpoints/{which}" for info in client.list_artifacts(run_id, "checkpoints")):
        return None
    dst.mkdir(parents=True, exist_ok=True)
    return Path(client.download_artifacts(run_id, f"checkpoints/{which}", str(dst)))


def create_child_run(parent_run_id: str, run_name: str) -> str:
    """A new, empty run under `parent_run_id` (same experiment) for a job launched as separate processes; the job
    enters it through MLFLOW_RUN_ID, as under `mlflow run`."""
    client = MlflowClient()
    parent = client.get_run(parent_run_id)
    tags = {"mlflow.parentRunId": parent_run_id, "mlflow.runName": run_name}
    return client.create_run(parent.info.experiment_id, tags=tags, run_name=run_name).info.run_id


def run_tag(run_id: str, key: str) -> str:
    """A tag of a run; a missing tag raises KeyError naming the run and the tag."""
    tags = MlflowClient().get_run(run_id).data.tags
    if key not in tags:
        raise KeyError(f"run {run_id} has no tag {key!r}")
    return tags[key]


def find_finished_run(
    entry_point: str, config: Config, sections: tuple[str, ...], ignore: tuple[str, ...] = ()
) -> str | None:
    """The newest FINISHED run of `entry_point` in the current experiment whose `cfg.<section>.*` params all
    equal `config`'s, but for the `ignore`d keys (values the job derives itself, such as an estimated latent scale);
    the `main` pipeline reuses such a step instead of running it again."""
    return find_run_with_params(entry_point, _config_params(config, sections, ignore))


def find_run_with_params(entry_point: str, params: dict[str, Any]) -> str | None:
    """The newest FINISHED run of `entry_point` in the active run's experiment with all these param values."""
    runs = _runs_with_params(entry_point, params, "attributes.status = 'FINISHED'")
    return runs[0].info.run_id if runs else None


@dataclass(frozen=True)
class PriorRun:
    """An earlier run of a job, and what became of it."""

    run_id: str
    entry_point: str
    """Tag radiodiff.entry_point; "" when no radiodiff job has entered the run yet (a fresh `mlflow run` run)."""
    state: Literal["finished", "failed", "live", "dead"]
    """live: its process still beats; dead: RUNNING without a live process (`is_dead`), or KILLED."""
    heartbeat_age_s: float
    step: str
    """The step it reached (tag radiodiff.step), "" when unknown."""


def prior_run(run_id: str) -> PriorRun:
    """What became of run `run_id`; raises RunNotFound (one line) when the store does not hold it."""
    try:
        return _prior(MlflowClient().get_run(run_id), time.time())
    except MlflowException as err:
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise RunNotFound(f"no run with id {run_id!r} in the tracking store {mlflow.get_tracking_uri()}") from None
        raise


def find_prior_run(
    entry_point: str, config: Config, sections: tuple[str, ...], ignore: tuple[str, ...] = ()
) -> PriorRun | None:
    """Like `find_finished_run`, but the newest matching run whatever became of it (FAILED runs are passed over:
    they failed for a reason and would fail again)."""
    params = _config_params(config, sections, ignore)
    runs = _runs_with_params(entry_point, params, "attributes.status != 'FAILED'")
    return _prior(runs[0], time.time()) if runs else None


def _prior(run: Run, now: float) -> PriorRun:
    info, tags = run.info, run.data.tags
    states = {"FINISHED": "finished", "FAILED": "failed", "RUNNING": "live"}
    state = "dead" if is_dead(info.status, tags, info.start_time, now) else states.get(info.status, "dead")
    age = heartbeat_age_s(tags, info.start_time, now)
    return PriorRun(info.run_id, tags.get("radiodiff.entry_point", ""), state, age, tags.get(STEP_TAG, ""))


def _config_params(config: Config, sections: tuple[str, ...], ignore: tuple[str, ...]) -> dict[str, Any]:
    """The `cfg.*` params that define a step's result: its sections' keys, but for `ignore` and the settings
    that only change its speed (worker counts)."""
    skip = {*ignore, *config.speed_only_keys()}
    return {f"cfg.{k}": v for k, v in config.flat().items() if k.split(".")[0] in sections and k not in skip}


def _runs_with_params(entry_point: str, params: dict[str, Any], status_filter: str) -> list:
    """Runs of `entry_point` in the active run's experiment with all these param values, newest first."""
    active = mlflow.active_run()
    wanted = {k: _param_text(v) for k, v in params.items()}
    runs = mlflow.search_runs(
        experiment_ids=[active.info.experiment_id] if active else None,
        filter_string=f"tags.`radiodiff.entry_point` = '{entry_point}' and {status_filter}",
        order_by=["attributes.start_time DESC"],
        output_format="list",
    )
    return [run for run in runs if all(run.data.params.get(k) == v for k, v in wanted.items())]


@contextmanager
def start_run(
    entry_point: str,
    config: Config,
    run_name: str | None = None,
    run_id: str | None = None,
    nested: bool = False,
) -> Iterator[RunTracker]:
    """Open (or re-enter) the run of one job and record what defines it.

    Args:
        entry_point: the MLproject entry point name, recorded as tag `radiodiff.entry_point`.
        config: the resolved config, logged as `cfg.*` params and `config/resolved.yaml`.
        run_name: a name for a new run.
        run_id: re-enter this run (resume); None attaches to MLFLOW_RUN_ID when `mlflow run` set it.
        nested: open the run as a child of the active run (the `main` pipeline).
    Yields:
        The RunTracker of the open run; the run ends (FINISHED or FAILED) when the block exits, KILLED with the tag
        `radiodiff.stopped` when training was stopped early (`TrainingStopped`, re-raised for the caller).
    """
    existing = run_id or os.environ.get("MLFLOW_RUN_ID", "")
    experiment_id = None
    if existing:
        check_run_experiment(config.tracking.experiment, existing)
    elif nested:
        experiment_id = mlflow.active_run().info.experiment_id  # a child run lives beside its parent
    else:
        experiment_id = experiment_id_for(choose_experiment(config.tracking.experiment))
    run = mlflow.start_run(
        run_id=run_id,
        experiment_id=experiment_id,
        run_name=run_name,
        nested=nested,
        log_system_metrics=config.tracking.system_metrics,
    )
    outbox = open_outbox(run.info.run_id)
    if outbox.waiting:
        print(f"radiodiff: sending {outbox.waiting} records an earlier process of run {run.info.run_id} left")
    synchronous = not config.tracking.async_logging
    try:
        with keep_alive(run.info.run_id, config.tracking.heartbeat_s) as heart:
            tracker = RunTracker(run.info.run_id, synchronous, heart, outbox, config.tracking.outage_wait_s)
            tracker.set_tags({"radiodiff.entry_point": entry_point, **_git_tags()})
            tracker.log_config(config)
            tracker.flush()  # what an earlier attempt logged is in the store before the job reads the run back
            yield tracker
            tracker.flush()
    except TrackingUnavailable:
        outbox.close()
        leave_run_open()  # ending it would wait on the same server; its heartbeat stops, so it shows DEAD
        raise
    except TrainingStopped as stop:  # stopped on purpose (a sweep's pruner): everything logged so far is kept
        tracker.set_tags({STOPPED_TAG: stop.reason})
        outbox.wait(FAILED_RUN_WAIT_S)
        outbox.close()
        mlflow.end_run("KILLED")
        raise
    except BaseException as err:
        outbox.wait(FAILED_RUN_WAIT_S)  # a failing job's last records, as far as the store takes them quickly
        outbox.close()
        mlflow.end_run("KILLED" if isinstance(err, KeyboardInterrupt) else "FAILED")
        raise
    outbox.close()
    mlflow.end_run()


def _param_text(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, list | tuple | dict) else str(value)
    return text[:PARAM_VALUE_LIMIT]


def _git_tags() -> dict[str, str]:
    """The commit of the working tree (and whether it was dirty), when run from a git checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"radiodiff.git_commit": commit, "radiodiff.git_dirty": str(bool(dirty)).lower()}
