"""A running job's heartbeat, and the one rule that tells a dead run from a live one.

MLflow never ends a run whose process died (SIGKILL, power loss, a lost node): it stays RUNNING forever. So every
job's process writes the tag `radiodiff.heartbeat` (unix time, seconds) every `tracking.heartbeat_s` seconds from
a daemon thread (a slow validation does not stop it; a killed process does), beside the step it reached, and
which process on which host beats (so that on that host a vanished process is known dead at once).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from mlflow.entities import RunTag
from mlflow.tracking import MlflowClient

from radiodiff.errors import TrackingUnavailable

HEARTBEAT_TAG = "radiodiff.heartbeat"
INTERVAL_TAG = "radiodiff.heartbeat_interval_s"
STEP_TAG = "radiodiff.step"
PROCESS_TAG = "radiodiff.process"
"""`<host>:<pid>` of the process that beats."""
STEPS_TAG = "radiodiff.steps"
"""Set by the training jobs: the number of steps the run is to reach."""
DEAD_AFTER_INTERVALS = 2  # one missed beat may be a slow store; two are a dead process
DEFAULT_INTERVAL_S = 60.0  # for runs that recorded no interval (started before heartbeats, or by `mlflow run`)

logger = logging.getLogger(__name__)
_beating: dict[str, Heartbeat] = {}  # run id -> the heartbeat of this process for it


class Heartbeat:
    """A daemon thread that writes the heartbeat and the step reached of one run."""

    def __init__(self, run_id: str, interval_s: float) -> None:
        self.run_id = run_id
        self.interval_s = interval_s
        self.step: int | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # beat now (the first step reached, or stop)
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id[:8]}", daemon=True)
        self._client = MlflowClient()

    def reached(self, step: int) -> None:
        """Record that the job logged something at `step`: written with the next beat, at once for the first."""
        first = self.step is None
        self.step = step if first else max(self.step, step)
        if first:
            self._wake.set()

    def beat_soon(self) -> None:
        """Beat now from the heartbeat's thread, not waiting for the interval (nor on the store here): a checkpoint
        was written, and the step reached is then worth recording, since a resume restarts from there."""
        self._wake.set()

    def start(self) -> None:
        """Beat now (the run is alive from this moment), then every interval."""
        process = RunTag(PROCESS_TAG, f"{socket.gethostname()}:{os.getpid()}")
        self._client.log_batch(self.run_id, tags=[RunTag(INTERVAL_TAG, f"{self.interval_s:g}"), process])
        self.beat()
        self._thread.start()

    def stop(self, last_beat: bool = True) -> None:
        """Stop the thread and beat a last time (the step reached at the end) unless the store is unreachable."""
        self._stop.set()
        self._wake.set()
        if last_beat:
            self._thread.join()
            self.beat()

    def beat(self) -> None:
        tags = [RunTag(HEARTBEAT_TAG, f"{time.time():.0f}")]
        if self.step is not None:
            tags.append(RunTag(STEP_TAG, str(self.step)))
        try:
            self._client.log_batch(self.run_id, tags=tags, synchronous=True)
        except Exception as err:  # a store outage must not kill a training run; the next beat retries
            logger.info("heartbeat of run %s not written: %s", self.run_id, err)  # the outbox announces outages

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.beat()


@contextmanager
def keep_alive(run_id: str, interval_s: float) -> Iterator[Heartbeat]:
    """Beat for `run_id` while the block runs; inside a block that already beats for it, reuse that heartbeat."""
    if run_id in _beating:
        yield _beating[run_id]
        return
    heart = _beating[run_id] = Heartbeat(run_id, interval_s)
    heart.start()
    last_beat = True
    try:
        yield heart
    except TrackingUnavailable:
        last_beat = False  # the server is gone: a last beat would wait on it for minutes
        raise
    finally:
        del _beating[run_id]
        heart.stop(last_beat)


def is_dead(status: str, tags: Mapping[str, str], start_time_ms: int, now_s: float) -> bool:
    """Whether a run's process is gone: the run is RUNNING, and either its last sign of life (its heartbeat, else
    its start) is older than DEAD_AFTER_INTERVALS heartbeat intervals (its own `radiodiff.heartbeat_interval_s`),
    or it beat from this host and its process no longer exists here."""
    if status != "RUNNING":
        return False
    stale = heartbeat_age_s(tags, start_time_ms, now_s) > DEAD_AFTER_INTERVALS * interval_s(tags)
    return stale or _gone_from_this_host(tags.get(PROCESS_TAG, ""))


def heartbeat_age_s(tags: Mapping[str, str], start_time_ms: int, now_s: float) -> float:
    """Seconds since the run's last heartbeat (since its start when it never beat)."""
    last = float(tags.get(HEARTBEAT_TAG) or start_time_ms / 1000)
    return max(0.0, now_s - last)


def interval_s(tags: Mapping[str, str]) -> float:
    """The heartbeat interval the run recorded (DEFAULT_INTERVAL_S when it recorded none)."""
    return float(tags.get(INTERVAL_TAG) or DEFAULT_INTERVAL_S)


def _gone_from_this_host(process: str) -> bool:
    host, _, pid = process.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, owned by someone else
        return False
    return False
