"""The champion loads in a fresh process and answers over HTTP with `mlflow models serve` (real server, loopback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from serving_helpers import post, served_model, tiny_champion_store

CHAMPION = "models:/radiodiff@champion"


@pytest.fixture(scope="module")
def champion_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A sqlite store whose `radiodiff` model has a champion: a tiny LDM trained for 3 steps."""
    return tiny_champion_store(tmp_path_factory.mktemp("serving"))


def _scene(batch: int = 2, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    buildings = np.zeros((batch, size, size), np.float32)
    buildings[:, 4:12, 6:14] = 1.0
    tx = np.zeros((batch, size, size), np.float32)
    tx[:, 20, 20] = 1.0
    return buildings, tx


def test_champion_loads_and_predicts_in_a_new_process(champion_store: dict[str, str]) -> None:
    script = (
        "import mlflow, numpy as np\n"
        f"model = mlflow.pyfunc.load_model({CHAMPION!r})\n"
        "b = np.zeros((2, 32, 32), np.float32); b[:, 4:12, 6:14] = 1\n"
        "t = np.zeros((2, 32, 32), np.float32); t[:, 20, 20] = 1\n"
        "out = model.predict({'buildings': b, 'tx': t}, params={'steps': 2, 'seed': 3})\n"
        "assert out.shape == (2, 32, 32) and out.dtype == np.float32 and 0 <= out.min() <= out.max() <= 1\n"
        "print('OK', out.shape)\n"
    )
    env = {**os.environ, **{k: v for k, v in champion_store.items() if k != "home"}}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=champion_store["home"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "OK (2, 32, 32)" in done.stdout
    assert "Warning" not in done.stderr, done.stderr[-3000:]  # loading prints nothing a user cannot act on


def test_mlflow_models_serve_answers_and_rejects_malformed_requests(champion_store: dict[str, str]) -> None:
    env = {k: v for k, v in champion_store.items() if k != "home"}
    with served_model(CHAMPION, env, Path(champion_store["home"])) as port:
        buildings, tx = _scene()
        status, body = post(
            port, {"inputs": {"buildings": buildings.tolist(), "tx": tx.tolist()}, "params": {"steps": 2}}
        )
        assert status == 200, body
        assert np.asarray(json.loads(body)["predictions"]).shape == (2, 32, 32)

        wrong_shape = {"inputs": {"buildings": buildings.tolist(), "tx": tx[:1].tolist()}}
        missing = {"inputs": {"buildings": buildings.tolist()}}
        with_nan = {"inputs": {"buildings": np.full_like(buildings, np.nan).tolist(), "tx": tx.tolist()}}
        for name, request in (("wrong shape", wrong_shape), ("missing input", missing), ("NaN", with_nan)):
            status, body = post(port, request)
            assert 400 <= status < 500, (name, status, body)
            assert json.loads(body).get("message"), (name, body)

        status, body = post(port, {"inputs": {"buildings": buildings.tolist(), "tx": tx.tolist()}})
        assert status == 200, "the server must keep answering after bad requests"


def test_registry_fixture_has_a_champion(champion_store: dict[str, str]) -> None:
    client = MlflowClient(champion_store["MLFLOW_TRACKING_URI"])
    assert str(client.get_model_version_by_alias("radiodiff", "champion").version) == "1"
    assert Path(champion_store["home"], "mlflow.db").is_file()
