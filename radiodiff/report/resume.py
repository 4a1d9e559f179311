"""Where a training run was interrupted and resumed, read from the timestamps of its `train/loss` history.

A resumed run re-enters its MLflow run and logs on at the next step, so nothing in the store says "resumed"
directly. Two traces remain, and a resume point is an interval between consecutive `train/loss` entries
(ordered by logging time) that shows either:

1. a step restart: the step does not increase (an attempt re-logged steps an earlier attempt had logged,
   as code without resume de-duplication does); or
2. a time gap: the wall time per step of the interval exceeds `factor` times the median of comparable
   intervals, and exceeds `min_gap_s` in absolute terms (no process restarts in less).

"Comparable" matters because validation, sample grids and checkpoints make some intervals regularly slow:
intervals that contain such an event step are compared with each other, the others with the others
(a group with fewer than `MIN_GROUP` intervals is compared with all intervals). Wall time per step, not
per interval, so that a shorter last interval (the forced log at the final step) is not an outlier.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

FACTOR = 8.0
"""A resume gap is slower than `FACTOR` times the median comparable interval (jitter on a busy machine is
2-3x; a restart costs process start-up, data and checkpoint loading, and redoing steps since the checkpoint)."""
MIN_GAP_S = 3.0
"""No restart (new Python process, torch and MLflow imports, checkpoint load) takes less than this."""
MIN_GROUP = 3


@dataclass(frozen=True)
class ResumePoint:
    """An interruption between two consecutive logged steps."""

    last_step: int
    """The last step the interrupted attempt logged."""
    next_step: int
    """The first step the next attempt logged."""
    gap_s: float
    """Wall time between the two entries, seconds."""
    reason: str
    """"time gap" or "step restart"."""


def find_resume_points(
    steps: np.ndarray,
    timestamps_ms: np.ndarray,
    event_steps: Collection[int] = (),
    factor: float = FACTOR,
    min_gap_s: float = MIN_GAP_S,
) -> list[ResumePoint]:
    """The resume points of one metric history (see the module docstring for the rule).

    Args:
        steps: (N,) steps of the logged entries.
        timestamps_ms: (N,) their logging times in milliseconds.
        event_steps: steps at which the run validated, logged samples or saved a checkpoint.
        factor: how many times slower than its comparable intervals a gap must be.
        min_gap_s: the smallest gap, in seconds, that can be a restart.
    Returns:
        The resume points in logging order; an attempt count is `len(points) + 1`.
    """
    order = np.lexsort((np.asarray(steps), np.asarray(timestamps_ms)))  # by time, then step
    steps, times = np.asarray(steps, np.int64)[order], np.asarray(timestamps_ms, np.float64)[order] / 1000.0
    if len(steps) < 2:
        return []
    gaps, spans = np.diff(times), np.diff(steps)
    forward = spans > 0
    per_step = gaps / np.maximum(spans, 1)
    eventful = _contains_event(steps, event_steps)
    typical = _typical(per_step[forward], eventful[forward])
    slow = forward & (gaps >= min_gap_s) & (per_step > factor * np.where(eventful, typical[1], typical[0]))
    return [
        ResumePoint(int(steps[i]), int(steps[i + 1]), float(gaps[i]), "time gap" if slow[i] else "step restart")
        for i in np.flatnonzero(slow | ~forward)
    ]


def _contains_event(steps: np.ndarray, event_steps: Collection[int]) -> np.ndarray:
    """(N-1,) whether the interval (steps[i], steps[i+1]] holds an event step."""
    events = np.asarray(sorted(event_steps), dtype=np.int64)
    if events.size == 0:
        return np.zeros(len(steps) - 1, dtype=bool)
    # Count of events <= s, so the interval (a, b] holds one when the counts at b and a differ.
    below = np.searchsorted(events, steps, side="right")
    return np.diff(below) > 0


def _typical(per_step: np.ndarray, eventful: np.ndarray) -> tuple[float, float]:
    """The median wall time per step of the plain and of the eventful intervals (a group with fewer than
    MIN_GROUP intervals gets the median of all)."""
    overall = float(np.median(per_step)) if per_step.size else 0.0
    medians = []
    for group in (False, True):
        same = per_step[eventful == group]
        medians.append(float(np.median(same)) if same.size >= MIN_GROUP else overall)
    return medians[0], medians[1]
