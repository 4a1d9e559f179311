"""A model summary: parameters and forward FLOPs per top-level module, and in total (logged with every run)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def model_summary(model: nn.Module, forward: Callable[[nn.Module], object]) -> dict[str, list]:
    """Rows per direct child module plus a total row.

    Args:
        model: the network.
        forward: runs one forward pass of `model` at the configured size (batch 1), e.g.
            `lambda m: m(torch.zeros(1, 1, 64, 64))`.
    Returns:
        Columns {"module": [...], "parameters": [...], "gflops": [...]}; a multiply-add counts as 2 FLOPs
        (convolutions, linear layers, attention matmuls; FlopCounterMode does not count norms or FFTs).
    """
    counter = FlopCounterMode(display=False)
    was_training = model.training
    model.eval()
    try:
        with counter, torch.no_grad():
            forward(model)
    finally:
        model.train(was_training)
    flops = {name: sum(counts.values()) for name, counts in counter.get_flop_counts().items()}
    root = type(model).__name__
    rows = [(name, child) for name, child in model.named_children()]
    columns: dict[str, list] = {"module": [], "parameters": [], "gflops": []}
    for name, child in rows:
        columns["module"].append(name)
        columns["parameters"].append(sum(p.numel() for p in child.parameters()))
        columns["gflops"].append(flops.get(f"{root}.{name}", 0) / 1e9)
    columns["module"].append("total")
    columns["parameters"].append(sum(p.numel() for p in model.parameters()))
    columns["gflops"].append(flops.get("Global", 0) / 1e9)
    return columns
