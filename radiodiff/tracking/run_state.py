"""A run's MLflow-side state around tracking-server outages: leaving it open, and its system-metrics thread.

MLflow has no public calls for these, so this file alone touches its fluent API's private state.
"""

from __future__ import annotations

import logging

from mlflow.environment_variables import MLFLOW_RUN_ID
from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor
from mlflow.tracking import fluent


def leave_run_open() -> None:
    """Forget this process's active run (and stop its system-metrics thread) without a call to the server.

    `mlflow.end_run()` would set the run's status on the server, which is unreachable here; its client would
    retry for minutes and then fail with a traceback. The run stays RUNNING there until a resume ends it; its
    heartbeat stops, so `radiodiff runs` shows it DEAD.
    """
    stack = fluent._active_run_stack.get()
    if not stack:
        return
    MLFLOW_RUN_ID.unset()
    run = stack.pop()
    monitor = fluent.run_id_to_system_metrics_monitor.pop(run.info.run_id, None)
    if monitor is not None:
        monitor._shutdown_event.set()  # its thread ends at its next wake-up; nothing more is sent


class _SystemMetricsOutageFilter(logging.Filter):
    """Drops the system-metrics thread's "failed to get/log" warnings: it stops at the first failed call of an
    outage, which the outbox announces once for everything; `restart_system_metrics` starts it again."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(("Failed to get mlflow run", "Failed to log system metrics"))


def quiet_system_metrics_outages() -> None:
    """Install `_SystemMetricsOutageFilter` on MLflow's system-metrics logger (once)."""
    monitor_logger = logging.getLogger(SystemMetricsMonitor.__module__)
    if not any(isinstance(f, _SystemMetricsOutageFilter) for f in monitor_logger.filters):
        monitor_logger.addFilter(_SystemMetricsOutageFilter())


def restart_system_metrics(run_id: str) -> None:
    """Start run `run_id`'s system-metrics thread again when an outage stopped it (its steps continue)."""
    monitor = fluent.run_id_to_system_metrics_monitor.get(run_id)
    thread = getattr(monitor, "_process", None)
    if monitor is None or (thread is not None and thread.is_alive()):
        return
    fresh = SystemMetricsMonitor(run_id, resume_logging=True)
    fresh.start()
    fluent.run_id_to_system_metrics_monitor[run_id] = fresh
