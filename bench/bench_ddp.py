"""Benchmark of data-parallel training: samples/s with 1 and 2 processes at the default config, and on a GPU,
bf16 against fp32 step time and peak memory at the paper width.

Run from the project root (about 5 minutes on 2 CPU cores; a temporary tracking store and data folder):

    python bench/bench_ddp.py                      # train_vae and train_ldm, 1 vs 2 processes, 40 steps each
    python bench/bench_ddp.py --steps 80 --jobs train_vae

Each measurement is a real `radiodiff <job> --processes N` run (accelerate's launcher, gloo on CPU) at the
default config with `data.batch_size` per process, so 2 processes train a global batch twice as large; the
figure is the run's median `train/samples_per_s` (global samples per second, warm-up steps left out). On this
2-core machine 2 processes share the 2 cores that 1 process already uses, so the ratio shows the overhead of the
collectives more than a speed-up; on a machine with a GPU per process it is the scaling.
GPU part (skipped without CUDA): one optimisation step of the paper-width LDM (Swin-B, 256x256, batch 2) under
fp32 and bf16 autocast: median step time and torch.cuda.max_memory_allocated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
QUICK = "tracking.system_metrics=false tracking.log_every=5 {job}.val_every=100000 {job}.sample_every=100000"
QUICK += " {job}.checkpoint_every=100000 {job}.steps={steps}"


def measure(job: str, processes: int, steps: int, home: Path, vae: str) -> float:
    """Median train/samples_per_s of one `radiodiff JOB --processes N` run."""
    from mlflow.tracking import MlflowClient

    section = "vae_train" if job == "train_vae" else "ldm_train"
    argv = [sys.executable, "-m", "radiodiff", job, "--processes", str(processes)]
    argv += ["--overrides", QUICK.format(job=section, steps=steps)] + (["--vae", vae] if vae else [])
    env = {**os.environ, "RADIODIFF_HOME": str(home), "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}
    done = subprocess.run(argv, cwd=home, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{job} --processes {processes} failed:\n{done.stderr[-3000:]}")
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    run = client.search_runs(["0"], order_by=["attributes.start_time DESC"], max_results=1)[0]
    rates = [m.value for m in client.get_metric_history(run.info.run_id, "train/samples_per_s") if m.step > 10]
    return statistics.median(rates)


def trained_vae(home: Path) -> str:
    """A VAE for the LDM runs: 12 steps of train_vae at the default config (its URI)."""
    from mlflow.tracking import MlflowClient

    measure("train_vae", 1, 12, home, "")
    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    run = client.search_runs(["0"], order_by=["attributes.start_time DESC"], max_results=1)[0]
    return run.data.tags["radiodiff.vae_uri"]


def gpu_precision(steps: int = 10) -> None:
    """fp32 vs bf16 autocast: step time and peak memory of the paper-width LDM on one GPU."""
    if not torch.cuda.is_available():
        print("GPU: no CUDA device here; bf16 vs fp32 at the paper width not measured")
        return
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_ldm import PAPER, build

    from radiodiff.config import load

    task, _, _ = build(load(ROOT / "configs/default.yaml", PAPER))
    unet = task.denoiser.cuda().train()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-5)
    x, cond = torch.randn(2, 3, 64, 64, device="cuda"), torch.randn(2, 3, 256, 256, device="cuda")
    for precision in ("fp32", "bf16"):
        torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(steps):
            torch.cuda.synchronize()
            start = time.perf_counter()
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
                f1, f2 = unet(x, torch.rand(2, device="cuda"), cond)
                loss = (f1.float().square() + f2.float().square()).mean()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f"GPU {precision}: {1000 * statistics.median(times[2:]):.0f} ms per step, peak {peak:.1f} GiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--jobs", nargs="+", default=["train_vae", "train_ldm"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        vae = trained_vae(home) if "train_ldm" in args.jobs else ""
        for job in args.jobs:
            rates = {n: measure(job, n, args.steps, home, vae if job == "train_ldm" else "") for n in (1, 2)}
            print(
                f"{job}: 1 process {rates[1]:.1f} samples/s, 2 processes {rates[2]:.1f} samples/s "
                f"(x{rates[2] / rates[1]:.2f}), default config, {args.steps} steps"
            )
    gpu_precision()


if __name__ == "__main__":
    main()
