"""How the trainer shares work and results between the processes of a data-parallel job (accelerate: DDP over
gloo on CPU, NCCL on GPU). In one process every function here is the identity.

Every process holds the same weights; each takes an equal share of each global batch (accelerate's
`split_batches`), so N processes with `data.batch_size` B compute what one process computes with N x B.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import torch
from accelerate import Accelerator, PartialState
from accelerate.utils import gather_object

__all__ = ["gather_scores", "job_processes", "mean_logs", "on_cpu", "share_of_batches"]


def on_cpu() -> bool:
    """Whether the job runs on CPU processes (gloo) rather than one GPU per process (NCCL)."""
    return not torch.cuda.is_available()


def job_processes(timeout_s: float) -> PartialState:
    """accelerate's view of this job's processes; the first call joins the process group that the launcher set up
    (torch.distributed.run's environment), with `timeout_s` on every collective. One process: no group."""
    return PartialState(cpu=on_cpu(), timeout=timedelta(seconds=timeout_s))


def share_of_batches(batches: list[dict[str, Any]], accelerator: Accelerator) -> list[dict[str, Any]]:
    """This process's slice of each global batch (the `split_batches` rule): slice r of N equal slices; a short
    last batch leaves later processes fewer (or no) maps, so every map is scored exactly once."""
    count, rank = accelerator.num_processes, accelerator.process_index
    share = []
    for batch in batches:
        size = len(next(iter(batch.values())))
        per_process = -(-size // count)  # ceil
        start, stop = rank * per_process, min(size, (rank + 1) * per_process)
        if start < stop:
            share.append({k: v[start:stop] for k, v in batch.items()})
    return share


def gather_scores(scores: dict[str, torch.Tensor], accelerator: Accelerator) -> dict[str, float]:
    """Means over every map of every process of per-map scores {name: (n,)} (n may differ between processes)."""
    local = {name: values.double().cpu().tolist() for name, values in scores.items()}
    if accelerator.num_processes > 1:
        shares = gather_object([local])  # one dict per process, in rank order
        local = {name: [v for share in shares for v in share[name]] for name in local}
    return {name: float(torch.tensor(values, dtype=torch.float64).mean()) for name, values in local.items()}


def mean_logs(logs: dict[str, float], accelerator: Accelerator) -> dict[str, float]:
    """The logged values of one step averaged over the processes (each saw an equal share of the batch)."""
    if accelerator.num_processes == 1 or not logs:
        return logs
    names = sorted(logs)
    values = torch.tensor([logs[n] for n in names], dtype=torch.float64, device=accelerator.device)
    values = accelerator.reduce(values, "mean")
    return dict(zip(names, values.tolist(), strict=True))
