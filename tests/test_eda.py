"""The `eda` job and its parts: every file checked, every inconsistency reported, figures and stats logged."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fixtures_radiomapseer import write_png, write_radiomapseer
from mlflow.tracking import MlflowClient
from PIL import Image

from radiodiff.cli import main
from radiodiff.config import ConfigError, GeneratorConfig, load
from radiodiff.data.generator import generate_dataset
from radiodiff.data.png_io import DataError
from radiodiff.eda import FIGURE_NAMES, analyse_dataset, scan_dataset
from radiodiff.eda.analysis import sample_pairs
from radiodiff.eda.los import grid_points, line_of_sight
from radiodiff.eda.png_header import read_png_header
from radiodiff.eda.stats import describe, describe_histogram
from radiodiff.jobs.eda import FIGURES_DIR, STATS_FILE, run_eda


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated data set of 4 maps x 3 transmitters at 64 px (written once for the module)."""
    root = tmp_path_factory.mktemp("eda") / "generated"
    generate_dataset(
        GeneratorConfig(maps=4, tx_per_map=3, size=64, metres_per_pixel=1.0, workers=1), root, progress=False
    )
    return root


def _run_eda(root: Path) -> tuple[object, dict, Path]:
    """Run the job on `root`; return the run, its stats.json and the downloaded figures folder."""
    config = load(None, {"data.data_dir": str(root), "tracking.system_metrics": False})
    run_id = run_eda(config)
    client = MlflowClient()
    local = Path(client.download_artifacts(run_id, "eda", str(root.parent / f"artifacts-{run_id}")))
    stats = json.loads((local / "stats.json").read_text())
    return client.get_run(run_id), stats, local / "figures"


def test_eda_logs_figures_and_stats_that_match_the_files(mlflow_store: str, generated: Path) -> None:
    run, stats, figures = _run_eda(generated)

    assert run.info.status == "FINISHED" and run.data.tags["radiodiff.entry_point"] == "eda"
    on_disk = {folder: len(list((generated / folder).glob("*.png"))) for folder in
               ("png/buildings_complete", "png/antennas", "gain/DPM")}  # fmt: skip
    assert on_disk == {"png/buildings_complete": 4, "png/antennas": 12, "gain/DPM": 12}
    counts = stats["counts"]
    assert (counts["maps"], counts["transmitters"], counts["radio_maps"]) == (4, 12, 12)
    assert counts["per_simulation"] == {"DPM": 12} and counts["measured_radio_maps"] == 12
    assert stats["image_sizes"]["gain/DPM"] == {"64x64": 12} and stats["inconsistencies"]["count"] == 0
    assert stats["ground"] == {"metres_per_pixel": 1.0, "frequency_ghz": 3.5}
    assert -147 <= stats["path_gain_db"]["street_pixels"]["mean"] <= -47
    assert 0 < stats["los_fraction_per_radio_map"]["mean"] < 1
    metrics = run.data.metrics
    assert (metrics["eda/maps"], metrics["eda/radio_maps"], metrics["eda/inconsistencies"]) == (4, 12, 0)

    pngs = sorted(figures.glob("*.png"))
    assert [p.stem for p in pngs] == sorted(FIGURE_NAMES) and len(pngs) >= 8
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in pngs}) == len(pngs)  # distinct figures
    for path in pngs:
        with Image.open(path) as image:
            assert image.mode == "RGB" and min(image.size) >= 300
    (dataset,) = run.inputs.dataset_inputs
    assert dataset.dataset.name == "generated" and json.loads(dataset.dataset.source)["uri"] == str(generated.resolve())
    assert run.data.params["eda.max_radio_maps"] == "2000"
    assert STATS_FILE == "eda/stats.json" and FIGURES_DIR == "eda/figures"


def test_eda_reports_a_missing_pair_and_a_truncated_png_and_finishes(
    mlflow_store: str, generated: Path, tmp_path: Path
) -> None:
    root = tmp_path / "broken"
    shutil.copytree(generated, root)
    (root / "png/antennas/1_2.png").unlink()
    truncated = root / "gain/DPM/2_0.png"
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])

    run, stats, figures = _run_eda(root)

    assert run.info.status == "FINISHED"
    found = {(issue["kind"], issue["path"]) for issue in stats["inconsistencies"]["list"]}
    assert found == {("radio_map_without_antenna", "gain/DPM/1_2.png"), ("unreadable", "gain/DPM/2_0.png")}
    assert stats["inconsistencies"]["by_kind"] == {"radio_map_without_antenna": 1, "unreadable": 1}
    assert (stats["counts"]["transmitters"], stats["counts"]["radio_maps"]) == (11, 12)
    assert stats["counts"]["measured_radio_maps"] == 10
    assert run.data.metrics["eda/inconsistencies"] == 2
    assert len(list(figures.glob("*.png"))) == len(FIGURE_NAMES)


