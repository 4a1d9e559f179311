"""The `main` pipeline: generate_data -> train_vae -> train_ldm -> evaluate, as child runs of one parent run.

A step whose finished run with the same config sections exists in the experiment is reused, not run again
(the parent run records the run of every step under the tag `radiodiff.step.<name>`).
"""

from __future__ import annotations

from radiodiff.config import Config
from radiodiff.data.generated import default_data_dir
from radiodiff.tracking import RunTracker, find_finished_run, find_run_with_params, run_tag, start_run

DATA_SECTIONS = ("generator",)
VAE_SECTIONS = ("generator", "data", "vae", "vae_loss", "vae_train")
LDM_SECTIONS = (*VAE_SECTIONS, "ldm", "diffusion", "ldm_train")


def run_main(config: Config) -> str:
    """Run (or reuse) every step; returns the parent run id."""
    with start_run("main", config, run_name="main") as parent:
        if not config.data.data_dir:
            _generate_data(config, parent)
        vae_run = _step(parent, "train_vae", config, VAE_SECTIONS)
        config = config.with_overrides({"diffusion.vae_uri": run_tag(vae_run, "radiodiff.vae_uri")})
        ldm_run = _step(parent, "train_ldm", config, LDM_SECTIONS)
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

    run_id = find_finished_run("generate_data", config, DATA_SECTIONS)
    if run_id is None or not default_data_dir(config.generator).is_dir():
        generate_data(config, nested=True)
        run_id = find_finished_run("generate_data", config, DATA_SECTIONS)
    parent.set_tags({"radiodiff.step.generate_data": run_id})


def _step(parent: RunTracker, name: str, config: Config, sections: tuple[str, ...]) -> str:
    from radiodiff.jobs.train_ldm import train_ldm
    from radiodiff.jobs.train_vae import train_vae

    derived = ("diffusion.scale_factor",) if config.diffusion.scale_factor == 0 else ()  # estimated by train_ldm
    run_id = find_finished_run(name, config, sections, ignore=derived)
    if run_id is None:
        run_id = {"train_vae": train_vae, "train_ldm": train_ldm}[name](config, nested=True)
    parent.set_tags({f"radiodiff.step.{name}": run_id})
    return run_id
