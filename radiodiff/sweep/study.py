"""A sweep's Optuna study: its identity, opening it (created once, however many processes race), its parent run's
id, and the trials whose process died.

The study is the coordination point of every process that sweeps it: the storage's unique study name decides which
process creates it (and the parent run); the others load it and wait for the parent run's id in its user attributes.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import optuna
from optuna.pruners import MedianPruner
from optuna.storages import BaseStorage, fail_stale_trials
from optuna.trial import TrialState

from radiodiff.errors import RunConflict
from radiodiff.sweep.sampler import TrialSeededTPESampler

DEFINITION_ATTR = "radiodiff.definition"
PARENT_ATTR = "radiodiff.parent_run_id"
RUN_ATTR = "radiodiff.run_id"
"""A trial's user attribute: the id of its MLflow run."""
DONE = (TrialState.COMPLETE, TrialState.PRUNED)
PARENT_WAIT_S = 30.0


@dataclass(frozen=True)
class StudyDefinition:
    """What a study optimises; two sweeps with the same definition are the same study."""

    entry: str
    metric: str
    direction: str
    space: str
    """The search space's canonical text."""
    config: dict[str, Any]
    """The base config as dotted keys (with the sweep's overrides): every trial's config but the swept keys."""

    def default_name(self) -> str:
        """`<entry>-<12 hex digits>` from everything in the definition."""
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True, default=str).encode()).hexdigest()
        return f"{self.entry}-{digest[:12]}"

    def stored(self) -> dict[str, Any]:
        """The JSON form kept in the study's user attributes."""
        return json.loads(json.dumps(asdict(self), default=str))


@dataclass(frozen=True)
class OpenedStudy:
    study: optuna.Study
    created: bool
    """Whether this process created it (and so opens its parent run)."""


def open_study(
    storage: BaseStorage, name: str, definition: StudyDefinition, seed: int, startup_trials: int, warmup_steps: int
) -> OpenedStudy:
    """Create the study, or load it when it exists (another process, or an earlier attempt, made it).

    Raises:
        RunConflict: a study of that name exists with another definition (`-P study=NAME` reused).
    """
    sampler = TrialSeededTPESampler(seed)
    pruner = MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=warmup_steps)
    try:
        study = optuna.create_study(
            storage=storage, study_name=name, direction=definition.direction, sampler=sampler, pruner=pruner
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        return OpenedStudy(study, created=False)
    study.set_user_attr(DEFINITION_ATTR, definition.stored())
    return OpenedStudy(study, created=True)


def check_definition(study: optuna.Study, definition: StudyDefinition) -> None:
    """A loaded study must optimise what this sweep asks for; the message names the first difference."""
    stored = study.user_attrs.get(DEFINITION_ATTR)
    if stored is None:  # its creator died before writing it: this sweep defines it
        study.set_user_attr(DEFINITION_ATTR, definition.stored())
        return
    wanted = definition.stored()
    for field in ("entry", "metric", "direction", "space"):
        if stored[field] != wanted[field]:
            raise RunConflict(_conflict(study.study_name, field, stored[field], wanted[field]))
    for key in sorted(set(stored["config"]) | set(wanted["config"])):
        if stored["config"].get(key) != wanted["config"].get(key):
            raise RunConflict(_conflict(study.study_name, key, stored["config"].get(key), wanted["config"].get(key)))


def wait_for_parent(study: optuna.Study, timeout_s: float = PARENT_WAIT_S) -> str:
    """The parent run id its creator records; "" when none appears within `timeout_s` (the creator died)."""
    deadline = time.monotonic() + timeout_s
    while True:
        parent = study.user_attrs.get(PARENT_ATTR)  # read from the storage on every call
        if parent or time.monotonic() > deadline:
            return parent or ""
        time.sleep(0.5)


def trial_counts(study: optuna.Study) -> tuple[int, int]:
    """(trials COMPLETE or PRUNED, trials RUNNING or WAITING)."""
    trials = study.get_trials(deepcopy=False)
    done = sum(t.state in DONE for t in trials)
    return done, sum(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials)


def fail_dead_trials(study: optuna.Study, run_is_live: Callable[[str], bool]) -> list[int]:
    """Mark FAIL every RUNNING trial whose process died; returns their numbers.

    A trial whose MLflow run is known is dead as soon as that run is (`radiodiff runs`' rule: at once on this host,
    after two missed heartbeats elsewhere); one killed before its run started is failed by Optuna's own heartbeat
    after its grace period.
    """
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        run_id = trial.user_attrs.get(RUN_ATTR)
        if run_id and not run_is_live(run_id):
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
            failed.append(trial.number)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        fail_stale_trials(study)
    return failed


def _conflict(name: str, key: str, stored: Any, wanted: Any) -> str:
    return (
        f"study {name!r} was created with {key} = {stored!r}, not {wanted!r}: drop -P study to start a study of "
        "these settings, or sweep with the study's own"
    )
