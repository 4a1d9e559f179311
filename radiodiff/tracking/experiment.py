"""Which MLflow experiment a job's run lands in: the one rule for every job, `radiodiff runs` and `report`.

`mlflow run` creates its run in the experiment of `--experiment-name` / `--experiment-id` (or the environment
variables MLFLOW_EXPERIMENT_NAME / MLFLOW_EXPERIMENT_ID behind them), else in "Default". `radiodiff <job>` follows
the same rule, so both land in the same place. `tracking.experiment`, when set, must agree with that choice.
"""

from __future__ import annotations

import os

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from radiodiff.config import ConfigError

DEFAULT_EXPERIMENT = "Default"  # MLflow's experiment 0, where `mlflow run` puts runs by default


def choose_experiment(configured: str) -> str:
    """The experiment name for a new run (or a listing): MLflow's choice from the environment, else the configured
    name, else "Default".

    Raises:
        ConfigError: `configured` (tracking.experiment) names another experiment than the environment chose.
    """
    chosen = _from_environment()
    if configured and chosen and configured != chosen:
        raise ConfigError(_disagreement(configured, chosen, "the environment (MLFLOW_EXPERIMENT_NAME/_ID) chose"))
    return configured or chosen or DEFAULT_EXPERIMENT


def experiment_id_for(name: str) -> str:
    """The id of the experiment `name`, created when missing. (Not `mlflow.set_experiment`: it also exports
    MLFLOW_EXPERIMENT_ID to this process's environment, which would then choose the experiment of the next job.)"""
    client = MlflowClient()
    if (found := client.get_experiment_by_name(name)) is not None:
        return found.experiment_id
    try:
        return client.create_experiment(name)
    except MlflowException as err:
        if err.error_code != "RESOURCE_ALREADY_EXISTS":  # another process created it meanwhile
            raise
        return client.get_experiment_by_name(name).experiment_id


def check_run_experiment(configured: str, run_id: str) -> None:
    """A run that already exists (made by `mlflow run`, or being resumed) stays in its experiment; a configured
    tracking.experiment that names another one is an error (one line, telling how to choose it)."""
    client = MlflowClient()
    name = client.get_experiment(client.get_run(run_id).info.experiment_id).name
    if configured and configured != name:
        raise ConfigError(_disagreement(configured, name, f"run {run_id} is in"))


def _from_environment() -> str:
    """The experiment named by MLFLOW_EXPERIMENT_NAME, else by MLFLOW_EXPERIMENT_ID; "" when neither is set."""
    if name := os.environ.get("MLFLOW_EXPERIMENT_NAME", ""):
        return name
    if not (experiment_id := os.environ.get("MLFLOW_EXPERIMENT_ID", "")):
        return ""
    try:
        return MlflowClient().get_experiment(experiment_id).name
    except MlflowException:
        raise ConfigError(f"MLFLOW_EXPERIMENT_ID={experiment_id}: no such experiment in the tracking store") from None


def _disagreement(configured: str, actual: str, whose: str) -> str:
    return (
        f"tracking.experiment = {configured!r} but {whose} experiment {actual!r}: choose the experiment with "
        f"`mlflow run --experiment-name {configured} ...` or MLFLOW_EXPERIMENT_NAME={configured}, and leave "
        "tracking.experiment empty"
    )
