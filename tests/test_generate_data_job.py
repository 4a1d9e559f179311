"""`mlflow run . -e generate_data` end to end: the layout on disk and what the MLflow run records."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient
from PIL import Image
from training_helpers import PROJECT_ROOT


def test_mlflow_run_generate_data_writes_the_layout_and_records_the_run(mlflow_store: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "generated"
    command = [
        sys.executable, "-m", "mlflow", "run", str(PROJECT_ROOT), "-e", "generate_data", "--env-manager", "local",
        "-P", f"out_dir={out_dir}", "-P", "maps=8", "-P", "tx_per_map=4", "-P", "size=256",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]

    buildings = sorted(p.name for p in (out_dir / "png" / "buildings_complete").iterdir())
    gains = list((out_dir / "gain" / "DPM").iterdir())
    assert buildings == sorted(f"{m}.png" for m in range(8))
    assert len(gains) == 32 and len(list((out_dir / "png" / "antennas").iterdir())) == 32
    assert Image.open(out_dir / "gain" / "DPM" / "7_3.png").size == (256, 256)

    client = MlflowClient()
    (run,) = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert (params["cfg.generator.maps"], params["cfg.generator.tx_per_map"], params["cfg.generator.size"]) == (
        "8",
        "4",
        "256",
    )
    assert params["cfg.generator.frequency_ghz"] == "3.5" and params["cfg.generator.engine"] == "fast"
    assert run.data.tags["radiodiff.entry_point"] == "generate_data"
    assert run.data.metrics["generate/radio_maps"] == 32
    images = [a.path for a in client.list_artifacts(run.info.run_id, "images")]
    assert any(p.startswith("images/preview+step+0") for p in images)
    assert [d.dataset.source for d in run.inputs.dataset_inputs] == [f'{{"uri": "{out_dir.resolve()}"}}']


def test_generate_data_bad_parameter_is_one_line(mlflow_store: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "radiodiff", "generate_data", "--config", str(PROJECT_ROOT / "configs/default.yaml"),
         "--size", "8", "--out_dir", str(tmp_path / "x")],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"radiodiff generate_data: error: {PROJECT_ROOT / 'configs/default.yaml'}: "
        "generator.size = 8 is out of range; allowed: 0 (data.image_size) or 32 .. 2048"
    )
