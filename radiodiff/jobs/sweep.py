"""The `sweep` job: an Optuna study over config keys, each trial a nested run of a training entry point under one
parent run, pruned on its validation scores; resumable and parallel-safe through the study's storage.

Every launch with the same settings works on the same study and the same parent run: it fails the trials whose
process died (their runs end KILLED), then runs trials until `trials` of them are COMPLETE or PRUNED in the
whole study, waits for the ones other processes are still running, and records the best trial on the parent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import optuna
from optuna.trial import FrozenTrial, TrialState

from evaluation.registry import HIGHER_IS_BETTER
from radiodiff.config import Config, ConfigError
from radiodiff.paths import run_dir
from radiodiff.sweep.best import BestTrial, overrides_text, typed_overrides, write_best_files
from radiodiff.sweep.objective import Objective, TrainFunction
from radiodiff.sweep.settings import SweepSettings
from radiodiff.sweep.space import SearchSpace, parse_space
from radiodiff.sweep.storage import check_not_tracking_store, default_storage, open_storage, shown
from radiodiff.sweep.study import (
    PARENT_ATTR,
    RUN_ATTR,
    OpenedStudy,
    StudyDefinition,
    check_definition,
    fail_dead_trials,
    open_study,
    trial_counts,
    wait_for_parent,
)
from radiodiff.tracking import RunTracker, start_run
from radiodiff.tracking.heartbeat import DEAD_AFTER_INTERVALS
from radiodiff.tracking.sweep_runs import (
    STUDY_TAG,
    SweepTrialRuns,
    adopt_launcher_run,
    check_parent_run,
    end_dead_children,
    run_is_live,
    run_params,
    tracking_uri,
)
from radiodiff.training.trainer import ValidationCallback

WAIT_POLL_S = 2.0  # while the study's last trials run in other processes


def run_sweep(config: Config, settings: SweepSettings) -> str:
    """Sweep (or continue sweeping) a study; returns the parent run id.

    Args:
        config: the base config of every trial (the config file, overrides, data_dir and vae).
        settings: the search space, the entry point, the number of trials, the metric, the study and its storage.
    Raises:
        ConfigError: bad settings or search space (one line, before anything runs).
        RunConflict: `settings.study` names a study of other settings, or one whose parent run is elsewhere.
    """
    space = parse_space(settings.space, config)
    train = _training(settings.entry, config)
    storage_uri = settings.storage or default_storage()
    check_not_tracking_store(storage_uri, tracking_uri())
    maximize = (settings.direction or _default_direction(settings.metric_name)) == "maximize"
    direction = "maximize" if maximize else "minimize"
    definition = StudyDefinition(settings.entry, settings.metric, direction, space.text(), config.flat())
    name = settings.study or definition.default_name()
    beat = max(1, round(config.tracking.heartbeat_s))
    storage = open_storage(storage_uri, heartbeat_s=beat, grace_s=DEAD_AFTER_INTERVALS * beat)
    opened = open_study(
        storage, name, definition, settings.seed, settings.pruner_startup_trials, settings.pruner_warmup_steps
    )
    parent_id = _parent_run(opened, definition)
    with start_run("sweep", config, run_name=f"sweep {name}", run_id=parent_id or None) as parent:
        if not parent_id:
            opened.study.set_user_attr(PARENT_ATTR, parent.run_id)
        _record_launch(parent, settings, storage_uri, name, space, direction)
        objective = Objective(space, config, train, settings.metric_name, maximize, SweepTrialRuns(name))
        _optimise(opened.study, objective, parent, settings.trials)
        _conclude(opened.study, space, config, parent, settings)
        return parent.run_id


def _training(entry: str, config: Config) -> TrainFunction:
    """The trial's training: the entry point's job in a nested run (no model registered for a trial)."""
    if entry not in TRAINING_ENTRIES:
        raise ConfigError(f"entry = {entry!r}: a sweep trains one of {', '.join(TRAINING_ENTRIES)}")
    if entry == "train_ldm" and not config.diffusion.vae_uri:
        raise ConfigError("a train_ldm sweep needs a trained VAE: pass -P vae=models:/radiodiff-vae/<version>")
    return TRAINING_ENTRIES[entry]


def _train_vae(config: Config, on_validation: ValidationCallback) -> str:
    from radiodiff.jobs.train_vae import train_vae

    return train_vae(config, nested=True, register=False, on_validation=on_validation)


def _train_ldm(config: Config, on_validation: ValidationCallback) -> str:
    from radiodiff.jobs.train_ldm import train_ldm

    return train_ldm(config, nested=True, on_validation=on_validation)


def _train_unet(config: Config, on_validation: ValidationCallback) -> str:
    from radiodiff.jobs.train_unet import train_unet

    return train_unet(config, nested=True, on_validation=on_validation)


TRAINING_ENTRIES: dict[str, TrainFunction] = {
    "train_vae": _train_vae,
    "train_ldm": _train_ldm,
    "train_unet": _train_unet,
}
"""The entry points a sweep's trials can run."""


def _default_direction(metric: str) -> str:
    return "maximize" if metric in HIGHER_IS_BETTER else "minimize"


def _parent_run(opened: OpenedStudy, definition: StudyDefinition) -> str:
    """The study's parent run to re-enter; "" when this launch opens it (it created the study, or the process that
    did died before opening one)."""
    if opened.created:
        return ""
    study = opened.study
    parent = wait_for_parent(study)
    check_definition(study, definition)
    if not parent:
        return ""
    check_parent_run(parent, study.study_name)
    adopted = adopt_launcher_run(parent, study.study_name)
    launch = f"; this launch's run {adopted} ends as its child" if adopted else ""
    print(f"radiodiff sweep: continuing study {study.study_name!r} in its parent run {parent}{launch}")
    return parent


