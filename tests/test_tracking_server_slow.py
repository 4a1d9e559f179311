"""The whole pipeline (`mlflow run . -e main`) against a real `radiodiff server` on a real PostgreSQL; its runs come
back over plain HTTP and the champion loads and predicts through the server (slow: `pytest -m slow`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from server_helpers import TrackingServer, artifact_paths, metric_steps, runs_of
from training_helpers import TINY_LDM, TINY_VAE, run_mlflow

pytestmark = pytest.mark.slow

# The tiny VAE and LDM of the default suite, with a few more steps: minutes on 2 CPU cores.
OVERRIDES = f"{TINY_VAE} {TINY_LDM} vae_train.steps=40 ldm_train.steps=16"
PREDICT = (
    "import mlflow, numpy as np\n"
    "m = mlflow.pyfunc.load_model('models:/radiodiff@champion')\n"
    "b = np.zeros((1, 32, 32), np.float32); t = np.zeros((1, 32, 32), np.float32); t[0, 16, 16] = 1\n"
    "p = m.predict({'buildings': b, 'tx': t}); print(p.shape, bool(np.isfinite(p).all()))\n"
)


def test_main_through_the_server_and_the_champion_loads_through_it(
    tracking_server: TrackingServer, tmp_path: Path
) -> None:
    done = run_mlflow("main", tmp_path, params={"overrides": OVERRIDES}, env=tracking_server.client_env())
    assert done.returncode == 0, done.stderr[-3000:]

    for entry_point in ("main", "generate_data", "train_vae", "train_ldm", "evaluate"):
        (run,) = runs_of(tracking_server, entry_point)
        assert run["info"]["status"] == "FINISHED", entry_point
    for entry_point, steps_param, steps in (
        ("train_vae", "cfg.vae_train.steps", 40),
        ("train_ldm", "cfg.ldm_train.steps", 16),
    ):
        (run,) = runs_of(tracking_server, entry_point)
        run_id = run["info"]["run_id"]
        assert {p["key"]: p["value"] for p in run["data"]["params"]}[steps_param] == str(steps)
        assert metric_steps(tracking_server, run_id, "train/loss") == list(range(2, steps + 1, 2))
        assert any(p.startswith("images/samples+step+") for p in artifact_paths(tracking_server, run_id, "images"))
    (evaluation,) = runs_of(tracking_server, "evaluate")
    assert "test/rmse" in {m["key"] for m in evaluation["data"]["metrics"]}

    loaded = subprocess.run([sys.executable, "-c", PREDICT], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, **tracking_server.client_env()})  # fmt: skip
    assert loaded.returncode == 0 and "(1, 32, 32) True" in loaded.stdout, loaded.stderr[-2000:]
