"""A real `mlflow models serve` process on loopback, and requests to it (tests only)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

START_TIMEOUT_S = 180


def tiny_champion_store(home: Path) -> dict[str, str]:
    """A sqlite store in `home` whose `radiodiff` model has a champion: a tiny LDM trained for 3 steps.

    Returns:
        MLFLOW_TRACKING_URI and RADIODIFF_HOME for the processes that use it, and "home".
    """
    import mlflow
    from mlflow.tracking import MlflowClient
    from training_helpers import PROJECT_ROOT, TINY_LDM, write_vae_package

    from evaluation.registry import promote_if_better, register_version
    from radiodiff.config import load
    from radiodiff.jobs.train_ldm import train_ldm

    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}", "RADIODIFF_HOME": str(home)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.chdir(home)
        mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
        package = write_vae_package(home / "vae")
        overrides = f"{TINY_LDM} diffusion.vae_uri={package} ldm_train.steps=3"
        run_id = train_ldm(load(PROJECT_ROOT / "configs/default.yaml", overrides))
        model_uri = MlflowClient().get_run(run_id).data.tags["radiodiff.model_uri"]
        version = register_version(model_uri, {"test/rmse": 0.3}, "radiodiff")
        promote_if_better("radiodiff", version.version)
        mlflow.set_tracking_uri(None)
    return {**env, "home": str(home)}


@contextmanager
def served_model(model_uri: str, env: dict[str, str], cwd: Path) -> Iterator[int]:
    """`mlflow models serve -m MODEL_URI --env-manager local` on a free loopback port; yields the port."""
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
               "-h", "127.0.0.1", "-p", str(port), "--workers", "1"]  # fmt: skip
    server = subprocess.Popen(
        command, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_until_up(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, server: subprocess.Popen) -> None:
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


def post(port: int, payload: dict) -> tuple[int, str]:
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
