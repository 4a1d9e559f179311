"""The embedded generator: physics of the `fast` engine, the grey scale, determinism and the written layout."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from radiodiff.config import GeneratorConfig
from radiodiff.data.gain_scale import DB_PER_GREY, GAIN_MAX_DB, GAIN_MIN_DB, db_to_grey, grey_to_db
from radiodiff.data.generator import dataset_matches, generate_dataset, path_gain_db, preview_panel
from radiodiff.data.generator.corners import blocked_rays, corner_excess_polar
from radiodiff.data.generator.penetration import building_crossed_px
from radiodiff.data.generator.polar import PolarFrame
from radiodiff.data.generator.propagation import free_space_loss_db, knife_edge_loss_db
from radiodiff.viz import radio_map_rgb

FREQ_GHZ = 3.5


def _distance(shape: tuple[int, int], tx: tuple[int, int]) -> np.ndarray:
    return np.hypot(*np.ogrid[-tx[0] : shape[0] - tx[0], -tx[1] : shape[1] - tx[1]])


def _corner_map() -> tuple[np.ndarray, tuple[int, int]]:
    """A 96 x 96 map whose lower-right quadrant is one building; the tx in the street above it."""
    buildings = np.zeros((96, 96), dtype=np.uint8)
    buildings[40:, 40:] = 255
    return buildings, (20, 70)


def test_reference_values_of_the_formulas() -> None:
    # ITU-R P.525: 32.45 + 20 log10(1000 MHz) + 20 log10(1 km) = 92.45 dB.
    assert free_space_loss_db(np.array(1000.0), 1000.0) == pytest.approx(92.45, abs=1e-6)
    # ITU-R P.526 eq. (31): J(0) = 6.03 dB, J(1) = 13.92 dB, 0 dB below v = -0.78.
    assert knife_edge_loss_db(np.array([0.0, 1.0, -1.0])) == pytest.approx([6.03, 13.92, 0.0], abs=0.01)


def test_line_of_sight_follows_free_space_slope() -> None:
    buildings = np.zeros((128, 128), dtype=np.uint8)
    buildings[10:30, 10:118] = 255  # one building north of the tx; the south half stays in line of sight
    tx = (60, 64)
    gain = path_gain_db(buildings, tx, FREQ_GHZ, 1.0)
    distance = _distance(buildings.shape, tx)
    south = (np.arange(128)[:, None] > tx[0] + 1) & (distance > 2)
    slope, _ = np.polyfit(np.log10(distance[south]), gain[south], 1)
    assert slope == pytest.approx(-20.0, abs=0.2)
    expected = -free_space_loss_db(distance[south], FREQ_GHZ * 1e3)
    assert np.abs(gain[south] - expected).max() < 1e-3  # exactly free space in line of sight


def test_shadowed_pixel_is_weaker_than_line_of_sight_at_same_distance() -> None:
    buildings = np.zeros((128, 128), dtype=np.uint8)
    buildings[54:75, 60:70] = 255  # a 21 m wide, 10 m deep block east of the tx
    tx = (64, 30)
    gain = path_gain_db(buildings, tx, FREQ_GHZ, 1.0)
    shadowed, line_of_sight = gain[64, 100], gain[64 + 42, 30 + 56]  # both exactly 70 m from the tx
    assert line_of_sight == pytest.approx(-free_space_loss_db(np.array(70.0), FREQ_GHZ * 1e3), abs=1e-3)
    assert shadowed < line_of_sight - 15.0


def test_signal_bends_around_a_corner_into_the_side_street() -> None:
    buildings, tx = _corner_map()
    gain = path_gain_db(buildings, tx, FREQ_GHZ, 1.0)
    side_street = gain[60:90, 25:35]  # west of the building, hidden from the tx by its north-west corner
    grey = db_to_grey(side_street)
    assert grey.min() > 0 and side_street.min() > GAIN_MIN_DB + 20.0
    # Deeper into the side street the diffracted signal keeps falling.
    assert gain[88, 30] < gain[60, 30] < gain[45, 30]


def test_corner_excess_matches_the_bent_path_length() -> None:
    buildings, tx = _corner_map()
    frame = PolarFrame.around(buildings.shape, tx)
    crossed = building_crossed_px(frame.to_polar((buildings > 0).astype(np.float32)), frame.step_px)
    excess = frame.to_map(corner_excess_polar(blocked_rays(crossed), frame)[0])
    corner = np.array([39.5, 39.5])
    for pixel in [(70, 30), (90, 38), (60, 10)]:
        p, t = np.array(pixel, dtype=float), np.array(tx, dtype=float)
        exact = np.linalg.norm(t - corner) + np.linalg.norm(corner - p) - np.linalg.norm(t - p)
        assert excess[pixel] == pytest.approx(exact, abs=0.5)


def test_gain_scale_round_trip() -> None:
    gain = np.linspace(GAIN_MIN_DB, GAIN_MAX_DB, 1001)
    assert np.abs(grey_to_db(db_to_grey(gain)) - gain).max() <= DB_PER_GREY / 2 + 1e-9
    grey = np.arange(256, dtype=np.uint8)
    assert np.array_equal(db_to_grey(grey_to_db(grey)), grey)
    assert db_to_grey(np.array([-200.0, np.nan, -np.inf, 0.0])).tolist() == [0, 0, 0, 255]
    assert db_to_grey(np.full((2, 2), -60.0), np.eye(2)).tolist() == [[0, 222], [222, 0]]
    with pytest.raises(ValueError, match=r"0\.\.255"):
        grey_to_db(np.array([256]))


@pytest.fixture(scope="module")
def small_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same tiny data set written with 1 and 2 workers, and one with another seed."""
    base = GeneratorConfig(maps=3, tx_per_map=2, size=48, seed=0, workers=1)
    roots = {}
    for name, config in {
        "one": base,
        "two": replace(base, workers=2),
        "other_seed": replace(base, seed=1),
    }.items():
        roots[name] = tmp_path_factory.mktemp(name)
        generate_dataset(config, roots[name], progress=False)
    return roots


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_same_seed_writes_identical_files_whatever_the_workers(small_sets: dict[str, Path]) -> None:
    one, two, other = (_files(small_sets[k]) for k in ("one", "two", "other_seed"))
    assert one == two
    assert one.keys() == other.keys() and one != other


