"""The indoor generator: the challenge layout it writes, read back by the reader; determinism; the physics of
its samples; the config section; and the `generate_data` wiring (job, MLproject, entry point)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from mlflow.projects._project_spec import load_project
from mlflow.tracking import MlflowClient
from training_helpers import PROJECT_ROOT

from radiodiff.config import ConfigError, load
from radiodiff.config_sections import GeneratorConfig
from radiodiff.data.generated import fingerprint
from radiodiff.data.icassp import layout
from radiodiff.data.icassp.antenna import antenna_channel_db
from radiodiff.data.icassp.axis import distance_minimum
from radiodiff.data.icassp.index import index_icassp
from radiodiff.data.icassp.loader import load_sample
from radiodiff.data.icassp.materials import MATERIALS
from radiodiff.data.icassp.multiwall import crossed_wall_loss_db, wall_loss_scale
from radiodiff.data.icassp.preview import indoor_preview_panel
from radiodiff.data.icassp.simulate import plan_building
from radiodiff.data.icassp.writer import generate_indoor_dataset, indoor_dataset_matches
from radiodiff.data.png_io import DataError

SMALL = GeneratorConfig(
    seed=5, workers=1, indoor_buildings=2, indoor_min_side=32, indoor_max_side=56, indoor_tx_per_setting=2
)


@pytest.fixture(scope="module")
def small_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("indoor")
    generate_indoor_dataset(SMALL, root, progress=False)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_writer_makes_the_challenge_layout_that_the_reader_reads(small_root: Path) -> None:
    index = index_icassp(small_root)
    assert len(index.samples) == 2 * 5 * 3 * 2 and index.axis_order == "x_is_column"
    assert {(s.task, s.antenna, s.frequency) for s in index.samples if s.task < 3} == {(1, 1, 1), (2, 1, 2), (2, 1, 3)}
    assert (small_root / "Inputs/Task_3_ICASSP/B2_Ant5_f3_S1.png").is_file()
    assert (small_root / "Positions/Positions_B1_Ant4_f2.csv").read_text().startswith(",X,Y,Azimuth\n0,")
    for sample in index.samples:
        plan = plan_building(SMALL.seed, sample.building, SMALL)
        assert sample.size == plan.transmittance.shape  # each building keeps its own, non-square size
    assert len({s.size for s in index.samples}) == 2 and any(h != w for h, w in {s.size for s in index.samples})


def test_a_generated_sample_is_the_multiwall_model_of_its_own_input(small_root: Path) -> None:
    index = index_icassp(small_root)
    sample = next(s for s in index.samples if s.antenna == 4 and s.frequency == 3)
    arrays = load_sample(index, sample)
    reflectance, transmittance, distance = arrays.inputs
    assert distance_minimum(distance) == pytest.approx((sample.tx_row, sample.tx_col), abs=0.01)
    assert set(np.unique(transmittance)) <= {0, *(m.transmittance for m in MATERIALS)}
    assert set(np.unique(reflectance)) <= {0, *(m.reflectance for m in MATERIALS)}
    shape, row, col = transmittance.shape, int(sample.tx_row), int(sample.tx_col)
    free = antenna_channel_db(shape, row, col, sample.azimuth_deg, arrays.pattern_dbi, arrays.frequency_mhz)
    walls = crossed_wall_loss_db(transmittance, row, col) * wall_loss_scale(arrays.frequency_mhz)
    expected = np.clip(np.rint(free + walls), 0, 160)
    np.testing.assert_array_equal(arrays.pathloss_db, expected)
    assert walls.max() > 0 and len(np.unique(transmittance)) >= 3  # walls of several materials are crossed


def test_same_seed_same_bytes_whatever_the_workers(small_root: Path, tmp_path: Path) -> None:
    twin = replace(SMALL, workers=2)
    generate_indoor_dataset(twin, tmp_path / "twin", progress=False)
    assert _files(tmp_path / "twin") == _files(small_root)
    other = replace(SMALL, seed=6)
    generate_indoor_dataset(other, tmp_path / "other", progress=False)
    assert _files(tmp_path / "other") != _files(small_root)


def test_generator_json_marks_a_complete_set_and_stale_files_go(small_root: Path, tmp_path: Path) -> None:
    assert indoor_dataset_matches(small_root, SMALL)
    assert not indoor_dataset_matches(small_root, replace(SMALL, seed=6))
    root = tmp_path / "shrink"
    generate_indoor_dataset(SMALL, root, progress=False)
    fewer = replace(SMALL, indoor_buildings=1, indoor_tx_per_setting=1)
    generate_indoor_dataset(fewer, root, progress=False)
    assert len(index_icassp(root).samples) == 15 and not list(root.rglob("B2_*"))


def test_a_folder_with_real_challenge_files_is_not_overwritten(tmp_path: Path) -> None:
    real = tmp_path / "real" / "Positions"
    real.mkdir(parents=True)
    (real / "Positions_B1_Ant1_f1.csv").write_text(",X,Y,Azimuth\n")
    with pytest.raises(DataError, match=r"holds ICASSP-layout files but no generator\.json"):
        generate_indoor_dataset(SMALL, tmp_path / "real", progress=False)


def test_preview_panel_shows_every_channel(small_root: Path) -> None:
    panel = indoor_preview_panel(small_root, samples=3)
    assert panel.ndim == 3 and panel.shape[2] == 3 and panel.dtype == np.uint8
    assert panel.shape[1] >= 4 * 2 * 32 and len(np.unique(panel.reshape(-1, 3), axis=0)) > 20


def test_the_indoor_fields_are_validated_and_leave_the_outdoor_fingerprint_alone() -> None:
    config = load(None, "data.layout=icassp generator.indoor_buildings=2 generator.indoor_max_side=64")
    assert (config.generator.indoor_buildings, config.generator.indoor_max_side) == (2, 64)
    with pytest.raises(ConfigError, match=r"generator.indoor_max_side = 30 is out of range; allowed: indoor_min_side"):
        load(None, "generator.indoor_max_side=30")
    with pytest.raises(ConfigError, match=r"data\.layout = 'indoor' is not allowed"):
        load(None, "data.layout=indoor")
    outdoor, indoor = load(None).generator, load(None, "generator.indoor_buildings=3").generator
    assert (
        fingerprint(outdoor) == fingerprint(indoor) == "435b6b1a4066"
    )  # the CPU default's hash before #14 (at 18fa3a0)
    assert fingerprint(outdoor, "icassp") != fingerprint(indoor, "icassp")
    assert fingerprint(outdoor, "icassp") == fingerprint(load(None, "generator.maps=7").generator, "icassp")


def test_mlproject_layout_parameter_reaches_the_config() -> None:
    entry = load_project(str(PROJECT_ROOT)).get_entry_point("generate_data")
    argv = shlex.split(entry.compute_command({"layout": "icassp"}, storage_dir=None))
    assert argv[argv.index("--layout") + 1] == "icassp"


def test_generate_data_job_logs_the_indoor_set_and_its_preview(mlflow_store: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "indoor"
    command = [
        sys.executable, str(PROJECT_ROOT / "entrypoints/generate_data.py"), "--layout", "icassp", "--out_dir",
        str(out_dir), "--overrides", "generator.indoor_buildings=1 generator.indoor_tx_per_setting=1",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(index_icassp(out_dir).samples) == 15
    client = MlflowClient()
    (run,) = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    assert run.data.params["cfg.data.layout"] == "icassp" and run.data.metrics["generate/radio_maps"] == 15
    assert run.info.run_name.startswith("generated-indoor-")
    assert any(a.path.startswith("images/preview") for a in client.list_artifacts(run.info.run_id, "images"))


def test_generate_data_refuses_real_challenge_files_with_one_line(mlflow_store: str, tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / layout.POSITIONS_DIR).mkdir(parents=True)
    (real / layout.POSITIONS_DIR / "Positions_B1_Ant1_f1.csv").write_text(",X,Y,Azimuth\n")
    command = [sys.executable, "-m", "radiodiff", "generate_data", "--layout", "icassp",
               "--out_dir", str(real)]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"radiodiff generate_data: error: {real} holds ICASSP-layout files but no generator.json: not a generated "
        "data set, refusing to overwrite it; choose another output folder"
    )