def test_scan_finds_every_kind_of_inconsistency(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_radiomapseer(root, maps=4, tx=2, size=32, simulations=("DPM", "IRT2"), sizes={3: (40, 40)})
    (root / "gain/DPM/0_1.png").unlink()  # antenna 0_1 without its DPM radio map
    (root / "png/buildings_complete/1.png").unlink()  # map 1 without buildings
    write_png(root / "gain/IRT2/2_0.png", np.zeros((24, 32), np.uint8))  # one radio map of another size
    (root / "png/antennas/notes.txt").write_text("not an image")
    (root / "png/antennas/2_1.png").write_bytes(b"not a png at all")

    scan = scan_dataset(root, "DPM")
    found = {(issue.kind, issue.path) for issue in scan.issues}

    assert found == {
        ("antenna_without_radio_map", "png/antennas/0_1.png"),
        ("map_without_buildings", "png/buildings_complete/1.png"),
        ("unusual_size", "png/buildings_complete/3.png"),
        ("size_mismatch", "gain/IRT2/2_0.png"),
        ("unrecognised_file", "png/antennas/notes.txt"),
        ("unreadable", "png/antennas/2_1.png"),
    }
    assert scan.usual_size == (32, 32)
    assert scan.usable_pairs == ((0, 0), (2, 0), (3, 0), (3, 1))


def test_decoding_problems_become_issues(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_radiomapseer(root, maps=2, tx=2, size=32)
    write_png(root / "png/antennas/0_1.png", np.zeros((32, 32), np.uint8))  # no transmitter pixel
    colour = np.zeros((32, 32, 3), np.uint8)
    colour[..., 2] = 1
    write_png(root / "gain/DPM/1_0.png", colour)  # sound PNG, but not grey

    result = analyse_dataset(root, max_radio_maps=0)

    found = {(i["kind"], i["path"]) for i in result.stats["inconsistencies"]["list"]}
    assert found == {("no_transmitter", "png/antennas/0_1.png"), ("unreadable", "gain/DPM/1_0.png")}
    assert result.stats["counts"]["measured_radio_maps"] == 2
    assert result.stats["ground"] == {"metres_per_pixel": 1.0, "frequency_ghz": None}


def test_bad_root_or_simulation_is_one_line_and_opens_no_run(
    mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    write_radiomapseer(tmp_path / "root", maps=1, tx=1, size=32)
    with pytest.raises(DataError, match=r"gain/IRT2: simulation not found; available simulations: DPM"):
        scan_dataset(tmp_path / "root", "IRT2")
    assert main(["eda", "--data_dir", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == f"radiodiff eda: error: {tmp_path / 'nowhere'}: data root does not exist"
    assert main(["eda", "--data_dir", str(tmp_path / "root"), "--overrides", "data.simulation=IRT2"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert MlflowClient().search_runs([e.experiment_id for e in MlflowClient().search_experiments()]) == []


def test_the_sample_is_capped_reproducible_and_sorted() -> None:
    pairs = [(m, k) for m in range(10) for k in range(8)]
    sample = sample_pairs(pairs, 20, seed=3)
    assert len(set(sample)) == 20 and sample == sorted(sample) == sample_pairs(pairs, 20, seed=3)
    assert sample_pairs(pairs, 0, seed=3) == pairs == sample_pairs(pairs, 500, seed=3)
    with pytest.raises(ConfigError, match="max_radio_maps = -1 is out of range"):
        analyse_dataset(".", max_radio_maps=-1)


def test_png_header_reads_the_size_and_spots_truncation(tmp_path: Path) -> None:
    path = write_png(tmp_path / "a.png", np.zeros((20, 30), np.uint8))
    header = read_png_header(path)
    assert (header.size, header.bit_depth, header.colour_type) == ((20, 30), 8, 0)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"a\.png: truncated PNG"):
        read_png_header(path)
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"a\.png: empty file"):
        read_png_header(path)


def test_line_of_sight_is_blocked_by_a_wall() -> None:
    buildings = np.zeros((21, 21), bool)
    buildings[:, 10] = True  # a wall down the middle, with a gap at the top
    buildings[0, 10] = False
    points = np.array([[10, 5], [10, 15], [0, 18], [20, 2]])
    assert line_of_sight(buildings, (10.0, 2.0), points).tolist() == [True, False, False, True]
    assert line_of_sight(buildings, (0.0, 2.0), points[2:3]).tolist() == [True]  # through the gap
    assert grid_points((64, 64), 1024).shape == (1024, 2) and grid_points((10, 10), 1000).shape == (100, 2)


def test_histogram_statistics_equal_those_of_the_expanded_data() -> None:
    rng = np.random.default_rng(0)
    values = np.linspace(-140.0, -50.0, 12)
    counts = rng.integers(0, 50, size=12)
    expanded = np.repeat(values, counts)
    exact, from_counts = describe(expanded), describe_histogram(counts, values)
    for key in ("count", "mean", "std", "min", "max"):
        assert from_counts[key] == pytest.approx(exact[key])
    assert from_counts["p50"] == pytest.approx(float(np.percentile(expanded, 50, method="inverted_cdf")))
    assert describe([]) == {"count": 0} and describe_histogram(np.zeros(3), values[:3]) == {"count": 0}
