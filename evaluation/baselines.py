"""Reference predictors that a trained model must beat."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from evaluation.metrics import rmse


def mean_map_rmse(train: Dataset, val: Dataset, batch_size: int = 64) -> float:
    """RMSE (grey scale [0, 1], FACTS §3) on `val` of predicting the mean training radio map everywhere.

    Requires every sample's `target` to have the same (1, H, W) shape (no random crops).
    """
    total, count = None, 0
    for batch in DataLoader(train, batch_size=batch_size):
        target = (batch["target"] + 1) / 2
        total = target.sum(0) if total is None else total + target.sum(0)
        count += target.shape[0]
    mean_map = total / count
    errors = [rmse(mean_map.expand_as(t), t) for t in _targets(val, batch_size)]
    return float(torch.cat(errors).mean())


def _targets(dataset: Dataset, batch_size: int) -> list[torch.Tensor]:
    return [(batch["target"] + 1) / 2 for batch in DataLoader(dataset, batch_size=batch_size)]
