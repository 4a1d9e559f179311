"""Score one trained RadioDiff model on a whole split with sampler variants, beside fitted free space.

    python bench/bench_sampler_variants.py runs:/<ldm_run>/model 5:1 1:1 5:4

Each variant is N:K: N sampler steps, the mean of K samples per map (`diffusion.samples_averaged`). The model,
the maps, the seeds and the metric code (`radiodiff.metrics.score_maps`) are those of `evaluate` (5:1 with the
model's N reproduces its `test/rmse`); only the sampler changes.
Prints test RMSE / SSIM and the wall time of each variant (docs/quality.md records the figures).
"""

from __future__ import annotations

import argparse
import time

from torch.utils.data import DataLoader

from evaluation.baselines import fit_free_space
from radiodiff.data.generated import resolve_data_root
from radiodiff.data.radiomapseer import build_datasets
from radiodiff.data.transforms import denormalize
from radiodiff.inference import load_map_predictor
from radiodiff.metrics import score_maps
from radiodiff.seeding import sample_seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a RadioDiff model URI (runs:/<id>/model, models:/radiodiff@champion, ...)")
    parser.add_argument("variants", nargs="*", default=["5:1"], help="N:K pairs (default 5:1)")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    predictor = load_map_predictor(args.model)
    config = predictor.config
    datasets = build_datasets(resolve_data_root(config), config.data, seed=config.ldm_train.seed)
    maps = datasets[args.split]
    baseline = fit_free_space(datasets["train"])
    loader = DataLoader(maps, batch_size=16)
    free = score_maps((baseline.predict(b["tx_pos"], b["buildings"]).float(), denormalize(b["target"])) for b in loader)
    print(f"{len(maps)} {args.split} maps; free space: rmse {free['rmse'].mean():.4f} ssim {free['ssim'].mean():.4f}")
    for variant in args.variants:
        steps, k = (int(part) for part in variant.split(":"))
        predictor.config = config.with_overrides({"diffusion.samples_averaged": k})
        start = time.perf_counter()
        scores = score_maps(
            (predictor.predict_conditions(b["cond"], sample_seeds(b, config.ldm_train.seed), steps),
             denormalize(b["target"]))
            for b in loader
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        print(f"N={steps} K={k}: rmse {scores['rmse'].mean():.4f} ssim {scores['ssim'].mean():.4f} ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
