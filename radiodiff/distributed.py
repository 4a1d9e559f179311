"""Collectives that layers below the trainer need: a mean over processes, and batch statistics over processes.

Both are no-ops in a single process, so models, losses and tasks call them unconditionally. Under N processes
with batch B each they make a computation equal to one process with batch N x B (equal shares).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from torch import nn

__all__ = ["CrossProcessBatchNorm2d", "mean_over_processes", "sync_batch_norms", "wait_for_all", "world_size"]


def world_size() -> int:
    """Processes of the running job (1 without torch.distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def wait_for_all() -> None:
    """A barrier of every process of the job (nothing in a single process)."""
    if world_size() > 1:
        dist.barrier()


def mean_over_processes(tensor: torch.Tensor) -> torch.Tensor:
    """The mean of `tensor` over every process (differentiable); the tensor itself in a single process."""
    if world_size() == 1:
        return tensor
    return dist_fn.all_reduce(tensor, op=dist.ReduceOp.SUM) / world_size()


class CrossProcessBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the global batch (all processes), on any backend.

    torch's SyncBatchNorm runs on GPUs only; this one all-reduces the per-channel sum and sum of squares (one
    differentiable all-reduce per call, gloo or NCCL), so N processes normalise exactly as one process with the
    whole batch would (Ioffe & Szegedy 2015, Alg. 1, over the global batch). Evaluation and single-process
    training are plain BatchNorm2d; the state dict is BatchNorm2d's, so checkpoints load into either.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, C, H, W). Returns (B, C, H, W)."""
        if not (self.training and world_size() > 1):
            return super().forward(x)
        count = torch.full((1,), x.shape[0] * x.shape[2] * x.shape[3], dtype=x.dtype, device=x.device)
        stats = torch.cat([x.sum(dim=(0, 2, 3)), (x * x).sum(dim=(0, 2, 3)), count])  # (2C + 1,)
        stats = dist_fn.all_reduce(stats, op=dist.ReduceOp.SUM)
        channels = x.shape[1]
        total = stats[-1]
        mean = stats[:channels] / total
        var = (stats[channels : 2 * channels] / total - mean * mean).clamp_min(0)  # biased, as BatchNorm's
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                unbiased = var * total / (total - 1).clamp_min(1)
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), momentum)
                self.running_var.lerp_(unbiased.detach().to(self.running_var.dtype), momentum)
        y = (x - mean[None, :, None, None]) * torch.rsqrt(var[None, :, None, None] + self.eps)
        if self.affine:
            y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return y


def sync_batch_norms(module: nn.Module) -> nn.Module:
    """Turn every BatchNorm2d of `module` into a CrossProcessBatchNorm2d in place (same parameters, buffers)."""
    for child in module.children():
        if type(child) is nn.BatchNorm2d:
            child.__class__ = CrossProcessBatchNorm2d
        else:
            sync_batch_norms(child)
    return module
