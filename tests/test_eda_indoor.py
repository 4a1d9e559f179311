"""`eda` on a generated indoor set (the ICASSP layout): one MLflow run with the stats, metrics and figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from mlflow.tracking import MlflowClient
from PIL import Image

from radiodiff.cli import main
from radiodiff.config import load
from radiodiff.data.icassp.writer import generate_indoor_dataset
from radiodiff.eda.indoor import INDOOR_FIGURES, analyse_indoor
from radiodiff.jobs.eda import FIGURES_DIR, STATS_FILE

SMALL_INDOOR = (
    "data.layout=icassp generator.indoor_buildings=3 generator.indoor_min_side=40 generator.indoor_max_side=64 "
    "generator.indoor_tx_per_setting=1 generator.workers=1 tracking.system_metrics=false"
)


def test_eda_on_the_generated_indoor_set_logs_its_stats_and_figures(home: Path) -> None:
    assert main(["eda", "--overrides", SMALL_INDOOR]) == 0
    client = MlflowClient()
    (run,) = client.search_runs(
        [client.get_experiment_by_name("Default").experiment_id], "tags.`radiodiff.entry_point` = 'eda'"
    )
    metrics = run.data.metrics
    assert metrics["eda/radio_maps"] == 3 * 5 * 3 and metrics["eda/buildings"] == 3
    assert 15 < metrics["eda/distance_slope_db_per_decade"] < 40  # free space 20 dB/decade, walls add with distance
    assert metrics["eda/excess_mean_db"] > 0  # the walls add loss over free space with the pattern
    local = Path(client.download_artifacts(run.info.run_id, "eda", str(home / "dl")))
    stats = json.loads((local / Path(STATS_FILE).name).read_text())
    assert stats["counts"]["per_antenna"] == {str(a): 9 for a in range(1, 6)}
    assert stats["axis_order"] and stats["image_sizes"]["distinct"] >= 2
    for name in (*INDOOR_FIGURES, "samples"):
        image = np.asarray(Image.open(local / Path(FIGURES_DIR).name / f"{name}.png"))
        assert (
            image.ndim == 3 and image.shape[0] > 100 and len(np.unique(image.reshape(-1, image.shape[2]), axis=0)) > 10
        )
    assert next(d.dataset.name for d in run.inputs.dataset_inputs).startswith("generated-")


def test_a_capped_sample_that_misses_a_frequency_still_gets_its_stats(tmp_path: Path) -> None:
    generator = load(None, SMALL_INDOOR.replace("indoor_buildings=3", "indoor_buildings=1")).generator
    generate_indoor_dataset(generator, tmp_path, progress=False)
    result = analyse_indoor(tmp_path, max_radio_maps=2)
    by_frequency = result.stats["pathloss_db_by"]["frequency"]
    assert result.stats["counts"]["measured"] == 2 and set(by_frequency) == {"1", "2", "3"}
    assert sum(1 for summary in by_frequency.values() if summary) <= 2  # an unmeasured frequency: an empty summary
    assert 0 < result.stats["distance_intercept_db"] < 80  # about FSPL at 1 m (31..43 dB) plus the walls
