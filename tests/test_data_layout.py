"""PNG reading and RadioMapSeer layout scanning on real files, with one-line errors naming the culprit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from fixtures_radiomapseer import write_png, write_radiomapseer
from PIL import Image

from radiodiff.data.layout import index_radiomapseer
from radiodiff.data.png_io import DataError, read_grey_png


@contextmanager
def raises_one_line(match: str) -> Iterator[None]:
    """Expect a DataError whose message matches `match` and fits on one line."""
    with pytest.raises(DataError, match=match) as err:
        yield
    assert "\n" not in str(err.value)


def test_read_grey_png_round_trip(tmp_path: Path) -> None:
    pixels = np.arange(12 * 20, dtype=np.uint8).reshape(12, 20)
    out = read_grey_png(write_png(tmp_path / "a.png", pixels))
    assert out.dtype == np.uint8 and out.shape == (12, 20)
    np.testing.assert_array_equal(out, pixels)


def test_read_grey_png_accepts_grey_stored_as_rgb_and_opaque_rgba(tmp_path: Path) -> None:
    grey = np.random.default_rng(0).integers(0, 256, (8, 9), dtype=np.uint8)
    rgb = np.stack([grey] * 3, axis=-1)
    rgba = np.concatenate([rgb, np.full((8, 9, 1), 255, np.uint8)], axis=-1)
    np.testing.assert_array_equal(read_grey_png(write_png(tmp_path / "rgb.png", rgb)), grey)
    np.testing.assert_array_equal(read_grey_png(write_png(tmp_path / "rgba.png", rgba)), grey)


def test_read_grey_png_missing_file(tmp_path: Path) -> None:
    with raises_one_line(r"nope\.png: file not found"):
        read_grey_png(tmp_path / "nope.png")


def test_read_grey_png_truncated_file(tmp_path: Path) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (32, 32), dtype=np.uint8)
    path = write_png(tmp_path / "cut.png", noise)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with raises_one_line(r"cut\.png: truncated or corrupt PNG"):
        read_grey_png(path)


def test_read_grey_png_not_a_png(tmp_path: Path) -> None:
    path = tmp_path / "junk.png"
    path.write_bytes(b"not an image")
    with raises_one_line(r"junk\.png: truncated or corrupt PNG"):
        read_grey_png(path)


def test_read_grey_png_refuses_colour(tmp_path: Path) -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 200
    with raises_one_line(r"colour\.png: PNG is colour"):
        read_grey_png(write_png(tmp_path / "colour.png", rgb))


def test_read_grey_png_refuses_16_bit(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((4, 4), 1000, np.uint16)).save(path)
    with raises_one_line(r"deep\.png: unsupported PNG mode"):
        read_grey_png(path)


def test_index_lists_maps_pairs_and_tx_ids(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=3, tx=4, simulations=("DPM", "IRT2"))
    (tmp_path / "gain/DPM/notes.txt").write_text("ignored")
    (tmp_path / "gain/DPM/2_3.png").unlink()
    index = index_radiomapseer(tmp_path, "DPM")
    assert index.map_ids == (0, 1, 2)
    assert len(index.pairs) == 11 and index.pairs[0] == (0, 0)
    assert index.tx_ids[2] == (0, 1, 2) and index.tx_ids[0] == (0, 1, 2, 3)
    assert index.gain_path(1, 2) == tmp_path / "gain/DPM/1_2.png"
    assert index.antenna_path(1, 2).is_file() and index.buildings_path(1).is_file()


def test_index_map_ids_sort_numerically(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=[2, 10, 1], tx=1, size=8)
    assert index_radiomapseer(tmp_path).map_ids == (1, 2, 10)


def test_root_without_layout_says_what_is_missing(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=1, tx=1)
    for child in (tmp_path / "png/buildings_complete").iterdir():
        child.unlink()
    (tmp_path / "png/buildings_complete").rmdir()
    with raises_one_line("is not a RadioMapSeer data root: missing folder png/buildings_complete$"):
        index_radiomapseer(tmp_path)


def test_empty_folder_lists_every_missing_folder(tmp_path: Path) -> None:
    with raises_one_line("missing folders png/buildings_complete, png/antennas, gain"):
        index_radiomapseer(tmp_path)


def test_missing_root(tmp_path: Path) -> None:
    with raises_one_line("does not exist"):
        index_radiomapseer(tmp_path / "absent")


def test_unknown_simulation_lists_available_ones(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=1, tx=1, simulations=("carsDPM", "DPM"))
    with raises_one_line("gain/IRT2 not found in .*; available simulations: DPM, carsDPM$"):
        index_radiomapseer(tmp_path, "IRT2")


def test_missing_antenna_file_is_named(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=2, tx=3)
    (tmp_path / "png/antennas/1_2.png").unlink()
    with raises_one_line(r"png/antennas/1_2\.png: file not found, but gain/DPM/1_2\.png needs it$"):
        index_radiomapseer(tmp_path)


def test_missing_buildings_file_is_named(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=2, tx=1)
    (tmp_path / "png/buildings_complete/0.png").unlink()
    with raises_one_line(r"png/buildings_complete/0\.png: file not found"):
        index_radiomapseer(tmp_path)


def test_dynamic_setting_needs_cars_folder_and_files(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=2, tx=1)
    with raises_one_line(r"missing folder png/cars \(the dynamic setting needs car masks\)"):
        index_radiomapseer(tmp_path, "DPM", "dynamic")
    write_png(tmp_path / "png/cars/0.png", np.zeros((32, 32), np.uint8))
    with raises_one_line(r"png/cars/1\.png: file not found"):
        index_radiomapseer(tmp_path, "DPM", "dynamic")


def test_simulation_without_radio_maps(tmp_path: Path) -> None:
    write_radiomapseer(tmp_path, maps=1, tx=1)
    (tmp_path / "gain/IRT2").mkdir()
    with raises_one_line(r"gain/IRT2: no radio maps"):
        index_radiomapseer(tmp_path, "IRT2")