def test_written_layout(small_sets: dict[str, Path]) -> None:
    root = small_sets["one"]
    for m in range(3):
        buildings = cv2.imread(str(root / f"png/buildings_complete/{m}.png"), cv2.IMREAD_UNCHANGED)
        assert buildings.dtype == np.uint8 and buildings.shape == (48, 48)
        assert set(np.unique(buildings)) <= {0, 255}
        for k in range(2):
            antenna = cv2.imread(str(root / f"png/antennas/{m}_{k}.png"), cv2.IMREAD_UNCHANGED)
            gain = cv2.imread(str(root / f"gain/DPM/{m}_{k}.png"), cv2.IMREAD_UNCHANGED)
            assert antenna.shape == gain.shape == (48, 48) and gain.dtype == antenna.dtype == np.uint8
            assert np.count_nonzero(antenna) == 1 and antenna.max() == 255
            assert buildings[antenna > 0].max() == 0  # transmitter in free space
            assert gain[buildings > 0].max(initial=0) == 0 and gain[antenna > 0].item() > 200
    assert len(list(root.rglob("*.png"))) == 3 + 2 * 3 * 2
    metadata = json.loads((root / "generator.json").read_text())
    assert metadata["complete"] is True and metadata["engine_version"]
    config = GeneratorConfig(maps=3, tx_per_map=2, size=48, seed=0, workers=2)
    assert dataset_matches(root, config)
    assert not dataset_matches(root, replace(config, frequency_ghz=2.0))


def test_regenerating_removes_stale_maps_and_refuses_foreign_data(small_sets: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "set"
    generate_dataset(GeneratorConfig(maps=2, tx_per_map=2, size=32, workers=1), root, progress=False)
    generate_dataset(GeneratorConfig(maps=1, tx_per_map=1, size=32, workers=1), root, progress=False)
    assert sorted(p.name for p in root.rglob("*.png")) == ["0.png", "0_0.png", "0_0.png"]
    (root / "generator.json").unlink()
    with pytest.raises(FileExistsError, match=r"generator\.json"):
        generate_dataset(GeneratorConfig(maps=1, tx_per_map=1, size=32, workers=1), root, progress=False)


def test_preview_uses_one_fixed_colour_scale(small_sets: dict[str, Path]) -> None:
    panel = preview_panel(small_sets["one"], samples=2)
    assert panel.dtype == np.uint8 and panel.ndim == 3 and panel.shape[2] == 3
    assert panel.shape[1] == 3 * 48 + 2 * 4
    level = np.full((4, 4), 128, dtype=np.uint8)
    varied = level.copy()
    varied[0, 0] = 255
    assert np.array_equal(radio_map_rgb(level)[1, 1], radio_map_rgb(varied)[1, 1])  # no per-image min-max
    assert np.array_equal(radio_map_rgb(grey_to_db(level), scale="db"), radio_map_rgb(level))
