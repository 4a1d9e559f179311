"""The champion loads in a fresh process and answers over HTTP with `mlflow models serve` (real server, loopback)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from training_helpers import PROJECT_ROOT, TINY_LDM, write_vae_package

from evaluation.registry import promote_if_better, register_version
from radiodiff.config import load
from radiodiff.jobs.train_ldm import train_ldm

CHAMPION = "models:/radiodiff@champion"
START_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def champion_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A sqlite store whose `radiodiff` model has a champion: a tiny LDM trained for 2 steps."""
    home = tmp_path_factory.mktemp("serving")
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}", "RADIODIFF_HOME": str(home)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.chdir(home)
        import mlflow

        mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
        package = write_vae_package(home / "vae")
        config = load(
            PROJECT_ROOT / "configs/default.yaml", f"{TINY_LDM} diffusion.vae_uri={package} ldm_train.steps=3"
        )
        run_id = train_ldm(config)
        model_uri = MlflowClient().get_run(run_id).data.tags["radiodiff.model_uri"]
        version = register_version(model_uri, {"test/rmse": 0.3}, "radiodiff")
        promote_if_better("radiodiff", version.version)
        mlflow.set_tracking_uri(None)
    return {**env, "home": str(home)}


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


def test_mlflow_models_serve_answers_and_rejects_malformed_requests(champion_store: dict[str, str]) -> None:
    port = _free_port()
    env = {**os.environ, **{k: v for k, v in champion_store.items() if k != "home"}}
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", CHAMPION, "--env-manager", "local",
               "-h", "127.0.0.1", "-p", str(port), "--workers", "1"]  # fmt: skip
    server = subprocess.Popen(
        command, env=env, cwd=champion_store["home"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_until_up(port, server)
        buildings, tx = _scene()
        status, body = _post(
            port, {"inputs": {"buildings": buildings.tolist(), "tx": tx.tolist()}, "params": {"steps": 2}}
        )
        assert status == 200, body
        assert np.asarray(json.loads(body)["predictions"]).shape == (2, 32, 32)

        wrong_shape = {"inputs": {"buildings": buildings.tolist(), "tx": tx[:1].tolist()}}
        missing = {"inputs": {"buildings": buildings.tolist()}}
        with_nan = {"inputs": {"buildings": np.full_like(buildings, np.nan).tolist(), "tx": tx.tolist()}}
        for name, request in (("wrong shape", wrong_shape), ("missing input", missing), ("NaN", with_nan)):
            status, body = _post(port, request)
            assert 400 <= status < 500, (name, status, body)
            assert json.loads(body).get("message"), (name, body)

        status, body = _post(port, {"inputs": {"buildings": buildings.tolist(), "tx": tx.tolist()}})
        assert status == 200, "the server must keep answering after bad requests"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited: {server.stdout.read().decode()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    raise AssertionError(f"server did not answer /ping within {START_TIMEOUT_S} s")


def _post(port: int, payload: dict) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_registry_fixture_has_a_champion(champion_store: dict[str, str]) -> None:
    client = MlflowClient(champion_store["MLFLOW_TRACKING_URI"])
    assert str(client.get_model_version_by_alias("radiodiff", "champion").version) == "1"
    assert Path(champion_store["home"], "mlflow.db").is_file()
