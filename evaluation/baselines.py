"""Reference predictors that a trained model must beat."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Dataset

from radiodiff.data.datasets import map_loader
from radiodiff.data.icassp.dataset import antenna_db_of, excess_unit
from radiodiff.data.transforms import denormalize
from radiodiff.metrics import rmse


def mean_map_rmse(train: Dataset, val: Dataset, batch_size: int = 64) -> float:
    """RMSE (grey scale [0, 1], FACTS §3) on `val` of predicting the mean training radio map everywhere.

    Requires every sample's `target` to have the same (1, H, W) shape (no random crops).
    """
    total, count = None, 0
    for batch in DataLoader(train, batch_size=batch_size):
        target = denormalize(batch["target"])
        total = target.sum(0) if total is None else total + target.sum(0)
        count += target.shape[0]
    mean_map = total / count
    errors = [rmse(mean_map.expand_as(t), t) for t in _targets(val, batch_size)]
    return float(torch.cat(errors).mean())


def _targets(dataset: Dataset, batch_size: int) -> list[torch.Tensor]:
    return [denormalize(batch["target"]) for batch in map_loader(dataset, batch_size)]


def mean_value_rmse(train: Dataset, val: Dataset, batch_size: int = 64) -> float:
    """RMSE on `val` of predicting each channel's mean training value everywhere (maps of any sizes)."""
    total, count = None, 0
    for batch in map_loader(train, batch_size):
        target = denormalize(batch["target"].double())
        sums = target.sum(dim=(0, 2, 3))
        total = sums if total is None else total + sums
        count += target[:, 0].numel()
    mean = (total / count).float()[None, :, None, None]
    errors = [rmse(mean.expand_as(t), t) for t in _targets(val, batch_size)]
    return float(torch.cat(errors).mean())


def free_space_pattern_db(cond: torch.Tensor) -> torch.Tensor:
    """The ICASSP layout's free-space-plus-pattern prediction of the path loss (B, 1, H, W) in dB: FSPL at the
    frequency minus the antenna gain toward each pixel, every wall ignored, which is the condition's antenna channel
    (radiodiff/data/icassp/antenna.py, dataset.py)."""
    return antenna_db_of(cond)


def free_space_pattern_rmse(dataset: Dataset, batch_size: int = 64) -> float:
    """Mean per-map RMSE of `free_space_pattern_db` on an ICASSP-layout radio split, on the radio map's [0, 1]
    scale as val/rmse is (`excess_unit`: no excess over free space anywhere)."""
    errors = []
    for batch in map_loader(dataset, batch_size):
        antenna = antenna_db_of(batch["cond"])
        errors.append(rmse(excess_unit(antenna, antenna), denormalize(batch["target"])))
    return float(torch.cat(errors).mean())


@dataclass(frozen=True)
class FreeSpaceBaseline:
    """Free-space path loss alone: grey = intercept + slope * log10(distance in pixels), 0 inside buildings.

    FSPL(dB) = 20 log10(d) + 20 log10(f_MHz) - 27.55 (ITU-R P.525) is linear in log10(d), and the
    RadioMapSeer grey scale is linear in dB (FACTS §1), so the fit is a straight line in log10(d); fitted by
    least squares on every outdoor pixel of the training maps.
    """

    intercept: float
    slope: float

    def predict(self, tx_pos: torch.Tensor, buildings: torch.Tensor) -> torch.Tensor:
        """Maps on the [0, 1] grey scale (B, 1, H, W) for tx positions (B, 2) and masks (B, 1, H, W)."""
        grey = self.intercept + self.slope * _log_distance(tx_pos, buildings.shape[-2:])
        return grey.clamp(0, 1) * (buildings < 0.5)


def fit_free_space(train: Dataset, batch_size: int = 64) -> FreeSpaceBaseline:
    """Least-squares fit of grey level against log10(distance) over the outdoor pixels of `train`."""
    sums = torch.zeros(5, dtype=torch.float64)  # n, sum x, sum y, sum xx, sum xy
    for batch in DataLoader(train, batch_size=batch_size):
        x = _log_distance(batch["tx_pos"], batch["target"].shape[-2:])
        y = denormalize(batch["target"].double())
        outdoor = batch["buildings"] < 0.5
        x, y = x[outdoor], y[outdoor]
        sums += torch.stack([torch.tensor(float(x.numel())), x.sum(), y.sum(), (x * x).sum(), (x * y).sum()])
    n, sx, sy, sxx, sxy = sums.tolist()
    slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    return FreeSpaceBaseline(intercept=(sy - slope * sx) / n, slope=slope)


def free_space_rmse(baseline: FreeSpaceBaseline, dataset: Dataset, batch_size: int = 64) -> float:
    """Mean per-image RMSE (FACTS §3) of the free-space baseline on `dataset`."""
    errors = []
    for batch in DataLoader(dataset, batch_size=batch_size):
        truth = denormalize(batch["target"])
        errors.append(rmse(baseline.predict(batch["tx_pos"], batch["buildings"]), truth))
    return float(torch.cat(errors).mean())


def _log_distance(tx_pos: torch.Tensor, size: torch.Size) -> torch.Tensor:
    """log10 of the distance in pixels (at least 1) from each tx to every pixel: (B, 1, H, W) float64."""
    rows = torch.arange(size[0], dtype=torch.float64)[:, None]
    cols = torch.arange(size[1], dtype=torch.float64)[None, :]
    tx = tx_pos.double()
    d2 = (rows - tx[:, 0, None, None]) ** 2 + (cols - tx[:, 1, None, None]) ** 2
    return torch.log10(d2.sqrt().clamp_min(1.0))[:, None]
