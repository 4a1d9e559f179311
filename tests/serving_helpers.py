"""A real `mlflow models serve` process on loopback, requests to it, and concurrent clients (tests, bench)."""

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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

START_TIMEOUT_S = 180


def tiny_champion_store(home: Path, radiounet: bool = False) -> dict[str, str]:
    """A sqlite store in `home` whose `radiodiff` model has a champion: a tiny LDM trained for 3 steps (with
    `radiounet`, also a `radiounet` champion: a tiny RadioUNet trained for 3 steps).

    Returns:
        MLFLOW_TRACKING_URI and RADIODIFF_HOME for the processes that use it, and "home".
    """
    import mlflow
    from mlflow.tracking import MlflowClient
    from training_helpers import PROJECT_ROOT, TINY_LDM, TINY_UNET, write_vae_package

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
        if radiounet:
            from radiodiff.jobs.train_unet import train_unet

            run_id = train_unet(load(PROJECT_ROOT / "configs/default.yaml", f"{TINY_UNET} unet_train.steps=3"))
            model_uri = MlflowClient().get_run(run_id).data.tags["radiodiff.model_uri"]
            promote_if_better("radiounet", register_version(model_uri, {"test/rmse": 0.3}, "radiounet").version)
        mlflow.set_tracking_uri(None)
    return {**env, "home": str(home)}


@contextmanager
def served_model(model_uri: str, env: dict[str, str], cwd: Path, workers: int = 1) -> Iterator[int]:
    """`mlflow models serve -m MODEL_URI --env-manager local --workers N` on a free loopback port; yields the port.

    The server's output goes to `serve-PORT.log` in `cwd` (a pipe nobody reads would block a busy server).
    """
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
               "-h", "127.0.0.1", "-p", str(port), "--workers", str(workers)]  # fmt: skip
    log = Path(cwd, f"serve-{port}.log")
    with log.open("wb") as out:
        server = subprocess.Popen(command, env={**os.environ, **env}, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(port, server, log)
        yield port
        if server.poll() is not None:
            raise AssertionError(f"server died: {log.read_text()[-3000:]}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    raise AssertionError(f"server did not answer /ping within {START_TIMEOUT_S} s")


def post(port: int, payload: dict | bytes) -> tuple[int, str]:
    """POST a JSON request (a dict, or raw bytes sent as they are) to /invocations; returns (status, body)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=payload if isinstance(payload, bytes) else json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@dataclass(frozen=True)
class Answer:
    """One request of a load run: which request it was, the HTTP status, the body and the latency."""

    index: int
    kind: str
    status: int
    body: str
    seconds: float


def run_clients(port: int, requests: list[tuple[str, dict | bytes]], clients: int) -> list[Answer]:
    """Send `requests` ((kind, payload) each) from `clients` concurrent threads; returns the answers in order."""

    def send(index: int) -> Answer:
        kind, payload = requests[index]
        start = time.perf_counter()
        status, body = post(port, payload)
        return Answer(index, kind, status, body, time.perf_counter() - start)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(send, range(len(requests))))


MALFORMED = ("wrong shape", "NaN", "missing input", "not JSON")
"""The malformed requests of a load run, in turn."""


def scene(batch: int = 2, size: int = 32) -> dict[str, np.ndarray]:
    """The inputs of a good request: `batch` scenes of one building block and a transmitter."""
    buildings = np.zeros((batch, size, size), np.float32)
    buildings[:, 4:12, 6:14] = 1.0
    tx = np.zeros((batch, size, size), np.float32)
    tx[:, 20, 20] = 1.0
    return {"buildings": buildings, "tx": tx}


def mixed_requests(count: int, inputs: dict[str, np.ndarray], steps: int, seeds: int) -> list[tuple[str, dict | bytes]]:
    """`count` requests, every fourth malformed (`MALFORMED` in turn), the good ones with seeds 0..`seeds`-1 in turn.

    Returns:
        (kind, payload) per request: kind "good" (payload["params"]["seed"] is its seed) or a `MALFORMED` name.
    """
    good = {name: values.tolist() for name, values in inputs.items()}
    first = next(iter(inputs))
    malformed = {
        "wrong shape": {"inputs": {**good, first: inputs[first][0].tolist()}},
        "NaN": {"inputs": {**good, first: np.full_like(inputs[first], np.nan).tolist()}},
        "missing input": {"inputs": {first: good[first]}},
        "not JSON": b"{'inputs': not json",
    }
    requests = []
    for index in range(count):
        if index % 4 == 3:
            kind = MALFORMED[(index // 4) % len(MALFORMED)]
            requests.append((kind, malformed[kind]))
        else:
            requests.append(("good", {"inputs": good, "params": {"steps": steps, "seed": index % seeds}}))
    return requests
