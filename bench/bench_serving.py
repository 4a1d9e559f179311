"""Benchmark of `mlflow models serve` under concurrent clients: latency, throughput, 5xx answers and agreement with
the in-process prediction, for each number of workers.

Run from the project root (about 3 minutes on 2 CPU cores with the defaults):

    python bench/bench_serving.py                     # the test suite's tiny champion, --workers 1 and 2
    python bench/bench_serving.py --model models:/radiodiff@champion --size 256 --steps 5   # your champion

Each run starts a real `mlflow models serve --env-manager local --workers N` on loopback, sends one warm-up request
per worker, then CLIENTS threads send CLIENTS x REQUESTS requests between them, every fourth one malformed (wrong
shape, NaN, missing input, not JSON in turn; tests/serving_helpers.py). Good requests use seeds 0..7 in turn and
each answer is compared with `mlflow.pyfunc.load_model(model).predict` in this process for the same seed. Without
--model, the model is the test suite's tiny champion (a 3-step LDM on 32x32 maps, tests/serving_helpers.py) in a
temporary sqlite store; with --model, MLFLOW_TRACKING_URI says where it is.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the serving helpers of the test suite: one home for the load run

from serving_helpers import Answer, mixed_requests, post, run_clients, scene, served_model  # noqa: E402

SEEDS = 8


def expected_maps(model_uri: str, inputs: dict[str, np.ndarray], steps: int) -> dict[int, np.ndarray]:
    """The in-process prediction for each seed 0..SEEDS-1."""
    import mlflow

    model = mlflow.pyfunc.load_model(model_uri)
    return {seed: model.predict(inputs, params={"steps": steps, "seed": seed}) for seed in range(SEEDS)}


def percentiles(seconds: list[float]) -> str:
    """p50 / p95 / max in milliseconds."""
    if not seconds:
        return "-"
    p50, p95 = np.percentile(seconds, [50, 95])
    return f"{1000 * p50:.0f} / {1000 * p95:.0f} / {1000 * max(seconds):.0f}"


def largest_difference(answers: list[Answer], requests: list, expected: dict[int, np.ndarray]) -> float:
    """The largest |served - in-process| over the good answers (inf when one is not a 200 or has another shape)."""
    worst = 0.0
    for answer in answers:
        if answer.kind != "good":
            continue
        if answer.status != 200:
            return float("inf")
        served = np.asarray(json.loads(answer.body)["predictions"], np.float32)
        wanted = expected[requests[answer.index][1]["params"]["seed"]]
        if served.shape != wanted.shape:
            return float("inf")
        worst = max(worst, float(np.abs(served - wanted).max()))
    return worst


def bench(model_uri: str, env: dict[str, str], cwd: Path, workers: int, args: argparse.Namespace) -> dict:
    """One server with `workers` workers under the mixed load; its figures."""
    inputs = scene(args.batch, args.size)
    expected = expected_maps(model_uri, inputs, args.steps)
    requests = mixed_requests(args.clients * args.requests, inputs, args.steps, SEEDS)
    with served_model(model_uri, env, cwd, workers=workers) as port:
        run_clients(port, [requests[0]] * workers, workers)  # warm-up: one request per worker
        start = time.perf_counter()
        answers = run_clients(port, requests, args.clients)
        elapsed = time.perf_counter() - start
        alive = post(port, requests[0][1])[0] == 200
    good = [a for a in answers if a.kind == "good"]
    bad = [a for a in answers if a.kind != "good"]
    return {
        "workers": workers,
        "good": percentiles([a.seconds for a in good]),
        "bad": percentiles([a.seconds for a in bad]),
        "rate": len(answers) / elapsed,
        "5xx": sum(a.status >= 500 for a in answers),
        "wrong": sum(a.status != 200 for a in good) + sum(not 400 <= a.status < 500 for a in bad),
        "diff": largest_difference(answers, requests, expected),
        "alive": alive,
    }


def report(rows: list[dict], args: argparse.Namespace) -> None:
    total = args.clients * args.requests
    print(
        f"\n{args.clients} clients x {args.requests} requests ({total}, a quarter malformed), "
        f"{args.batch} map(s) of {args.size}x{args.size} per request, steps={args.steps}"
    )
    header = f"{'workers':>7}  {'good p50/p95/max ms':>20}  {'bad p50/p95/max ms':>19}  {'req/s':>6}  {'5xx':>3}"
    print(header + f"  {'unexpected':>10}  {'max |served - in-process|':>25}  alive")
    for row in rows:
        print(
            f"{row['workers']:>7}  {row['good']:>20}  {row['bad']:>19}  {row['rate']:>6.1f}  {row['5xx']:>3}"
            f"  {row['wrong']:>10}  {row['diff']:>25.3g}  {row['alive']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model URI (default: the test suite's tiny champion in a temporary store)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    parser.add_argument("--batch", type=int, default=2, help="maps per request")
    parser.add_argument("--size", type=int, default=32, help="map side in pixels")
    parser.add_argument("--steps", type=int, default=2, help="sampler steps N")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_uri, env = args.model, {}
        if model_uri is None:
            from serving_helpers import tiny_champion_store

            store = tiny_champion_store(Path(tmp))
            model_uri, env = "models:/radiodiff@champion", {k: v for k, v in store.items() if k != "home"}
            import mlflow

            mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
        rows = [bench(model_uri, env, Path(tmp), workers, args) for workers in args.workers]
    report(rows, args)


if __name__ == "__main__":
    main()
