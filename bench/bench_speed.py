"""Speed benchmark: training steps, UNet calls and sampling, before and after the speed levers (docs/speed.md).

Run from the project root (about 20 minutes on 2 CPU cores; only temporary files are written):

    python bench/bench_speed.py                  # every row at 1 and 2 threads
    python bench/bench_speed.py --threads 2      # one thread count
    python bench/bench_speed.py --skip-paper     # only the rows that are not at the paper width
    python bench/bench_speed.py --device cuda    # on a GPU: fp32 against bf16, peak memory allocated, batch 64 too

Each row runs in a fresh process (peak RSS is process-wide), once with the levers off ("fp32": fp32 weights and
arithmetic, the condition encoded at every UNet call) and once with them on ("levers": bf16 autocast where the
CPU has bf16 units, the condition's features reused across the sampler's calls). Times are medians over the
repetitions after one warm-up. Peak memory = peak RSS minus the RSS before the models were built.

Rows (randomly initialised weights: speed does not depend on training):
  vae step        forward, L1 + L2 + KL, backward, AdamW (no discriminator), as the public code's VAE step
  unet forward    one ConditionalUNet call (latent 3 x H/4 x W/4, condition 3 x H x W), no autograd
  ldm step        LDMTask.compute (latents given) + backward + AdamW
  sample N=k      radiodiff.generation.sample_maps: N + 1 UNet calls + the VAE decoder, seconds per map
  predict N=k     RadioMapPredictor.predict on a model package (what mlflow.pyfunc and `mlflow models serve` run):
                  B scenes of one request in one call, scene to map, seconds per map
  loader          batches/s of the default training loader, against the batches/s one training step consumes
The anchors are the public RadioDiff code's figures measured in issue #16 (same widths, batches, threads), beside
radiodiff's own fp32 figures measured in the same run there. This machine's speed drifts between days (docs/speed.md),
so two ratios are printed: "x anchor" = anchor / levers here, and "x chained" = (fp32 here / levers here) x (anchor /
radiodiff's fp32 in the issue's run), which compares only figures measured side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import torch

from radiodiff.config import Config, load, parse_overrides

GIB = 2**30
PAPER_VAE = "vae.channels=128 vae.channel_mult=[1,2,4] vae.num_res_blocks=2"
PAPER_LDM = (
    f"data.image_size=[256,256] {PAPER_VAE} ldm.channels=128 ldm.num_res_blocks=2 ldm.attention_heads=8 "
    "ldm.window_size=8 ldm.cond_backbone=swin_base_patch4_window7_224"
)


@dataclass(frozen=True)
class Row:
    """One measured workload: its name, config overrides, batch, map side and repetitions."""

    name: str
    kind: str  # vae | unet | ldm | sample | predict
    overrides: str
    batch: int
    side: int
    repeats: int
    steps: int = 0  # sampler steps N (sample rows)
    anchor: tuple[float, float] | None = None  # public RadioDiff code, seconds at (1, 2) threads (issue #16)
    anchor_fp32: tuple[float, float] | None = None  # radiodiff's fp32 in the same run of issue #16
    anchor_gib: float | None = None  # the public code's peak memory (issue #16)
    paper: bool = False
    gpu_only: bool = False  # too slow for a CPU


# fmt: off
ROWS = [
    Row("vae step ch32 64x64 b8", "vae", "", 8, 64, 5, anchor=(0.631, 0.348), anchor_fp32=(0.554, 0.341)),
    Row("vae step ch64 128x128 b4", "vae", "vae.channels=64", 4, 128, 3, anchor=(4.04, 2.64), anchor_fp32=(3.53, 2.14)),
    Row("vae step ch128x[1,2,4] 256x256 b1", "vae", PAPER_VAE, 1, 256, 3, paper=True,
        anchor=(28.9, 16.6), anchor_fp32=(20.7, 13.2), anchor_gib=4.94),
    Row("unet forward default 64x64 b1", "unet", "", 1, 64, 9),
    Row("unet forward paper 256x256 b1", "unet", PAPER_LDM, 1, 256, 3, paper=True,
        anchor=(2.20, 1.36), anchor_fp32=(1.74, 1.01)),
    Row("ldm step default 64x64 b8", "ldm", "", 8, 64, 5),
    Row("ldm step paper 256x256 b1", "ldm", PAPER_LDM, 1, 256, 3, paper=True,
        anchor=(6.64, 4.51), anchor_fp32=(5.46, 3.47), anchor_gib=5.3),
    *(Row(f"sample N={n} default b{b}", "sample", "", b, 64, 3, steps=n) for n in (1, 5, 10) for b in (1, 16)),
    *(Row(f"predict N=5 default b{b}", "predict", "", b, 64, 3, steps=5) for b in (1, 16)),
    Row("sample N=5 paper b1", "sample", PAPER_LDM, 1, 256, 1, steps=5, paper=True,
        anchor=(19.8, 11.7), anchor_fp32=(16.1, 8.51)),
    Row("sample N=5 paper b64", "sample", PAPER_LDM, 64, 256, 2, steps=5, paper=True, gpu_only=True),
]
# fmt: on


def config_of(row: Row) -> Config:
    return load(overrides=parse_overrides(f"{row.overrides} data.image_size=[{row.side},{row.side}]"))


def lever_context(levers: bool, device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast with the levers on (what `mixed_precision: bf16` makes the Trainer do)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=levers)


def median_seconds(work: Callable[[], object], repeats: int, device: torch.device) -> float:
    def timed() -> float:
        start = time.perf_counter()
        work()
        if device.type == "cuda":
            torch.cuda.synchronize(device)  # kernels run asynchronously
        return time.perf_counter() - start

    timed()  # warm-up: one-off allocations, oneDNN primitives, cuDNN autotuning
    return statistics.median(timed() for _ in range(repeats))


def vae_work(row: Row, levers: bool, device: torch.device) -> Callable[[], object]:
    from radiodiff.models.vae import AutoencoderKL

    model = AutoencoderKL(config_of(row).vae).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.rand(row.batch, 1, row.side, row.side, generator=torch.Generator().manual_seed(0)) * 2 - 1
    x = x.to(device)

    def step() -> None:
        with lever_context(levers, device):
            reconstruction, posterior = model(x)
            error = reconstruction.float() - x
            loss = error.abs().mean() + error.pow(2).mean() + 1e-6 * posterior.kl().float().mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def ldm_task(row: Row, device: torch.device):  # an LDMTask (imported in the worker)
    from radiodiff.models.latent_codec import LatentCodec
    from radiodiff.models.vae import AutoencoderKL
    from radiodiff.training.ldm_task import LDMTask

    config = config_of(row)
    task = LDMTask(config, LatentCodec(AutoencoderKL(config.vae), scale_factor=0.3), (row.side, row.side))
    task.denoiser.to(device)
    task.codec.vae.to(device)
    return task


def condition(row: Row, device: torch.device) -> torch.Tensor:
    cond = torch.rand(row.batch, 3, row.side, row.side, generator=torch.Generator().manual_seed(0)) * 2 - 1
    return cond.to(device)


def unet_work(row: Row, levers: bool, device: torch.device) -> Callable[[], object]:
    model = ldm_task(row, device).denoiser.eval()
    cond, latent = condition(row, device), torch.randn(row.batch, 3, row.side // 4, row.side // 4, device=device)
    t = torch.full((row.batch,), -0.5, device=device)

    def call() -> None:
        with torch.no_grad(), lever_context(levers, device):
            model(latent, t, cond)

    return call


def ldm_work(row: Row, levers: bool, device: torch.device) -> Callable[[], object]:
    task = ldm_task(row, device)
    modules = task.modules()
    optimizer = task.optimizers(modules)["denoiser"]
    latent = (row.batch, 3, row.side // 4, row.side // 4)
    ids = torch.arange(row.batch, device=device)
    batch = {"cond": condition(row, device), "map_id": ids, "tx_id": ids}
    batch |= {"latent_mean": torch.randn(latent, device=device), "latent_std": torch.full(latent, 0.1, device=device)}
    step_index = iter(range(10**6))

    def step() -> None:
        with lever_context(levers, device):
            loss = task.compute(modules, batch, next(step_index)).losses["denoiser"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def without_condition_reuse() -> None:
    """The levers off: the condition encoded at every UNet call, as before the lever."""
    from radiodiff.models.unet import ConditionalUNet

    ConditionalUNet.reusing_condition = lambda self: contextlib.nullcontext()


def sampling_precision(levers: bool) -> str:
    return "bf16" if levers else "no"


def sample_work(row: Row, levers: bool, device: torch.device) -> Callable[[], object]:
    from radiodiff.generation import sample_maps

    task, cond = ldm_task(row, device), condition(row, device)
    if not levers:
        without_condition_reuse()
    diffusion = dataclasses.replace(task.config.diffusion, sampling_precision=sampling_precision(levers))
    model, seeds = task.denoiser.eval(), list(range(row.batch))
    return lambda: sample_maps(model, task.codec, cond, seeds, diffusion, steps=row.steps)


def predict_work(row: Row, levers: bool, device: torch.device) -> Callable[[], object]:
    """A model package of random weights in a temporary folder, loaded by RadioMapPredictor; B scenes per call."""
    from safetensors.torch import save_file

    from radiodiff.config import dump
    from radiodiff.models.weight_files import weights_file
    from radiodiff.predictor import RadioMapPredictor

    task = ldm_task(row, device)
    diffusion = dataclasses.replace(task.config.diffusion, sampling_precision=sampling_precision(levers))
    folder = tempfile.TemporaryDirectory()  # removed when the closure below is, with this process
    package = Path(folder.name)
    save_file(task.codec.vae.state_dict(), weights_file(package, "autoencoder"))
    save_file(task.denoiser.state_dict(), weights_file(package, "denoiser"))
    (package / "config.yaml").write_text(dump(dataclasses.replace(task.config, diffusion=diffusion)))
    predictor = RadioMapPredictor(package, device=str(device))
    if not levers:
        without_condition_reuse()
    buildings = torch.zeros(row.batch, row.side, row.side)
    buildings[:, row.side // 8 : row.side // 3, row.side // 4 : row.side // 2] = 1
    tx = torch.zeros_like(buildings)
    tx[torch.arange(row.batch), (row.side * 2) // 3, torch.arange(row.batch) % row.side] = 1
    arrays = buildings.numpy(), tx.numpy()
    return lambda: (folder, predictor.predict(*arrays, steps=row.steps))


WORK = {"vae": vae_work, "unet": unet_work, "ldm": ldm_work, "sample": sample_work, "predict": predict_work}


def measure(row: Row, levers: bool, threads: int, device_name: str) -> tuple[float, float]:
    """(seconds per step, call or map; peak memory in GiB), in this (fresh) process. Peak memory: the peak RSS
    growth on the CPU, the peak allocated on a GPU."""
    device = torch.device(device_name)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    baseline = psutil.Process().memory_info().rss
    seconds = median_seconds(WORK[row.kind](row, levers, device), row.repeats, device)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / GIB
    else:
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline) / GIB  # KiB on Linux
    per = row.batch if row.kind in ("sample", "predict") else 1
    return seconds / per, peak


def anchor_columns(row: Row, threads: int, before: float, after: float, device: str) -> str:
    """The anchor, anchor / levers, and the chained ratio (fp32 / levers here x anchor / fp32 in issue #16)."""
    if not (row.anchor and row.anchor_fp32 and threads in (1, 2) and device == "cpu"):
        return f"{'':>7} {'':>8} {'':>9}"
    anchor, anchor_fp32 = row.anchor[threads - 1], row.anchor_fp32[threads - 1]
    return f"{anchor:>7.3g} {anchor / after:>7.2f}x {before / after * anchor / anchor_fp32:>8.2f}x"


def in_fresh_process(function: Callable, *args: object) -> object:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def loader_batches_per_s(threads: int) -> float:
    """The default training loader's batches/s against what one default VAE and LDM step consume."""
    from torch.utils.data import DataLoader

    from radiodiff.jobs.common import prepare_data

    torch.set_num_threads(threads)
    config = load()
    train = prepare_data(config, seed=0).splits["train"]
    loader = DataLoader(train, batch_size=config.data.batch_size, shuffle=True, drop_last=True)
    batches, start = 0, time.perf_counter()
    for _ in loader:
        batches += 1
        if batches == 200:
            break
    return batches / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", help="intra-op thread counts (CPU: 1 2; GPU: all cores)")
    parser.add_argument("--skip-paper", action="store_true", help="leave out the paper-width rows")
    parser.add_argument("--only", default="", help="only rows whose name contains this text")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where the networks run")
    args = parser.parse_args()
    on_gpu = args.device == "cuda"
    if on_gpu and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is visible to torch")
    rows = [r for r in ROWS if not (args.skip_paper and r.paper) and args.only in r.name and (on_gpu or not r.gpu_only)]
    threads_list = args.threads or ([torch.get_num_threads()] if on_gpu else [1, 2])
    print(
        f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
        f"bf16 units: {torch.ops.mkldnn._is_mkldnn_bf16_supported()}, load {psutil.getloadavg()}",
        flush=True,
    )
    if on_gpu:
        print(gpu_note(), flush=True)
    head = (
        f"{'work (s per step, call or map)':<36} {'thr':>3} {'fp32':>7} {'levers':>7} {'x':>5} "
        f"{'anchor':>7} {'x anchor':>8} {'x chained':>9} {'GiB fp32':>8} {'GiB levers':>10} {'GiB anchor':>10}"
    )
    print(head + "\n" + "-" * len(head), flush=True)
    consumed = {}
    for threads in threads_list:
        for row in rows:
            before, mem_before = in_fresh_process(measure, row, False, threads, args.device)
            after, mem_after = in_fresh_process(measure, row, True, threads, args.device)
            print(
                f"{row.name:<36} {threads:>3} {before:>7.3g} {after:>7.3g} {before / after:>4.2f}x "
                f"{anchor_columns(row, threads, before, after, args.device)} {mem_before:>8.2f} {mem_after:>10.2f} "
                f"{row.anchor_gib or '':>10}",
                flush=True,
            )
            if row.name.startswith(("vae step ch32", "ldm step default")):
                consumed[row.name] = 1 / after
        if on_gpu or not consumed:
            continue
        loader = in_fresh_process(loader_batches_per_s, threads)
        for name, per_s in consumed.items():
            print(
                f"loader default b8, {threads} thread(s): {loader:.0f} batches/s = {loader / per_s:.0f}x what the "
                f"{name} consumes with the levers ({per_s:.1f} batches/s)",
                flush=True,
            )


def gpu_note() -> str:
    """The GPUs seen; with one, the multi-GPU path is not measured here."""
    count = torch.cuda.device_count()
    names = ", ".join(torch.cuda.get_device_name(i) for i in range(count))
    bf16 = torch.cuda.is_bf16_supported()
    note = f"{count} GPU(s): {names}; bf16 supported: {bf16}"
    if count < 2:
        note += "; one GPU: multi-GPU scaling (accelerate launch --num_processes N) is not measured by this run"
    return note


if __name__ == "__main__":
    sys.exit(main())
