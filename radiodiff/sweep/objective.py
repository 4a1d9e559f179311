"""One sweep trial: the trial's overrides on the base config, trained by the chosen entry point in a nested run,
each validation reported to Optuna (and pruned on), the objective the best validation value.

The objective is the best value of the metric over the validations after step 0 (step 0 scores the untrained
model and is not reported): the trial's exported model is its best checkpoint, chosen the same way by val/rmse.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import optuna

from radiodiff.config import Config, ConfigError
from radiodiff.errors import TrainingStopped
from radiodiff.sweep.space import SearchSpace
from radiodiff.sweep.study import RUN_ATTR

TrainFunction = Callable[[Config, Callable[[int, dict[str, float]], None]], str]
"""(config, on_validation) -> run id: train one config in a nested run of the active (parent) run."""


class TrialRuns(Protocol):
    """The MLflow side of a trial (radiodiff.tracking.sweep_runs)."""

    def started(self, number: int) -> str:
        """Tag the active run as trial `number` of the study; returns its id."""
        ...

    def ended(self, run_id: str, state: str) -> None:
        """Record the trial's final state (complete, pruned, failed) on its run."""
        ...


class Objective:
    """Optuna's objective for one sweep (called once per trial)."""

    def __init__(
        self, space: SearchSpace, base: Config, train: TrainFunction, metric: str, maximize: bool, runs: TrialRuns
    ) -> None:
        """Args: metric: the validation score's name without `val/` (e.g. "rmse")."""
        self.space, self.base, self.train = space, base, train
        self.metric, self.maximize, self.runs = metric, maximize, runs

    def __call__(self, trial: optuna.Trial) -> float:
        config = self.base.with_overrides(self.space.suggest(trial))
        reporter = _Reporter(trial, self.metric, self.maximize, self.runs)
        try:
            self.train(config, reporter)
        except TrainingStopped as stop:
            self._end(reporter, "pruned")
            raise optuna.TrialPruned(stop.reason) from None
        except BaseException:
            self._end(reporter, "failed")
            raise
        self._end(reporter, "complete")
        if reporter.best is None:
            raise ConfigError(f"trial {trial.number} scored no val/{self.metric} after step 0: raise the steps")
        return reporter.best

    def _end(self, reporter: _Reporter, state: str) -> None:
        if reporter.run_id:
            self.runs.ended(reporter.run_id, state)


class _Reporter:
    """The trainer's validation callback for one trial: report, keep the best, prune."""

    def __init__(self, trial: optuna.Trial, metric: str, maximize: bool, runs: TrialRuns) -> None:
        self.trial, self.metric, self.maximize, self.runs = trial, metric, maximize, runs
        self.run_id = ""
        self.best: float | None = None

    def __call__(self, step: int, scores: dict[str, float]) -> None:
        if not self.run_id:  # the first validation (step 0): the trial's run is open and active
            self.run_id = self.runs.started(self.trial.number)
            self.trial.set_user_attr(RUN_ATTR, self.run_id)
        if self.metric not in scores:
            names = ", ".join(f"val/{name}" for name in scores)
            raise ConfigError(f"metric val/{self.metric}: the validation scores are {names}")
        if step == 0:
            return
        value = scores[self.metric]
        self.trial.report(value, step)
        if math.isfinite(value) and (self.best is None or (value > self.best if self.maximize else value < self.best)):
            self.best = value
        if self.trial.should_prune():
            raise TrainingStopped(f"pruned by the median pruner at step {step} (val/{self.metric} = {value:.4g})")
