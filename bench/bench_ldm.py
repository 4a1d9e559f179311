"""Benchmark of the RadioDiff LDM on CPU: sampling latency per map for N = 1, 5, 10 and training throughput.

Run from the project root (a few minutes on 2 CPU cores; nothing is written to disk):

    python bench/bench_ldm.py                  # the default config and the paper width
    python bench/bench_ldm.py --skip-paper     # the default config only
    python bench/bench_ldm.py --threads 1      # one intra-op thread (steadier on a busy machine)

Both configs use randomly initialised weights (speed does not depend on training):
  default   configs/default.yaml: UNet 32 x [1,2,4,4], resnet10t condition encoder, 64x64 maps (16x16 latent)
  paper     UNet 128 x [1,2,4,4], 2 res blocks, Swin-B condition encoder, VAE 128 x [1,2,4], 256x256 maps
Sampling latency = wall time of `radiodiff.generation.sample_maps` (N + 1 UNet calls + the VAE decoder) divided by
the batch size. Training throughput = samples per second of LDMTask.compute + backward + AdamW step.
"""

from __future__ import annotations

import argparse
import time

import torch

from radiodiff.config import Config, load
from radiodiff.generation import sample_maps
from radiodiff.models.latent_codec import LatentCodec
from radiodiff.models.unet import count_parameters
from radiodiff.models.vae import AutoencoderKL
from radiodiff.training.ldm_task import LDMTask

PAPER = (
    "data.image_size=[256,256] vae.channels=128 vae.channel_mult=[1,2,4] vae.num_res_blocks=2 "
    "ldm.channels=128 ldm.num_res_blocks=2 ldm.attention_heads=8 ldm.window_size=8 "
    "ldm.cond_backbone=swin_base_patch4_window7_224"
)


def build(config: Config) -> tuple[LDMTask, int, int]:
    torch.manual_seed(0)
    codec = LatentCodec(AutoencoderKL(config.vae), scale_factor=0.3)
    height, width = config.data.image_size
    return LDMTask(config, codec, (height, width)), height, width


def batch_of(size: int, height: int, width: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    cond = torch.rand(size, 3, height, width, generator=generator) * 2 - 1
    target = torch.rand(size, 1, height, width, generator=generator) * 2 - 1
    ids = torch.arange(size)
    return {"cond": cond, "target": target, "map_id": ids, "tx_id": ids}


def sampling_latency(task: LDMTask, batch: dict[str, torch.Tensor], steps: int, repeats: int) -> float:
    """Seconds per map of the whole sampler (N + 1 UNet calls + decode)."""
    model = task.denoiser.eval()
    seeds = list(range(len(batch["cond"])))
    sample_maps(model, task.codec, batch["cond"], seeds, task.config.diffusion, steps=1)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        sample_maps(model, task.codec, batch["cond"], seeds, task.config.diffusion, steps=steps)
    return (time.perf_counter() - start) / (repeats * len(seeds))


def training_throughput(task: LDMTask, batch: dict[str, torch.Tensor], steps: int) -> float:
    """Samples per second of full optimisation steps (forward, backward, AdamW)."""
    modules = task.modules()
    for module in modules.values():
        module.train()
    optimizer = task.optimizers(modules)["denoiser"]
    for step in range(steps + 1):
        if step == 1:  # the first step pays one-off allocations
            start = time.perf_counter()
        loss = task.compute(modules, batch, step).losses["denoiser"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return steps * len(batch["cond"]) / (time.perf_counter() - start)


def report(name: str, overrides: str, batch: int, train_steps: int, repeats: int, sampler_steps: list[int]) -> None:
    config = load(overrides=overrides)
    task, height, width = build(config)
    params = count_parameters(task.denoiser) / 1e6
    print(f"\n{name}: UNet + condition encoder {params:.1f} M parameters, {height}x{width} maps, batch {batch}")
    data = batch_of(batch, height, width)
    for steps in sampler_steps:
        seconds = sampling_latency(task, data, steps, repeats)
        print(f"  sampling N={steps:<2d} ({steps + 1} UNet calls): {seconds * 1000:8.1f} ms per map")
    print(f"  training: {training_throughput(task, data, train_steps):.2f} samples/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--skip-paper", action="store_true", help="only the default config")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    report("default", "", batch=8, train_steps=5, repeats=2, sampler_steps=[1, 5, 10])
    if not args.skip_paper:
        report("paper width", PAPER, batch=1, train_steps=2, repeats=1, sampler_steps=[1, 5, 10])


if __name__ == "__main__":
    main()
