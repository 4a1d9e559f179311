"""Benchmark of VAE training (Trainer + VAETask): throughput, peak memory, and the cost of MLflow tracking.

Run from the project root (about 12 minutes on 2 CPU cores; everything it writes goes to a temp dir; the
trainer's progress bars go to stderr, so `2>/dev/null` leaves the tables alone):

    python bench/bench_train_vae.py                      # all parts
    python bench/bench_train_vae.py --threads 1          # one intra-op thread (steadier on a busy machine)
    python bench/bench_train_vae.py --repeats 5 --skip-throughput

Part 1 (throughput, peak memory) trains, each in a fresh process so that its peak RSS is its own:
  default       configs/default.yaml as shipped (phase 1: reconstruction + KL)
  default-gan   the same in phase 2 (vae_loss.disc_start=0: + PatchGAN step and adaptive weight)
  paper-width   vae.channels=128, channel_mult [1,2,4], num_res_blocks 2 (53 M parameters) at the default
                64x64 maps and batch 2 (the paper trains 256x256 maps; CPU time grows ~16x with the area)
Throughput counts only optimisation steps: timing starts at the first logged step and ends at the last one
(validation and checkpoints are moved out of that window). Peak memory = peak RSS at the last timed step
minus the RSS before the model was built; torch's own allocator peak where the device reports one (CUDA).

Part 2 (tracking overhead) trains configs/default.yaml for `--overhead-steps` steps with its own log, val,
sample and checkpoint cadence, with tracking (radiodiff.tracking.start_run on a real sqlite store +
MetricsLog) and without (MetricsLog(None, ...)), alternating the order, and reports the relative overhead
of the whole job (run start/end included) and of the training alone, with the time spent inside each
tracker call, and the CPU time of the main thread and of the others (MLflow's workers).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import torch

from radiodiff.config import Config, load, parse_overrides
from radiodiff.jobs.common import TrainingData, prepare_data
from radiodiff.tracking import start_run
from radiodiff.training.metrics_log import MetricsLog
from radiodiff.training.trainer import Trainer
from radiodiff.training.vae_task import VAETask

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
# Throughput runs: no validation, samples or checkpoints inside the timed window.
STEPS_ONLY = "vae_train.val_every=1000000 vae_train.sample_every=1000000 vae_train.checkpoint_every=1000000"
PAPER_WIDTH = "vae.channels=128 vae.channel_mult=[1,2,4] vae.num_res_blocks=2 data.batch_size=2"
MIB = 2**20


# ----- configs and data ---------------------------------------------------------------------------------
def bench_config(data_dir: Path, overrides: str = "") -> Config:
    """configs/default.yaml + overrides, training on the data set in `data_dir`."""
    return load(DEFAULT_CONFIG, {**parse_overrides(overrides), "data.data_dir": str(data_dir)})


def make_data(folder: Path) -> Path:
    """Write the default config's generated data set into `folder` (a few seconds)."""
    from radiodiff.data.generator import generate_dataset

    generate_dataset(load(DEFAULT_CONFIG).generator, folder, progress=False)
    return folder


def train(config: Config, data: TrainingData, work: Path, log: MetricsLog) -> None:
    """What train_vae does between opening its run and registering the model: seed, build, fit."""
    torch.manual_seed(config.vae_train.seed)
    task = VAETask(config)
    splits = (data.splits["train"], data.splits["val"])
    Trainer(task, config, config.vae_train, splits, work, log).fit()


# ----- part 1: throughput and peak memory ---------------------------------------------------------------
class StepClock:
    """An in-memory tracker (the MetricsLog protocol) that timestamps each logged training step."""

    run_id = ""

    def __init__(self) -> None:
        self.marks: list[tuple[int, float, int]] = []  # (step, perf_counter, peak RSS in bytes)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if "train/loss" in metrics:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
            self.marks.append((step, time.perf_counter(), peak))

    def log_image(self, key: str, image: np.ndarray, step: int) -> None: ...
    def set_tags(self, tags: dict[str, object]) -> None: ...
    def log_artifacts(self, folder: Path, artifact_path: str) -> None: ...
    def flush(self) -> None: ...

    def upload_later(self, folder: Path, artifact_path: str) -> None: ...

    def logged_steps(self, keys: list[str]) -> dict[str, set[int]]:
        return {key: set() for key in keys}  # a fresh run: no step logged yet

    def logged_image_steps(self, key: str) -> set[int]:
        return set()


