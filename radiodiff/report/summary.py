"""The numbers of a report: final and best values, wall time, NaN skips, resume points (pure functions)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from radiodiff.report.data import RunData, Series
from radiodiff.report.resume import ResumePoint, find_resume_points

HIGHER_IS_BETTER = ("ssim", "psnr")
"""Metric names (the part after the last `/`) where larger is better; for every other metric smaller is."""
LOSS_PREFIX = "train/loss"
VAL_PREFIX = "val/"


@dataclass(frozen=True)
class MetricSummary:
    """The final and the best value of one metric."""

    key: str
    final: float
    """The value at the highest logged step (NaN when that step was not finite)."""
    final_step: int
    best: float
    """The best finite value (min, or max for HIGHER_IS_BETTER); NaN when no value was finite."""
    best_step: int | None


@dataclass(frozen=True)
class RunSummary:
    """What the summary table of a report says about one run."""

    run_id: str
    label: str
    entry_point: str
    status: str
    last_step: int | None
    """The highest step with a `train/loss` entry."""
    target_steps: int | None
    """The configured number of steps (`cfg.<train section>.steps`)."""
    wall_time_s: float | None
    """Start to end; for a run still RUNNING, start to its newest logged metric."""
    resume_gap_s: float
    """Wall time spent in the resume gaps (interrupted, not training)."""
    losses: list[MetricSummary]
    validation: list[MetricSummary]
    baselines: list[MetricSummary]
    """`baseline/*` reference scores (e.g. the RMSE of predicting the mean training map)."""
    nan_skips: int | None
    """The last `train/nan_skips` value: steps skipped because the loss was not finite."""
    resumes: list[ResumePoint]
    phase_switch: int | None
    samples_per_s: float | None
    """Median training throughput."""
    last_event: str | None

    @property
    def attempts(self) -> int:
        return len(self.resumes) + 1


def summarize(run: RunData) -> RunSummary:
    """The summary of one run from its metric histories, params and tags."""
    loss = run.metrics.get("train/loss")
    resumes = find_resume_points(loss.steps, loss.timestamps_ms, run.event_steps()) if loss is not None else []
    throughput = run.metrics.get("train/samples_per_s")
    skips = run.metrics.get("train/nan_skips")
    return RunSummary(
        run_id=run.run_id,
        label=run.label,
        entry_point=run.entry_point or "?",
        status=run.record.status,
        last_step=int(loss.steps.max()) if loss is not None and loss.steps.size else None,
        target_steps=run.train_param("steps"),
        wall_time_s=_wall_time_s(run),
        resume_gap_s=float(sum(p.gap_s for p in resumes)),
        losses=[metric_summary(k, run.metrics[k]) for k in run.keys(LOSS_PREFIX)],
        validation=[metric_summary(k, run.metrics[k]) for k in run.keys(VAL_PREFIX)],
        baselines=[metric_summary(k, run.metrics[k]) for k in run.keys("baseline/")],
        nan_skips=int(skips.last) if skips is not None and math.isfinite(skips.last) else None,
        resumes=resumes,
        phase_switch=run.phase_switch,
        samples_per_s=_median_finite(throughput),
        last_event=run.record.tags.get("radiodiff.last_event"),
    )


def metric_summary(key: str, series: Series) -> MetricSummary:
    """Final and best value of a metric; the direction of "best" comes from the metric's name."""
    finite = series.finite()
    best_step: int | None = None
    best = math.nan
    if finite.values.size:
        index = int(np.argmax(finite.values) if higher_is_better(key) else np.argmin(finite.values))
        best, best_step = float(finite.values[index]), int(finite.steps[index])
    return MetricSummary(key, series.last, int(series.steps[-1]), best, best_step)


def higher_is_better(key: str) -> bool:
    return key.rsplit("/", 1)[-1] in HIGHER_IS_BETTER


def _wall_time_s(run: RunData) -> float | None:
    start = run.record.start_time_ms
    end = run.record.end_time_ms
    if end is None:  # still running (or crashed): up to the newest logged value
        stamps = [int(s.timestamps_ms.max()) for s in run.metrics.values() if s.timestamps_ms.size]
        end = max(stamps) if stamps else None
    return (end - start) / 1000.0 if end is not None and start else None


def _median_finite(series: Series | None) -> float | None:
    if series is None:
        return None
    finite = series.finite().values
    return float(np.median(finite)) if finite.size else None
