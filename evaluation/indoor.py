"""The `evaluate` job on the icassp layout: RMSE in dB per map, per challenge task and weighted, beside the
free-space-plus-pattern baseline (FACTS §4).

Logs test/rmse_db (the mean of the per-map RMSE in dB of the path loss) and the FACTS §3 metrics on the path loss
scaled to [0, 1] by PATHLOSS_MAX_DB (`test/rmse` = rmse_db / 160), the
baseline's `baseline/test_rmse_db`, and, on the challenge split, `test/task<k>_rmse_db` per task and
`test/weighted_rmse_db` = 0.3 Task 1 + 0.3 Task 2 + 0.4 Task 3 (and the same for the baseline); a per-map table,
galleries of the best and worst maps, error histograms, and a markdown table with the published challenge entries.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from evaluation.baselines import free_space_pattern_db
from evaluation.figures import error_histograms, gallery
from radiodiff.data.datasets import map_loader
from radiodiff.data.icassp.challenge import TASK_WEIGHTS
from radiodiff.data.icassp.dataset import antenna_db_of, pathloss_db
from radiodiff.data.icassp.scale import PATHLOSS_MAX_DB
from radiodiff.data.transforms import denormalize
from radiodiff.metrics import score_batch
from radiodiff.predictor import MapPredictor
from radiodiff.seeding import sample_seeds
from radiodiff.tracking import RunTracker

__all__ = ["PUBLISHED_DB", "indoor_gallery", "log_indoor_results", "score_indoor", "task_metrics"]

PUBLISHED_DB = (
    ("ICASSP 2025 challenge, 2nd place (UNet + indoor channel-model prior)", 9.50),
    ("ICASSP 2025 challenge, 4th place (transformer + FSPL/antenna channels)", 10.40),
)
"""Published weighted RMSE in dB on the real challenge data (FACTS §4)."""
BASELINE_NAME = "free space + antenna pattern"
METRICS = ("nmse", "rmse", "ssim", "psnr", "mae")
GALLERY_SIZE = 4
PIXELS_PER_BATCH = 4000
BATCH = 16


def score_indoor(predictor: MapPredictor, dataset: Dataset, steps: int, seed: int) -> dict[str, np.ndarray]:
    """Per-map metrics of the model (`<metric>`) and of the baseline (`baseline_<metric>`), with each map's id,
    task, building, antenna and frequency, and a sample of signed pixel errors in dB (`*pixel_error_db`)."""
    columns: dict[str, list] = {}
    generator = torch.Generator().manual_seed(0)
    loader = map_loader(dataset, BATCH)
    for batch in tqdm(loader, total=len(loader), desc="evaluate", unit="batch"):
        antenna = antenna_db_of(batch["cond"])
        truth = pathloss_db(denormalize(batch["target"]), antenna)
        excess = predictor.predict_conditions(batch["cond"], sample_seeds(batch, seed), steps or None).cpu()
        predictions = {"": pathloss_db(excess, antenna), "baseline_": free_space_pattern_db(batch["cond"])}
        pick = torch.randint(0, truth.numel(), (min(PIXELS_PER_BATCH, truth.numel()),), generator=generator)
        for prefix, prediction in predictions.items():
            for name, values in score_batch(prediction / PATHLOSS_MAX_DB, truth / PATHLOSS_MAX_DB).items():
                columns.setdefault(f"{prefix}{name}", []).append(values.numpy())
            errors = (prediction - truth).flatten()[pick]
            columns.setdefault(f"{prefix}pixel_error_db", []).append(errors.numpy())
        for key in ("map_id", "task", "building", "antenna", "frequency"):
            columns.setdefault(key, []).append(np.asarray(batch[key]))
    scores = {name: np.concatenate(values) for name, values in columns.items()}
    for prefix in ("", "baseline_"):
        scores[f"{prefix}rmse_db"] = scores[f"{prefix}rmse"] * PATHLOSS_MAX_DB
    return scores


def task_metrics(scores: dict[str, np.ndarray], prefix: str) -> dict[str, float]:
    """rmse_db per task present (`task<k>_rmse_db`) and, when all three are, the weighted challenge score."""
    out = {}
    for task in TASK_WEIGHTS:
        chosen = scores["task"] == task
        if chosen.any():
            out[f"task{task}_rmse_db"] = float(scores[f"{prefix}rmse_db"][chosen].mean())
    if len(out) == len(TASK_WEIGHTS):
        out["weighted_rmse_db"] = sum(w * out[f"task{t}_rmse_db"] for t, w in TASK_WEIGHTS.items())
    return out


def log_indoor_results(
    tracker: RunTracker,
    scores: dict[str, np.ndarray],
    regallery: Callable[[np.ndarray], np.ndarray],
    measured_on: str,
) -> dict[str, float]:
    """Metrics, per-map table, galleries, histograms and the comparison table; returns the model's metrics.

    Args:
        regallery: chosen per-map positions -> the gallery image of those maps.
        measured_on: what the figures were measured on (the data root, split and map count).
    """
    metrics = {f"test/{k}": float(scores[k].mean()) for k in (*METRICS, "rmse_db")}
    metrics.update({f"test/{k}": v for k, v in task_metrics(scores, "").items()})
    baseline = {f"baseline/test_{k}": float(scores[f"baseline_{k}"].mean()) for k in (*METRICS, "rmse_db")}
    baseline.update({f"baseline/test_{k}": v for k, v in task_metrics(scores, "baseline_").items()})
    tracker.log_metrics({**metrics, **baseline, "test/maps": len(scores["rmse"])}, step=0)
    per_map = ("map_id", "task", "building", "antenna", "frequency", *METRICS, "rmse_db", "baseline_rmse_db")
    tracker.log_table({k: scores[k].tolist() for k in per_map}, "evaluation/per_map.json")
    order = np.argsort(scores["rmse"])
    for name, chosen in (("best", order[:GALLERY_SIZE]), ("worst", order[::-1][:GALLERY_SIZE])):
        tracker.log_figure_png(regallery(chosen), f"evaluation/gallery_{name}.png")
    labels = {"": "RadioDiff", "baseline_": BASELINE_NAME}
    histograms = error_histograms(
        {label: scores[f"{prefix}pixel_error_db"] for prefix, label in labels.items()},
        {label: scores[f"{prefix}rmse_db"] for prefix, label in labels.items()},
    )
    tracker.log_figure_png(histograms, "evaluation/error_histograms.png")
    tracker.set_description(_markdown(metrics, baseline, measured_on))
    return metrics


def indoor_gallery(predictor: MapPredictor, dataset: Dataset, chosen: np.ndarray, steps: int, seed: int) -> np.ndarray:
    """Rows of walls | truth | prediction | |error| of the chosen maps' path loss (each at its own size, padded to the
    widest with black; sampling is seeded per map, so these are the maps that were scored)."""
    rows = []
    for i in chosen.tolist():
        item = dataset[i]
        batch = {k: (v[None] if torch.is_tensor(v) else torch.tensor([v])) for k, v in item.items()}
        excess = predictor.predict_conditions(batch["cond"], sample_seeds(batch, seed), steps or None).cpu()
        antenna = antenna_db_of(batch["cond"])
        truth, prediction = (
            pathloss_db(u, antenna)[0, 0].numpy() / PATHLOSS_MAX_DB for u in (denormalize(batch["target"]), excess)
        )
        rows.append(gallery([item["buildings"][0].numpy()], [truth], [prediction]))
    width = max(r.shape[1] for r in rows)
    return np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows], axis=0)


def _markdown(metrics: dict[str, float], baseline: dict[str, float], measured_on: str) -> str:
    """The comparison table in dB: the evaluated model, the baseline, the published challenge entries."""

    def cells(values: dict[str, float], prefix: str) -> str:
        keys = ("rmse_db", "task1_rmse_db", "task2_rmse_db", "task3_rmse_db", "weighted_rmse_db")
        return " | ".join(f"{values[prefix + k]:.2f}" if prefix + k in values else "" for k in keys)

    lines = [
        f"**Measured on**: {measured_on}; RMSE in dB per map, then averaged (FACTS §4).",
        "",
        "| method | data | RMSE (dB) | Task 1 | Task 2 | Task 3 | weighted |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| RadioDiff, evaluated | this evaluation | {cells(metrics, 'test/')} |",
        f"| {BASELINE_NAME} | this evaluation | {cells(baseline, 'baseline/test_')} |",
    ]
    lines += [f"| {name} | ICASSP 2025 test data (published) | | | | | {db:.2f} |" for name, db in PUBLISHED_DB]
    return "\n".join(lines) + "\n"