def measure_throughput(label: str, overrides: str, steps: int, window: int, data_dir: str, threads: int) -> dict:
    """Train `steps` steps logging every `window`; runs in a fresh process (peak RSS is process-wide)."""
    if threads:
        torch.set_num_threads(threads)
    config = bench_config(
        Path(data_dir),
        f"{overrides} {STEPS_ONLY} vae_train.steps={steps} vae_train.warmup_steps=1 tracking.log_every={window}",
    )
    data = prepare_data(config, seed=config.vae_train.seed)
    clock = StepClock()
    samples_per_step = config.data.batch_size * config.vae_train.grad_accum
    baseline = psutil.Process().memory_info().rss
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as work:
        train(config, data, Path(work), MetricsLog(clock, window, samples_per_step))
    (first, t0, _), (last, t1, peak) = clock.marks[0], clock.marks[-1]
    return {
        "label": label,
        "params_m": sum(p.numel() for p in VAETask(config).autoencoder.parameters()) / 1e6,
        "shape": f"{config.data.batch_size}x{config.data.image_size[0]}x{config.data.image_size[1]}",
        "timed_steps": last - first,
        "step_s": (t1 - t0) / (last - first),
        "samples_per_s": (last - first) * samples_per_step / (t1 - t0),
        "rss_growth_mib": (peak - baseline) / MIB,
        "torch_peak_mib": torch.cuda.max_memory_allocated() / MIB if torch.cuda.is_available() else None,
        "threads": torch.get_num_threads(),
    }


def throughput_table(rows: list[dict]) -> str:
    head = f"{'config':<12} {'params':>8} {'batch':>9} {'steps':>5} {'s/step':>7} {'samples/s':>9} "
    head += f"{'peak RSS +MiB':>13} {'torch peak MiB':>14}"
    lines = [head, "-" * len(head)]
    for r in rows:
        torch_peak = "n/a (CPU)" if r["torch_peak_mib"] is None else f"{r['torch_peak_mib']:.0f}"
        lines.append(
            f"{r['label']:<12} {r['params_m']:>7.1f}M {r['shape']:>9} {r['timed_steps']:>5} {r['step_s']:>7.2f} "
            f"{r['samples_per_s']:>9.2f} {r['rss_growth_mib']:>13.0f} {torch_peak:>14}"
        )
    return "\n".join(lines)


# ----- part 2: tracking overhead ------------------------------------------------------------------------
class TimedTracker:
    """Wraps a RunTracker and adds up the wall time of each of its methods (on the training thread)."""

    def __init__(self, tracker: Any, seconds: dict[str, float], calls: dict[str, int]) -> None:
        self._tracker, self._seconds, self._calls = tracker, seconds, calls
        self.run_id = tracker.run_id

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._tracker, name)
        return lambda *args, **kwargs: self._timed(name, method, *args, **kwargs)

    def _timed(self, name: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            self._seconds[name] += time.perf_counter() - start
            self._calls[name] += 1


@dataclass
class RunTiming:
    """One overhead run: wall and CPU seconds and, with tracking, the wall time inside each tracker call."""

    tracked: bool
    total: float = 0.0
    training: float = 0.0
    main_cpu: float = 0.0
    other_cpu: float = 0.0
    calls: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def process_cpu() -> float:
    """CPU seconds (user + system) of every thread of this process so far."""
    times = psutil.Process().cpu_times()
    return times.user + times.system


def overhead_run(config: Config, data: TrainingData, work: Path, tracked: bool) -> RunTiming:
    """One training job with or without its MLflow run; returns its timings."""
    timing = RunTiming(tracked)
    samples_per_step = config.data.batch_size * config.vae_train.grad_accum
    cpu, main_cpu, start = process_cpu(), time.thread_time(), time.perf_counter()
    with ExitStack() as stack:
        tracker = None
        if tracked:
            run = stack.enter_context(start_run("bench_train_vae", config, run_name="bench"))
            timing.calls["start_run (enter)"] = time.perf_counter() - start
            tracker = TimedTracker(run, timing.calls, timing.counts)
        log = MetricsLog(tracker, config.tracking.log_every, samples_per_step)
        begin = time.perf_counter()
        train(config, data, work, log)
        end = time.perf_counter()
    timing.total, timing.training = time.perf_counter() - start, end - begin
    timing.main_cpu = time.thread_time() - main_cpu
    timing.other_cpu = process_cpu() - cpu - timing.main_cpu
    if tracked:
        timing.calls["start_run (exit)"] = time.perf_counter() - end
    return timing


def measure_overhead(data_dir: Path, steps: int, repeats: int, scratch: Path) -> list[RunTiming]:
    """Warm up both variants, then `repeats` pairs in alternating order."""
    config = bench_config(data_dir, f"vae_train.steps={steps}")
    data = prepare_data(config, seed=config.vae_train.seed)
    warm = bench_config(data_dir, "vae_train.steps=2 vae_train.warmup_steps=1")
    for tracked in (True, False):  # creates the sqlite schema, fills lazy caches
        overhead_run(warm, data, scratch / f"warm-{tracked}", tracked)
    timings = []
    for r in range(repeats):
        for tracked in (False, True) if r % 2 == 0 else (True, False):
            timings.append(overhead_run(config, data, scratch / f"run-{r}-{tracked}", tracked))
            print(f"  pair {r + 1}/{repeats} tracked={tracked!s:<5} total {timings[-1].total:7.2f} s", flush=True)
    return timings


def overhead_report(timings: list[RunTiming], checkpoint_mib: float) -> str:
    """Relative overheads (median over pairs) and where the tracked runs spent their tracking time."""
    on = [t for t in timings if t.tracked]
    off = [t for t in timings if not t.tracked]
    lines = [f"{'':<34} {'without':>20} {'with':>20}   overhead: median (pairs)"]
    # Added seconds relative to the untracked value of `reference` (other threads: of the main thread's CPU).
    for name, attr, reference in [
        ("wall s, whole job", "total", "total"),
        ("wall s, training (Trainer + fit)", "training", "training"),
        ("CPU s, main thread", "main_cpu", "main_cpu"),
        ("CPU s, other threads", "other_cpu", "main_cpu"),
    ]:
        a, b = [getattr(t, attr) for t in on], [getattr(t, attr) for t in off]
        pairs = [
            100 * (getattr(x, attr) - getattr(y, attr)) / getattr(y, reference) for x, y in zip(on, off, strict=True)
        ]
        spread = ", ".join(f"{x:+.1f}" for x in pairs)
        lines.append(f"{name:<34} {_spread(b):>20} {_spread(a):>20}   {statistics.median(pairs):+6.2f} % ({spread})")
    mean_off = statistics.mean(t.total for t in off)
    lines.append("wall time inside tracking calls on the training thread (mean per tracked run; % of the job):")
    for name in sorted(on[0].calls, key=lambda k: -on[0].calls[k]):
        seconds = statistics.mean(t.calls[name] for t in on)
        count = on[0].counts.get(name, 1)
        lines.append(f"  {name:<20} {count:>3} calls {seconds:7.3f} s {100 * seconds / mean_off:6.2f} %")
    direct = statistics.mean(sum(t.calls.values()) for t in on)
    lines.append(f"  {'sum':<30} {direct:7.3f} s {100 * direct / mean_off:6.2f} %")
    lines.append(f"(a checkpoint folder holds {checkpoint_mib:.1f} MiB)")
    return "\n".join(lines)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}..{max(values):.2f})"


def folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / MIB


# ----- main ---------------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=25, help="steps of the default-width runs (part 1)")
    parser.add_argument("--paper-steps", type=int, default=12, help="steps of the paper-width run (part 1)")
    parser.add_argument("--overhead-steps", type=int, default=60, help="steps of each part 2 run")
    parser.add_argument("--repeats", type=int, default=3, help="pairs (with/without tracking) in part 2")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    return parser.parse_args()


def run_throughput(args: argparse.Namespace, data_dir: Path) -> None:
    specs = [
        ("default", "", args.steps, 5),
        ("default-gan", "vae_loss.disc_start=0", args.steps, 5),
        ("paper-width", PAPER_WIDTH, args.paper_steps, 4),
    ]
    rows = []
    for label, overrides, steps, window in specs:  # one spawned process each: a clean peak RSS
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            spec = (label, overrides, steps, window, str(data_dir), args.threads)
            rows.append(pool.submit(measure_throughput, *spec).result())
        print(f"  {label}: {rows[-1]['step_s']:.2f} s/step", flush=True)
    print(
        f"\nVAE training throughput (torch {torch.__version__}, {rows[0]['threads']} threads, "
        f"{'CUDA' if torch.cuda.is_available() else 'CPU'}):"
    )
    print(throughput_table(rows))


def run_overhead(args: argparse.Namespace, data_dir: Path, scratch: Path) -> None:
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{scratch / 'mlflow.db'}"
    os.environ.pop("MLFLOW_RUN_ID", None)
    if args.threads:
        torch.set_num_threads(args.threads)
    timings = measure_overhead(data_dir, args.overhead_steps, args.repeats, scratch)
    checkpoint = next(scratch.glob("run-*-True/checkpoints/last"))
    print(
        f"\nMLflow tracking overhead (default config, {args.overhead_steps} steps, {args.repeats} pairs, "
        f"{torch.get_num_threads()} threads):"
    )
    print(overhead_report(timings, folder_mib(checkpoint)))


def main() -> None:
    args = parse_args()
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    print(f"load average at start: {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_train_vae-") as tmp:
        scratch = Path(tmp)
        os.chdir(scratch)  # MLflow's ./mlruns, git tags and outputs stay out of the checkout
        data_dir = make_data(scratch / "data")
        if not args.skip_throughput:
            run_throughput(args, data_dir)
        if not args.skip_overhead:
            run_overhead(args, data_dir, scratch)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
