"""The champion loads in a fresh process and answers over HTTP with `mlflow models serve --workers 2` (real server,
loopback): malformed requests get a 400 of one line, concurrent clients never a 5xx, good answers equal in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from serving_helpers import mixed_requests, post, run_clients, scene, served_model, tiny_champion_store

CHAMPION = "models:/radiodiff@champion"


@pytest.fixture(scope="module")
def champion_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A sqlite store whose `radiodiff` model has a champion: a tiny LDM trained for 3 steps."""
    return tiny_champion_store(tmp_path_factory.mktemp("serving"))


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


@pytest.fixture(scope="module")
def in_process(champion_store: dict[str, str]) -> mlflow.pyfunc.PyFuncModel:
    """The champion loaded in this process, as a user of `mlflow.pyfunc.load_model` has it."""
    mlflow.set_tracking_uri(champion_store["MLFLOW_TRACKING_URI"])
    try:
        return mlflow.pyfunc.load_model(CHAMPION)
    finally:
        mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def port(champion_store: dict[str, str]) -> Iterator[int]:
    """The champion served by `mlflow models serve --workers 2` (the fixture fails if the server died meanwhile)."""
    env = {k: v for k, v in champion_store.items() if k != "home"}
    with served_model(CHAMPION, env, Path(champion_store["home"]), workers=2) as served:
        yield served


GOOD = {name: values.tolist() for name, values in scene().items()}
MALFORMED = {  # request -> what the answer's message must start with
    "wrong shape": ({"inputs": {**GOOD, "tx": GOOD["tx"][0]}}, "input 'tx' has shape (32, 32); expected (B, H, W)"),
    "shapes differ": (
        {"inputs": {**GOOD, "tx": GOOD["tx"][:1]}},
        "inputs must share one shape (B, H, W); got buildings (2, 32, 32), tx (1, 32, 32)",
    ),
    "NaN": ({"inputs": {**GOOD, "buildings": np.full((2, 32, 32), np.nan).tolist()}}, "input 'buildings' holds 2048"),
    "inf": ({"inputs": {**GOOD, "tx": np.full((2, 32, 32), np.inf).tolist()}}, "input 'tx' holds 2048 NaN or inf"),
    "missing input": ({"inputs": {"buildings": GOOD["buildings"]}}, "missing input 'tx': a model of the static"),
    "unknown input": ({"inputs": {**GOOD, "cars": GOOD["tx"]}}, "unknown input 'cars': a model of the static"),
    "text values": ({"inputs": {**GOOD, "tx": [[["x"] * 32] * 32] * 2}}, "input 'tx' must hold numbers; got text"),
    "not named": ({"inputs": GOOD["tx"]}, "the model input must map names to arrays (buildings, tx)"),
    "steps too large": ({"inputs": GOOD, "params": {"steps": 10**9}}, "param 'steps' must be an integer in 1..1000"),
    "steps negative": ({"inputs": GOOD, "params": {"steps": -3}}, "param 'steps' must be an integer in 1..1000"),
    "seed out of range": ({"inputs": GOOD, "params": {"seed": -1}}, "param 'seed' must be an integer in 0..4294967295"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_request_is_a_400_whose_message_is_one_line_naming_the_problem(
    case: str, port: int, in_process: mlflow.pyfunc.PyFuncModel
) -> None:
    payload, start = MALFORMED[case]
    status, body = post(port, payload)
    answer = json.loads(body)
    assert status == 400, body
    assert answer["message"].startswith(start), answer["message"]
    assert "\n" not in answer["message"] and len(answer["message"]) < 200, answer["message"]
    assert "stack_trace" not in answer and "array(" not in body, f"the answer repeats the request: {body[:300]}"
    with pytest.raises(MlflowException) as raised:  # the same refusal, word for word, in process
        in_process.predict(payload["inputs"], params=payload.get("params"))
    assert raised.value.message == answer["message"]


MLFLOW_CHECKS = {  # refused by MLflow before the model sees the request: still a 400 naming the problem
    "not JSON": (b"{'inputs': nope", "Ensure that input is a valid JSON formatted string"),
    "empty body": (b"", "Ensure that input is a valid JSON formatted string"),
    "steps not an integer": ({"inputs": GOOD, "params": {"steps": "many"}}, "Invalid parameters found: {('steps'"),
    "seed a float": ({"inputs": GOOD, "params": {"seed": 1.5}}, "Invalid parameters found: {('seed'"),
}


@pytest.mark.parametrize("case", MLFLOW_CHECKS, ids=list(MLFLOW_CHECKS))
def test_requests_mlflow_refuses_itself_are_400s_naming_the_problem(case: str, port: int) -> None:
    payload, words = MLFLOW_CHECKS[case]
    status, body = post(port, payload)
    assert status == 400, body
    assert words in json.loads(body)["message"], body


def test_concurrent_clients_get_no_5xx_and_answers_equal_to_in_process(
    port: int, in_process: mlflow.pyfunc.PyFuncModel
) -> None:
    inputs, seeds = scene(), 4
    expected = [in_process.predict(inputs, params={"steps": 2, "seed": seed}) for seed in range(seeds)]
    requests = mixed_requests(200, inputs, steps=2, seeds=seeds)  # 4 clients x 50, a quarter malformed
    answers = run_clients(port, requests, clients=4)

    assert [a.status for a in answers if a.status >= 500] == []
    assert {a.kind for a in answers if a.status == 400} == {"wrong shape", "NaN", "missing input", "not JSON"}
    assert all(a.status == 200 for a in answers if a.kind == "good")
    assert all(a.status == 400 for a in answers if a.kind != "good")
    for answer in answers:
        if answer.kind == "good":
            served = np.asarray(json.loads(answer.body)["predictions"], np.float32)
            np.testing.assert_array_equal(served, expected[requests[answer.index][1]["params"]["seed"]])
    assert post(port, requests[0][1])[0] == 200, "the server must keep answering after the load"


def test_registry_fixture_has_a_champion(champion_store: dict[str, str]) -> None:
    client = MlflowClient(champion_store["MLFLOW_TRACKING_URI"])
    assert str(client.get_model_version_by_alias("radiodiff", "champion").version) == "1"
    assert Path(champion_store["home"], "mlflow.db").is_file()
