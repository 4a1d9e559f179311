"""The `main` pipeline: generate_data -> train_vae -> train_ldm -> evaluate, as child runs of one parent run.

A step whose finished run with the same config sections exists in the experiment is reused, not run again
(the parent run records which run it reused under the tag `radiodiff.step.<name>`).
"""

from __future__ import annotations

from radiodiff.config import Config
from radiodiff.data.generated import default_data_dir
from radiodiff.errors import NotBuiltYet
from radiodiff.tracking import find_finished_run, start_run

DATA_SECTIONS = ("generator",)
VAE_SECTIONS = ("generator", "data", "vae", "vae_loss", "vae_train")


def run_main(config: Config) -> str:
    """Run (or reuse) every step; returns the parent run id."""
    from radiodiff.jobs.generate_data import generate_data
    from radiodiff.jobs.train_vae import train_vae

    with start_run("main", config, run_name="main") as parent:
        if not config.data.data_dir:
            data_run = find_finished_run("generate_data", config, DATA_SECTIONS)
            if data_run is None or not default_data_dir(config.generator).is_dir():
                generate_data(config, nested=True)
                data_run = find_finished_run("generate_data", config, DATA_SECTIONS)
            parent.set_tags({"radiodiff.step.generate_data": data_run})
        vae_run = find_finished_run("train_vae", config, VAE_SECTIONS) or train_vae(config, nested=True)
        parent.set_tags({"radiodiff.step.train_vae": vae_run})
        raise NotBuiltYet(
            f"main: generate_data and train_vae are done (train_vae run {vae_run}); "
            "train_ldm is not built yet (issue #4), so the pipeline stops here"
        )
