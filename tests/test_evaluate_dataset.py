"""`evaluate` records the data it scored as its run's dataset input, under the training runs' name and digest."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient
from training_helpers import PROJECT_ROOT, TINY_LDM, write_vae_package

from evaluation.evaluate import evaluate
from radiodiff.config import load
from radiodiff.jobs.train_ldm import train_ldm


def test_evaluate_logs_the_scored_data_as_the_training_run_did(home: Path) -> None:
    package = write_vae_package(home / "vae")
    config = load(PROJECT_ROOT / "configs/default.yaml", f"{TINY_LDM} diffusion.vae_uri={package} ldm_train.steps=2")
    client = MlflowClient()
    trained = client.get_run(train_ldm(config))
    evaluated = client.get_run(evaluate(config, trained.data.tags["radiodiff.model_uri"], split="val"))

    (training,) = trained.inputs.dataset_inputs
    (scored,) = evaluated.inputs.dataset_inputs
    assert {t.key: t.value for t in scored.tags}["mlflow.data.context"] == "evaluation"
    assert (scored.dataset.name, scored.dataset.digest, scored.dataset.source) == (
        training.dataset.name,
        training.dataset.digest,
        training.dataset.source,
    )
