"""A validation callback that stops training (a sweep's pruner): the run ends KILLED with its reason, its last
checkpoint stays whole and resumes; real sqlite MLflow store."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from training_helpers import PROJECT_ROOT, SWEEP_VAE, history, runs_by_start

from radiodiff.config import load
from radiodiff.errors import TrainingStopped
from radiodiff.jobs.train_vae import train_vae
from radiodiff.paths import run_dir
from radiodiff.training.checkpoint import verify_checkpoint


def test_callback_stops_training_and_the_run_resumes(home: Path) -> None:
    config = load(PROJECT_ROOT / "configs/default.yaml", f"{SWEEP_VAE} vae_train.checkpoint_every=2")
    seen: list[tuple[int, dict[str, float]]] = []

    def stop_at_4(step: int, scores: dict[str, float]) -> None:
        seen.append((step, scores))
        if step == 4:
            raise TrainingStopped("stopped by the test at step 4")

    with pytest.raises(TrainingStopped, match="step 4"):
        train_vae(config, register=False, on_validation=stop_at_4)

    assert [step for step, _ in seen] == [0, 2, 4]
    assert {"rmse", "ssim", "psnr", "nmse", "mae"} <= set(seen[0][1])
    client = MlflowClient()
    (run,) = runs_by_start(client)
    assert run.info.status == "KILLED"
    assert run.data.tags["radiodiff.stopped"] == "stopped by the test at step 4"
    assert [s for s, _ in history(client, run.info.run_id, "val/rmse")] == [0, 2, 4]
    assert [v for _, v in history(client, run.info.run_id, "val/rmse")][-1] == pytest.approx(seen[-1][1]["rmse"])
    # the stop came before step 4's checkpoint: the last one is step 2's, whole
    assert verify_checkpoint(run_dir(run.info.run_id) / "checkpoints" / "last").step == 2

    assert train_vae(config, resume=run.info.run_id, register=False) == run.info.run_id
    resumed = client.get_run(run.info.run_id)
    assert resumed.info.status == "FINISHED"
    assert [s for s, _ in history(client, run.info.run_id, "val/rmse")] == [0, 2, 4, 6, 8]
