"""The `main` pipeline: generate_data -> train_vae -> train_ldm -> evaluate, as child runs of one parent run.

A training step whose newest run with the same config sections in the experiment has finished is reused, not run
again; one whose run died (RUNNING with a stale heartbeat, see `tracking.heartbeat.is_dead`) is resumed from its
checkpoint; one whose run is still alive stops the pipeline (the same thing is not trained twice at once). The
parent run records the run of every step under the tag `radiodiff.step.<name>`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from radiodiff.config import Config, dump
from radiodiff.data.generated import default_data_dir
from radiodiff.errors import RunConflict
from radiodiff.launch import launch
from radiodiff.tracking import (
    RunTracker,
    create_child_run,
    find_finished_run,
    find_prior_run,
    find_run_with_params,
    run_tag,
    start_run,
)

DATA_SECTIONS = ("generator", "data")
"""The generate_data step's sections: the generator's, and of `data` only `data.layout` (`_data_step_ignore`)."""
VAE_SECTIONS = ("generator", "data", "vae", "vae_loss", "vae_train")
LDM_SECTIONS = (*VAE_SECTIONS, "ldm", "diffusion", "ldm_train")


def run_main(config: Config, processes: int = 1) -> str:
    """Run (or reuse) every step; returns the parent run id.

    Args:
        config: the pipeline's config.
        processes: data-parallel processes of each training step; above 1 every training step is launched as its
            own job on that many processes (a child run that it enters), the other steps run in this process.
    """
    with start_run("main", config, run_name="main") as parent:
        if not config.data.data_dir:
            _generate_data(config, parent)
        vae_run = _step(parent, "train_vae", config, VAE_SECTIONS, processes)
        config = config.with_overrides({"diffusion.vae_uri": run_tag(vae_run, "radiodiff.vae_uri")})
        ldm_run = _step(parent, "train_ldm", config, LDM_SECTIONS, processes)
        _evaluate(parent, config, run_tag(ldm_run, "radiodiff.model_uri"))
        return parent.run_id


def _evaluate(parent: RunTracker, config: Config, model_uri: str) -> None:
    """Score the LDM's model on the test split and register it (champion only if better), once per model."""
    from evaluation.evaluate import evaluate

    run_id = find_run_with_params("evaluate", {"model_uri": model_uri, "split": "test"})
    if run_id is None:
        run_id = evaluate(config, model_uri, split="test", register=True, nested=True)
    parent.set_tags({"radiodiff.step.evaluate": run_id})


def _generate_data(config: Config, parent: RunTracker) -> None:
    from radiodiff.jobs.generate_data import generate_data

    ignore = _data_step_ignore(config)
    run_id = find_finished_run("generate_data", config, DATA_SECTIONS, ignore)
    if run_id is None or not default_data_dir(config.generator, config.data.layout).is_dir():
        generate_data(config, nested=True)
        run_id = find_finished_run("generate_data", config, DATA_SECTIONS, ignore)
    parent.set_tags({"radiodiff.step.generate_data": run_id})


def _data_step_ignore(config: Config) -> tuple[str, ...]:
    """The `data.*` keys other than `data.layout`: the layout picks which data set is written (an outdoor run is
    not the indoor set's step), the rest of `data` does not change it."""
    return tuple(key for key in config.flat() if key.startswith("data.") and key != "data.layout")


def _step(parent: RunTracker, name: str, config: Config, sections: tuple[str, ...], processes: int) -> str:
    from radiodiff.jobs.common import find_checkpoint
    from radiodiff.jobs.train_ldm import train_ldm
    from radiodiff.jobs.train_vae import train_vae

    derived = ("diffusion.scale_factor",) if config.diffusion.scale_factor == 0 else ()  # estimated by train_ldm
    prior = find_prior_run(name, config, sections, ignore=derived)
    if prior is not None and prior.state == "live":
        raise RunConflict(
            f"{name}: run {prior.run_id} with the same config is still running (heartbeat "
            f"{prior.heartbeat_age_s:.0f} s ago); wait for it, or stop it and run main again to resume it"
        )
    if prior is not None and prior.state == "finished":
        run_id = prior.run_id
    else:
        resume = prior.run_id if prior is not None and find_checkpoint(prior.run_id) is not None else ""
        if processes > 1:
            run_id = _launch_step(parent, name, config, resume, processes)
        else:
            run_id = {"train_vae": train_vae, "train_ldm": train_ldm}[name](config, resume=resume, nested=True)
    parent.set_tags({f"radiodiff.step.{name}": run_id})
    return run_id


def _launch_step(parent: RunTracker, name: str, config: Config, resume: str, processes: int) -> str:
    """A training step as its own job on `processes` processes, in a child run of `parent` (or resuming one)."""
    with tempfile.TemporaryDirectory() as folder:
        config_file = Path(folder) / "config.yaml"
        config_file.write_text(dump(config))
        argv = [name, "--config", str(config_file)] + (["--resume", resume] if resume else [])
        run_id = resume or create_child_run(parent.run_id, name)
        status = launch(processes, argv, env={} if resume else {"MLFLOW_RUN_ID": run_id})
    if status != 0:
        raise RunConflict(f"{name} on {processes} processes (run {run_id}) failed with exit status {status}")
    return run_id