def _record_launch(
    parent: RunTracker, settings: SweepSettings, storage: str, name: str, space: SearchSpace, direction: str
) -> None:
    """What defines the study as params `sweep.*` (resolved: `mlflow run` itself logs its -P values under the bare
    names); this launch's settings (which may change between launches) as tags."""
    defining = {"study": name, "storage": shown(storage), "space": space.text(), "entry": settings.entry}
    defining |= {"metric": settings.metric, "direction": direction}
    parent.log_params({f"sweep.{key}": value for key, value in defining.items()})
    pruner = f"median(startup_trials={settings.pruner_startup_trials}, warmup_steps={settings.pruner_warmup_steps})"
    parent.set_tags(
        {STUDY_TAG: name, "radiodiff.sweep.trials": settings.trials, "radiodiff.sweep.seed": settings.seed}
        | {"radiodiff.sweep.pruner": pruner}
    )


def _optimise(study: optuna.Study, objective: Objective, parent: RunTracker, trials: int) -> None:
    """Run trials until `trials` are COMPLETE or PRUNED in the whole study (other processes' included)."""
    waiting = False
    while True:
        for run_id in end_dead_children(parent.run_id):
            print(f"radiodiff sweep: run {run_id} of a trial whose process died ends KILLED")
        for number in fail_dead_trials(study, run_is_live):
            print(f"radiodiff sweep: trial {number} of study {study.study_name!r} lost its process: FAIL")
        done, running = trial_counts(study)
        if done >= trials:
            return
        if done + running >= trials:  # the last trials run in other processes
            if not waiting:
                print(f"radiodiff sweep: {done} of {trials} trials done; waiting for {running} running elsewhere")
            waiting = True
            time.sleep(WAIT_POLL_S)
            continue
        study.optimize(objective, n_trials=1, callbacks=[_on_parent(parent)])


def _on_parent(parent: RunTracker) -> Callable[[optuna.Study, FrozenTrial], None]:
    """After each trial of this process: its objective and the study's best so far, at step = trial number."""

    def record(study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.state == TrialState.COMPLETE:
            parent.log_metrics({"sweep/objective": trial.value, "sweep/best": study.best_value}, step=trial.number)

    return record


def _conclude(
    study: optuna.Study, space: SearchSpace, base: Config, parent: RunTracker, settings: SweepSettings
) -> None:
    """The best trial on the parent run: params `best.<key>` (and `best.trial`), tags, metric `sweep/best`, and
    the files `sweep/best_overrides.yaml` and `sweep/best_config.yaml` (artifacts and local copies)."""
    trials = study.get_trials(deepcopy=False)
    count = {state: sum(t.state == state for t in trials) for state in TrialState}
    summary = (
        f"{count[TrialState.COMPLETE]} complete, {count[TrialState.PRUNED]} pruned, {count[TrialState.FAIL]} failed"
    )
    if not count[TrialState.COMPLETE]:
        print(f"radiodiff sweep: study {study.study_name!r}: {summary}; no trial completed, no best to record")
        return
    top = study.best_trial
    overrides = typed_overrides(base, space.overrides_of(top.params))
    run_id = top.user_attrs.get(RUN_ATTR, "")
    best = BestTrial(study.study_name, top.number, settings.metric, top.value, run_id, overrides)
    _record_best(parent, best, len(trials))
    overrides_file, config_file = write_best_files(run_dir(parent.run_id) / "sweep", best, base, settings.entry)
    for path in (overrides_file, config_file):
        parent.log_text(path.read_text(), f"sweep/{path.name}")
    print(
        f"radiodiff sweep: study {study.study_name!r} (run {parent.run_id}): {summary}; best trial {best.number}: "
        f"{best.metric} = {best.value:.6g} (run {best.run_id})"
    )
    print(
        f"radiodiff sweep: best overrides: {overrides_file} (--config {overrides_file}, or on the sweep's config: "
        f'--overrides "{overrides_text(best.overrides)}"); whole config: {config_file}'
    )


def _record_best(parent: RunTracker, best: BestTrial, step: int) -> None:
    """Params `best.*` once (MLflow keeps a param's first value: a later, better trial of an extended study goes
    into the tags, which always hold the current best), tags `radiodiff.sweep.best_*`, metric `sweep/best`."""
    parent.flush()  # the sweep/best points logged so far are in the store
    held = run_params(parent.run_id).get("best.trial")
    if held is None or held == str(best.number):
        parent.log_params({f"best.{k}": v for k, v in best.overrides.items()} | {"best.trial": best.number})
    else:
        print(
            f"radiodiff sweep: the params best.* keep trial {held}'s values (params never change); the tags "
            f"radiodiff.sweep.best.* and sweep/best_overrides.yaml hold the new best, trial {best.number}"
        )
    tags = {f"radiodiff.sweep.best.{k}": v for k, v in best.overrides.items()}
    parent.set_tags(tags | {"radiodiff.sweep.best_trial": best.number, "radiodiff.sweep.best_run": best.run_id})
    if step not in parent.logged_steps(["sweep/best"])["sweep/best"]:
        parent.log_metrics({"sweep/best": best.value}, step=step)
