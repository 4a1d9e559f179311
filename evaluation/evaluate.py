"""The `evaluate` job: score a RadioDiff or RadioUNet model on a split, beside the free-space baseline and any
compared models; optionally register it.

Logs test/<metric> (FACTS §3, per map then averaged, plus rmse_db), baseline/test_<metric>, compare/<label>/<metric>
of each compared model (the same maps, the same metric code), a per-map table, galleries of the best and worst maps,
error histograms, and the comparison table with the published figures (run description and
`evaluation/comparison.json`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from accelerate import PartialState
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from evaluation.baselines import FreeSpaceBaseline, fit_free_space
from evaluation.comparison import MODEL_NAMES, ComparedModel, compared_models, model_title
from evaluation.figures import DB_RANGE, error_histograms, gallery
from evaluation.indoor import indoor_gallery, log_indoor_results, score_indoor
from evaluation.published import Row, comparison_markdown, comparison_table, data_label, measured_row, published_rows
from radiodiff.config import Config, ConfigError
from radiodiff.data.datasets import build_split_datasets, digest_of
from radiodiff.data.digest import dataset_digest, dataset_name
from radiodiff.data.generated import resolve_data_root
from radiodiff.data.radiomapseer import RadioMapSeerDataset, build_datasets
from radiodiff.data.transforms import denormalize
from radiodiff.inference import REGISTERED_NAMES, load_map_predictor, model_registered_name, model_run_id
from radiodiff.metrics import score_batch
from radiodiff.predictor import MapPredictor
from radiodiff.seeding import sample_seeds
from radiodiff.tracking import RunTracker, start_run

GALLERY_SIZE = 4
PIXELS_PER_BATCH = 4000  # signed-error sample per batch for the histogram
METRICS = ("nmse", "rmse", "ssim", "psnr", "mae")


def evaluate(
    config: Config,
    model_uri: str,
    split: str = "test",
    steps: int = 0,
    register: bool = False,
    nested: bool = False,
    compare: Sequence[str] = (),
) -> str:
    """Score `model_uri` on `split`; returns the evaluation run id.

    Args:
        config: the user's config; its data.data_dir and tracking section are used, the rest comes from the model.
        model_uri: a RadioDiff or RadioUNet model: `runs:/<id>/model`, `models:/radiodiff/<version>`,
            `models:/radiodiff@champion`, `models:/radiounet@champion`, a LoggedModel URI.
        split: train, val or test (of the model's split recipe).
        steps: sampler steps N of every RadioDiff model scored (0: each model's own); RadioUNet has none.
        register: register the model as a new version of its type's name (`radiodiff` or `radiounet`) and promote
            it to that name's champion if better.
        compare: more model URIs scored on the same maps with the same code (`compare/<label>/<metric>`), each a
            row of the comparison table.
    """
    device = str(PartialState().device)
    predictor = load_map_predictor(model_uri, device=device)
    eval_config = replace(predictor.config, tracking=config.tracking)
    if config.data.data_dir:
        eval_config = eval_config.with_overrides({"data.data_dir": config.data.data_dir})
    root = resolve_data_root(eval_config)
    if eval_config.data.layout == "icassp":
        if compare:
            raise ConfigError("evaluate: compare is not available on the icassp layout yet; evaluate each model alone")
        return _evaluate_indoor(predictor, eval_config, root, (model_uri, split, steps), register, nested)
    datasets = build_datasets(root, eval_config.data, seed=eval_config.ldm_train.seed)
    compared = compared_models(compare, datasets[split], device)  # before the run: a bad URI leaves no run
    baseline = fit_free_space(datasets["train"])
    with start_run("evaluate", eval_config, run_name=f"evaluate-{split}", nested=nested) as tracker:
        # Names of their own: `mlflow run -e evaluate` has already logged the entry point's parameters as given
        # (`steps`, `compare`, ...), and MLflow refuses a second value for a param.
        params = {"model_uri": model_uri, "split": split, "sampler_steps": steps or "model default"}
        tracker.log_params({**params, **({"compared_models": " ".join(compare)} if compare else {})})
        digest = dataset_digest(datasets[split].index)  # the same name and digest as the training runs record
        tracker.log_dataset(root, name=dataset_name(root), digest=digest, context="evaluation")
        scores = _score(predictor, baseline, datasets[split], steps, eval_config.ldm_train.seed, compared)
        data = data_label(dataset_name(root), split, len(scores["rmse"]), eval_config)
        metrics = _log_results(tracker, scores, predictor, datasets[split], steps, eval_config)
        rows = _comparison(tracker, scores, compared, (predictor.model_type, model_uri), data)
        tracker.log_table(comparison_table(rows), "evaluation/comparison.json")
        tracker.set_description(comparison_markdown(rows, eval_config, len(scores["rmse"])))
        if register:
            _register(tracker, model_uri, metrics, predictor.model_type, eval_config)
        return tracker.run_id


def _evaluate_indoor(
    predictor: MapPredictor,
    config: Config,
    root: Path,
    request: tuple[str, str, int],
    register: bool,
    nested: bool,
) -> str:
    """`evaluate` on an icassp-layout root (evaluation/indoor.py); request = (model URI, split, steps)."""
    model_uri, split, steps = request
    dataset = build_split_datasets(root, config.data, seed=config.ldm_train.seed)[split]
    seed = config.ldm_train.seed
    with start_run("evaluate", config, run_name=f"evaluate-{split}", nested=nested) as tracker:
        params = {"model_uri": model_uri, "split": split, "sampler_steps": steps or "model default"}
        tracker.log_params(params)
        tracker.log_dataset(root, name=dataset_name(root), digest=digest_of(dataset), context="evaluation")
        scores = score_indoor(predictor, dataset, steps, seed)
        measured_on = f"{dataset_name(root)} {split} split ({config.data.split}), {len(dataset)} maps"
        metrics = log_indoor_results(
            tracker, scores, lambda chosen: indoor_gallery(predictor, dataset, chosen, steps, seed), measured_on
        )
        if register:
            _register(tracker, model_uri, metrics, predictor.model_type, config)
        return tracker.run_id


def _score(
    predictor: MapPredictor,
    baseline: FreeSpaceBaseline,
    dataset: RadioMapSeerDataset,
    steps: int,
    seed: int,
    compared: Sequence[ComparedModel] = (),
) -> dict[str, np.ndarray]:
    """Per-map metrics of the model, the baseline and every compared model over the whole split (the same maps in
    the same batches), and a sample of signed errors of each."""
    columns: dict[str, list] = {}
    generator = torch.Generator().manual_seed(0)
    loaders = [DataLoader(dataset, batch_size=16), *(DataLoader(m.dataset, batch_size=16) for m in compared)]
    for batch, *own in tqdm(zip(*loaders, strict=True), total=len(loaders[0]), desc="evaluate", unit="batch"):
        truth = denormalize(batch["target"])
        pick = torch.randint(0, truth.numel(), (PIXELS_PER_BATCH,), generator=generator)
        predictions = {
            "": predictor.predict_conditions(batch["cond"], sample_seeds(batch, seed), steps or None).cpu(),
            "baseline_": baseline.predict(batch["tx_pos"], batch["buildings"]).float(),
        }
        for model, model_batch in zip(compared, own, strict=True):
            if model_batch["map_id"].tolist() != batch["map_id"].tolist():  # same maps, same order: a broken promise
                raise RuntimeError(f"compare model {model.uri}: its maps differ from the evaluated ones")
            seeds = sample_seeds(model_batch, model.seed)
            prediction = model.predictor.predict_conditions(model_batch["cond"], seeds, steps or None)
            predictions[f"{model.label}:"] = prediction
        for prefix, prediction in predictions.items():
            prediction = prediction.cpu()
            for name, values in score_batch(prediction, truth).items():
                columns.setdefault(f"{prefix}{name}", []).append(values.numpy())
            errors = (prediction - truth).flatten()[pick] * DB_RANGE
            columns.setdefault(f"{prefix}pixel_error_db", []).append(errors.numpy())
        columns.setdefault("map_id", []).append(np.asarray(batch["map_id"]))
        columns.setdefault("tx_id", []).append(np.asarray(batch["tx_id"]))
    return {name: np.concatenate(values) for name, values in columns.items()}


def _log_results(
    tracker: RunTracker,
    scores: dict[str, np.ndarray],
    predictor: MapPredictor,
    dataset: RadioMapSeerDataset,
    steps: int,
    config: Config,
) -> dict[str, float]:
    """The main model's metrics (`test/*`), the baseline's (`baseline/test_*`), the per-map table, galleries and
    error histograms; returns the main model's metrics."""
    metrics = {f"test/{k}": float(scores[k].mean()) for k in METRICS}
    metrics["test/rmse_db"] = metrics["test/rmse"] * DB_RANGE
    baseline = {f"baseline/test_{k}": float(scores[f"baseline_{k}"].mean()) for k in ("nmse", "rmse", "ssim", "psnr")}
    tracker.log_metrics({**metrics, **baseline, "test/maps": len(scores["rmse"])}, step=0)
    per_map = ("map_id", "tx_id", *METRICS, "baseline_rmse", *(k for k in scores if k.endswith(":rmse")))
    tracker.log_table({k.replace(":", "_"): scores[k].tolist() for k in per_map}, "evaluation/per_map.json")
    order = np.argsort(scores["rmse"])
    for name, chosen in (("best", order[:GALLERY_SIZE]), ("worst", order[::-1][:GALLERY_SIZE])):
        tracker.log_figure_png(_gallery(predictor, dataset, chosen, steps, config), f"evaluation/gallery_{name}.png")
    labels = {"": MODEL_NAMES.get(predictor.model_type, predictor.model_type), "baseline_": "free space"}
    labels.update({k.removesuffix("rmse"): k.removesuffix(":rmse") for k in scores if k.endswith(":rmse")})
    histograms = error_histograms(
        {label: scores[f"{prefix}pixel_error_db"] for prefix, label in labels.items()},
        {label: scores[f"{prefix}rmse"] * DB_RANGE for prefix, label in labels.items()},
    )
    tracker.log_figure_png(histograms, "evaluation/error_histograms.png")
    return metrics


def _comparison(
    tracker: RunTracker,
    scores: dict[str, np.ndarray],
    compared: Sequence[ComparedModel],
    main: tuple[str, str],
    data: str,
) -> list[Row]:
    """The comparison rows: free space, the evaluated model (`main`: its type and URI), each compared model, the
    published figures; logs each compared model's metrics as `compare/<label>/<metric>`."""

    def means(prefix: str) -> dict[str, float]:
        return {k: float(scores[f"{prefix}{k}"].mean()) for k in METRICS}

    model_type, model_uri = main
    rows = [
        measured_row("free space (fitted on the training maps)", "", data, means("baseline_")),
        measured_row(f"{model_title(model_type, model_run_id(model_uri))}, evaluated", model_uri, data, means("")),
    ]
    for model in compared:
        values = means(f"{model.label}:")
        values_db = {"rmse_db": values["rmse"] * DB_RANGE}
        tracker.log_metrics({f"compare/{model.label}/{k}": v for k, v in {**values, **values_db}.items()}, step=0)
        rows.append(measured_row(model.title, model.uri, data, values))
    return rows + published_rows()


def _gallery(
    predictor: MapPredictor, dataset: RadioMapSeerDataset, indices: np.ndarray, steps: int, config: Config
) -> np.ndarray:
    """Re-sample the chosen maps (sampling is seeded per map, so they are the maps that were scored)."""
    batch = next(iter(DataLoader(Subset(dataset, indices.tolist()), batch_size=len(indices))))
    prediction = predictor.predict_conditions(batch["cond"], sample_seeds(batch, config.ldm_train.seed), steps or None)
    truth = denormalize(batch["target"])[:, 0].numpy()
    return gallery(list(batch["buildings"][:, 0].numpy()), list(truth), list(prediction[:, 0].cpu().numpy()))


def _register(tracker: RunTracker, model_uri: str, metrics: dict[str, float], model_type: str, config: Config) -> None:
    """Register the model under its name (`model_registered_name`: a RadioUNet goes to `radiounet`, never to
    `radiodiff`; an icassp-layout model to `radiodiff-icassp`) and promote it to that name's champion if better."""
    from evaluation.registry import promote_if_better, register_version

    name = model_registered_name(model_type, config.data)
    names = {*REGISTERED_NAMES.values(), name}
    if model_uri.startswith(tuple(f"models:/{known}{sep}" for known in names for sep in "/@")):
        tracker.set_tags({"radiodiff.registry": f"{model_uri} is already a registered version: not registered again"})
        return
    version = register_version(model_uri, metrics, name, tags={"evaluation_run": tracker.run_id})
    _, message = promote_if_better(name, version.version)
    print(f"radiodiff evaluate: {name}: {message}")
    tracker.set_tags({"radiodiff.registered_version": version.version, "radiodiff.registry": message})
