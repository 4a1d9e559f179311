"""The `evaluate` job: score a RadioDiff model on a split, beside the free-space baseline; optionally register it.

Logs test/<metric> (FACTS §3, per map then averaged, plus rmse_db), baseline/test_<metric>, a per-map table,
galleries of the best and worst maps, error histograms, and a comparison with the published figures in the run
description.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from accelerate import PartialState
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from evaluation.baselines import FreeSpaceBaseline, fit_free_space
from evaluation.figures import DB_RANGE, error_histograms, gallery
from evaluation.published import comparison_markdown
from radiodiff.config import Config
from radiodiff.data.digest import dataset_digest, dataset_name
from radiodiff.data.generated import resolve_data_root
from radiodiff.data.radiomapseer import RadioMapSeerDataset, build_datasets
from radiodiff.data.transforms import denormalize
from radiodiff.inference import MODEL_REGISTERED_NAME, resolve_model_package
from radiodiff.metrics import score_batch
from radiodiff.predictor import RadioMapPredictor
from radiodiff.seeding import sample_seeds
from radiodiff.tracking import RunTracker, start_run

GALLERY_SIZE = 4
PIXELS_PER_BATCH = 4000  # signed-error sample per batch for the histogram


def evaluate(
    config: Config, model_uri: str, split: str = "test", steps: int = 0, register: bool = False, nested: bool = False
) -> str:
    """Score `model_uri` on `split`; returns the evaluation run id.

    Args:
        config: the user's config; its data.data_dir and tracking section are used, the rest comes from the model.
        model_uri: `runs:/<id>/model`, `models:/radiodiff/<version>`, `models:/radiodiff@champion`, a LoggedModel URI.
        split: train, val or test (of the model's split recipe).
        steps: sampler steps N (0: the model's own).
        register: register the model as a new `radiodiff` version and promote it to champion if better.
    """
    predictor = RadioMapPredictor(resolve_model_package(model_uri), device=str(PartialState().device))
    eval_config = replace(predictor.config, tracking=config.tracking)
    if config.data.data_dir:
        eval_config = eval_config.with_overrides({"data.data_dir": config.data.data_dir})
    root = resolve_data_root(eval_config)
    datasets = build_datasets(root, eval_config.data, seed=eval_config.ldm_train.seed)
    baseline = fit_free_space(datasets["train"])
    with start_run("evaluate", eval_config, run_name=f"evaluate-{split}", nested=nested) as tracker:
        tracker.log_params({"model_uri": model_uri, "split": split, "steps": steps or "model default"})
        digest = dataset_digest(datasets[split].index)  # the same name and digest as the training runs record
        tracker.log_dataset(root, name=dataset_name(root), digest=digest, context="evaluation")
        scores = _score(predictor, baseline, datasets[split], steps, eval_config.ldm_train.seed)
        metrics = _log_results(tracker, scores, predictor, datasets[split], steps, eval_config)
        if register:
            _register(tracker, model_uri, metrics)
        return tracker.run_id


def _score(
    predictor: RadioMapPredictor, baseline: FreeSpaceBaseline, dataset: RadioMapSeerDataset, steps: int, seed: int
) -> dict[str, np.ndarray]:
    """Per-map metrics of the model and the baseline over the whole split, and a sample of signed errors."""
    columns: dict[str, list] = {}
    generator = torch.Generator().manual_seed(0)
    for batch in tqdm(DataLoader(dataset, batch_size=16), desc="evaluate", unit="batch"):
        truth = denormalize(batch["target"])
        prediction = predictor.predict_conditions(batch["cond"], sample_seeds(batch, seed), steps or None).cpu()
        reference = baseline.predict(batch["tx_pos"], batch["buildings"]).float()
        for name, values in score_batch(prediction, truth).items():
            columns.setdefault(name, []).append(values.numpy())
        for name, values in score_batch(reference, truth).items():
            columns.setdefault(f"baseline_{name}", []).append(values.numpy())
        pick = torch.randint(0, truth.numel(), (PIXELS_PER_BATCH,), generator=generator)
        columns.setdefault("pixel_error_db", []).append(((prediction - truth).flatten()[pick] * DB_RANGE).numpy())
        columns.setdefault("baseline_pixel_error_db", []).append(
            ((reference - truth).flatten()[pick] * DB_RANGE).numpy()
        )
        columns.setdefault("map_id", []).append(np.asarray(batch["map_id"]))
        columns.setdefault("tx_id", []).append(np.asarray(batch["tx_id"]))
    return {name: np.concatenate(values) for name, values in columns.items()}


def _log_results(
    tracker: RunTracker,
    scores: dict[str, np.ndarray],
    predictor: RadioMapPredictor,
    dataset: RadioMapSeerDataset,
    steps: int,
    config: Config,
) -> dict[str, float]:
    metrics = {f"test/{k}": float(scores[k].mean()) for k in ("nmse", "rmse", "ssim", "psnr", "mae")}
    metrics["test/rmse_db"] = metrics["test/rmse"] * DB_RANGE
    baseline = {f"baseline/test_{k}": float(scores[f"baseline_{k}"].mean()) for k in ("nmse", "rmse", "ssim", "psnr")}
    tracker.log_metrics({**metrics, **baseline, "test/maps": len(scores["rmse"])}, step=0)
    per_map = ("map_id", "tx_id", "nmse", "rmse", "ssim", "psnr", "mae", "baseline_rmse")
    tracker.log_table({k: scores[k].tolist() for k in per_map}, "evaluation/per_map.json")
    order = np.argsort(scores["rmse"])
    for name, chosen in (("best", order[:GALLERY_SIZE]), ("worst", order[::-1][:GALLERY_SIZE])):
        tracker.log_figure_png(_gallery(predictor, dataset, chosen, steps, config), f"evaluation/gallery_{name}.png")
    histograms = error_histograms(
        {"RadioDiff": scores["pixel_error_db"], "free space": scores["baseline_pixel_error_db"]},
        {"RadioDiff": scores["rmse"] * DB_RANGE, "free space": scores["baseline_rmse"] * DB_RANGE},
    )
    tracker.log_figure_png(histograms, "evaluation/error_histograms.png")
    tracker.set_description(comparison_markdown(metrics, baseline, config, len(scores["rmse"])))
    return metrics


def _gallery(
    predictor: RadioMapPredictor, dataset: RadioMapSeerDataset, indices: np.ndarray, steps: int, config: Config
) -> np.ndarray:
    """Re-sample the chosen maps (sampling is seeded per map, so they are the maps that were scored)."""
    batch = next(iter(DataLoader(Subset(dataset, indices.tolist()), batch_size=len(indices))))
    prediction = predictor.predict_conditions(batch["cond"], sample_seeds(batch, config.ldm_train.seed), steps or None)
    truth = denormalize(batch["target"])[:, 0].numpy()
    return gallery(list(batch["buildings"][:, 0].numpy()), list(truth), list(prediction[:, 0].cpu().numpy()))


def _register(tracker: RunTracker, model_uri: str, metrics: dict[str, float]) -> None:
    from evaluation.registry import promote_if_better, register_version

    if model_uri.startswith((f"models:/{MODEL_REGISTERED_NAME}/", f"models:/{MODEL_REGISTERED_NAME}@")):
        tracker.set_tags({"radiodiff.registry": f"{model_uri} is already a registered version: not registered again"})
        return
    version = register_version(model_uri, metrics, MODEL_REGISTERED_NAME, tags={"evaluation_run": tracker.run_id})
    _, message = promote_if_better(MODEL_REGISTERED_NAME, version.version)
    print(f"radiodiff evaluate: {message}")
    tracker.set_tags({"radiodiff.registered_version": version.version, "radiodiff.registry": message})
