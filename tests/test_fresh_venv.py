"""A registered model is self-contained: a fresh virtual environment with only the model's own requirements
(no `pip install -e .`, the repository out of reach) loads `models:/radiodiff@champion` and predicts, and so does
the RadioUNet baseline's `models:/radiounet@champion` (the same requirements)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from serving_helpers import tiny_champion_store

CHAMPION = "models:/radiodiff@champion"
RADIOUNET_CHAMPION = "models:/radiounet@champion"
LOAD_AND_PREDICT = """
import importlib.util, mlflow, numpy as np, sys
assert importlib.util.find_spec("radiodiff") is None, "radiodiff must come from the model, not be installed"
model = mlflow.pyfunc.load_model(sys.argv[1])
b = np.zeros((1, 32, 32), np.float32); b[0, 4:12, 6:14] = 1
t = np.zeros((1, 32, 32), np.float32); t[0, 20, 20] = 1
out = model.predict({"buildings": b, "tx": t}, params={"steps": 2, "seed": 0})
assert out.shape == (1, 32, 32) and 0 <= out.min() <= out.max() <= 1
print("PREDICTED", out.shape)
"""


@pytest.mark.slow
def test_the_champion_predicts_in_a_venv_with_only_its_requirements(tmp_path: Path) -> None:
    store = tiny_champion_store(tmp_path, radiounet=True)
    mlflow.set_tracking_uri(store["MLFLOW_TRACKING_URI"])
    try:
        requirements = mlflow.pyfunc.get_model_dependencies(CHAMPION)
        radiounet_requirements = mlflow.pyfunc.get_model_dependencies(RADIOUNET_CHAMPION)
    finally:
        mlflow.set_tracking_uri(None)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", requirements], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"  # not the repository: nothing of radiodiff on sys.path but the model's code
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "RADIODIFF_HOME")}
    env["MLFLOW_TRACKING_URI"] = store["MLFLOW_TRACKING_URI"]
    assert Path(radiounet_requirements).read_text() == Path(requirements).read_text()
    for model in (CHAMPION, RADIOUNET_CHAMPION):
        command = [str(python), "-c", LOAD_AND_PREDICT, model]
        done = subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "PREDICTED (1, 32, 32)" in done.stdout, model
        assert "Warning" not in done.stderr, done.stderr[-3000:]
