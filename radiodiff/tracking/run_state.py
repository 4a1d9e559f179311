"""Leaving a run without telling the tracking server: for when the server is the thing that is gone."""

from __future__ import annotations

from mlflow.environment_variables import MLFLOW_RUN_ID
from mlflow.tracking import fluent


def leave_run_open() -> None:
    """Forget this process's active run (and stop its system-metrics thread) without a call to the server.

    `mlflow.end_run()` would set the run's status on the server, which is unreachable here; its client would
    retry for minutes and then fail with a traceback. The run stays RUNNING there until a resume or
    `radiodiff sync` ends it; its heartbeat stops, so `radiodiff runs` shows it DEAD. MLflow has no public call
    for this, so it pops the fluent API's run stack itself.
    """
    stack = fluent._active_run_stack.get()
    if not stack:
        return
    MLFLOW_RUN_ID.unset()
    run = stack.pop()
    monitor = fluent.run_id_to_system_metrics_monitor.pop(run.info.run_id, None)
    if monitor is not None:
        monitor._shutdown_event.set()  # its thread ends at its next wake-up; nothing more is sent
