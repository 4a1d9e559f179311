"""The ICASSP challenge reader on hand-written files in the exact layout: index, axis order, loading, errors,
splits and padding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from radiodiff.data.icassp import layout
from radiodiff.data.icassp.axis import axis_order_of
from radiodiff.data.icassp.batching import PAD_VALUE, pad_batch
from radiodiff.data.icassp.index import index_icassp
from radiodiff.data.icassp.loader import load_sample
from radiodiff.data.icassp.splits import group_split, held_out_split, random_split
from radiodiff.data.icassp.tables import TxPosition
from radiodiff.data.png_io import DataError

HEIGHT, WIDTH = 21, 34  # non-square on purpose
TX = {0: (5, 25), 1: (15, 4)}  # sample -> (row, col); row != col so the axis order is decidable


def _input_image(row: int, col: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    rows, cols = np.indices((height, width))
    reflectance = np.zeros((height, width), np.uint8)
    transmittance = np.zeros((height, width), np.uint8)
    reflectance[:, 12], transmittance[:, 12] = 7, 7  # one brick wall; the rest is air
    distance = np.rint(np.hypot(rows - row, cols - col) * layout.METRES_PER_PIXEL).astype(np.uint8)
    return np.stack([reflectance, transmittance, distance], axis=2)


def write_root(root: Path, x_is_row: bool = False, building: int = 3, antenna: int = 2, frequency: int = 1) -> Path:
    """A tiny data set of one building, antenna and frequency, two samples, in Task 3, with real files."""
    for task_dir in (layout.INPUTS_DIR, layout.OUTPUTS_DIR):
        (root / task_dir / layout.task_dir_name(3)).mkdir(parents=True, exist_ok=True)
    (root / layout.POSITIONS_DIR).mkdir(exist_ok=True)
    (root / layout.PATTERNS_DIR).mkdir(exist_ok=True)
    lines = [",X,Y,Azimuth"]
    for s, (row, col) in TX.items():
        Image.fromarray(_input_image(row, col)).save(layout.input_file(root, 3, building, antenna, frequency, s))
        loss = np.full((HEIGHT, WIDTH), 60 + s, np.uint8)
        Image.fromarray(loss).save(layout.output_file(root, 3, building, antenna, frequency, s))
        x, y = (row, col) if x_is_row else (col, row)
        lines.append(f"{s},{x},{y},{30 * s}")
    layout.positions_file(root, building, antenna, frequency).write_text("\n".join(lines) + "\n")
    layout.pattern_file(root, antenna).write_text("".join(f"{-abs(k - 180) / 10:.1f}\n" for k in range(360)))
    return root


def test_index_reads_the_exact_layout_and_keeps_non_square_sizes(tmp_path: Path) -> None:
    index = index_icassp(write_root(tmp_path))
    assert [s.key for s in index.samples] == [(3, 3, 2, 1, 0), (3, 3, 2, 1, 1)]
    first = index.samples[0]
    assert first.size == (HEIGHT, WIDTH) and first.frequency_mhz == 868.0
    assert first.input_path.name == "B3_Ant2_f1_S0.png"
    assert first.output_path == tmp_path / "Outputs/Task_3_ICASSP/B3_Ant2_f1_S0.png"
    assert index.values("building") == (3,) and index.patterns[2].shape == (360,)

    arrays = load_sample(index, index.samples[1])
    assert arrays.inputs.shape == (3, HEIGHT, WIDTH) and arrays.inputs.dtype == np.float32
    assert arrays.pathloss_db.shape == (HEIGHT, WIDTH) and float(arrays.pathloss_db[0, 0]) == 61.0
    assert (arrays.tx_row, arrays.tx_col, arrays.azimuth_deg) == (15.0, 4.0, 30.0)
    assert float(arrays.inputs[2].min()) == 0.0 and float(arrays.inputs[1, 0, 12]) == 7.0


@pytest.mark.parametrize(("x_is_row", "order"), [(False, "x_is_column"), (True, "x_is_row")])
def test_the_positions_axis_order_is_decided_by_the_distance_minimum(
    tmp_path: Path, x_is_row: bool, order: str
) -> None:
    index = index_icassp(write_root(tmp_path, x_is_row=x_is_row))
    assert index.axis_order == order
    assert [(s.tx_row, s.tx_col) for s in index.samples] == [(5.0, 25.0), (15.0, 4.0)]  # right either way


def test_axis_order_of_a_single_sample() -> None:
    distance = _input_image(5, 25)[..., 2]
    assert axis_order_of(distance, TxPosition(x=25, y=5, azimuth_deg=0)) == "x_is_column"
    assert axis_order_of(distance, TxPosition(x=5, y=25, azimuth_deg=0)) == "x_is_row"
    assert axis_order_of(_input_image(9, 9)[..., 2], TxPosition(x=9, y=9, azimuth_deg=0)) is None  # undecidable
    with pytest.raises(DataError, match=r"B3.png: the distance channel's minimum is at \(row, col\) = \(5.0, 25.0\)"):
        axis_order_of(distance, TxPosition(x=2, y=2, azimuth_deg=0), where="B3.png")


def _one_line(err: pytest.ExceptionInfo, path: Path) -> str:
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    return message


def test_a_positions_row_far_from_the_minimum_names_the_input(tmp_path: Path) -> None:
    root = write_root(tmp_path)
    csv = layout.positions_file(root, 3, 2, 1)
    csv.write_text(csv.read_text().replace("0,25,5,0", "0,2,30,0"))
    with pytest.raises(DataError) as err:
        index_icassp(root)
    assert "neither axis order fits" in _one_line(err, layout.input_file(root, 3, 3, 2, 1, 0))


CORRUPTIONS = {
    "unreadable input PNG": (lambda r: layout.input_file(r, 3, 3, 2, 1, 0), b"not a png", "truncated or corrupt PNG"),
    "pattern with 359 rows": (lambda r: layout.pattern_file(r, 2), "0\n" * 359, "359 rows of gains; expected 360"),
    "pattern with 2 columns": (lambda r: layout.pattern_file(r, 2), "0,1\n" * 360, "row 1 has 2 columns"),
    "pattern with a word": (lambda r: layout.pattern_file(r, 2), "0\n" * 359 + "x\n", "'x' is not a finite number"),
    "positions with wrong columns": (
        lambda r: layout.positions_file(r, 3, 2, 1),
        ",X,Y\n0,25,5\n1,4,15\n",
        "expected 4 columns: index, X, Y, Azimuth",
    ),
    "positions row of 3 cells": (
        lambda r: layout.positions_file(r, 3, 2, 1),
        ",X,Y,Azimuth\n0,25,5\n",
        "line 2 has 3 columns",
    ),
    "positions without sample 1": (
        lambda r: layout.positions_file(r, 3, 2, 1),
        ",X,Y,Azimuth\n0,25,5,0\n",
        "no row for sample 1, but",
    ),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_a_corrupt_file_is_a_one_line_error_naming_it(tmp_path: Path, case: str) -> None:
    root = write_root(tmp_path)
    where, content, expected = CORRUPTIONS[case]
    path = where(root)
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises(DataError) as err:
        index_icassp(root)
    assert expected in _one_line(err, path)


def test_an_input_with_one_channel_is_refused_naming_it(tmp_path: Path) -> None:
    root = write_root(tmp_path)
    path = layout.input_file(root, 3, 3, 2, 1, 1)
    Image.fromarray(np.zeros((HEIGHT, WIDTH), np.uint8)).save(path)
    with pytest.raises(DataError) as err:
        load_sample(index_icassp(root), index_icassp(root).samples[1])
    assert "PNG has 1 channel(s); expected 3" in _one_line(err, path)


def test_an_output_with_three_channels_is_refused_naming_it(tmp_path: Path) -> None:
    root = write_root(tmp_path)
    path = layout.output_file(root, 3, 3, 2, 1, 0)
    Image.fromarray(np.zeros((HEIGHT, WIDTH, 3), np.uint8)).save(path)
    index = index_icassp(root)
    with pytest.raises(DataError) as err:
        load_sample(index, index.samples[0])
    assert "PNG has 3 channel(s); expected 1" in _one_line(err, path)


@pytest.mark.parametrize(
    "missing",
    [lambda r: layout.output_file(r, 3, 3, 2, 1, 1), lambda r: layout.positions_file(r, 3, 2, 1),
     lambda r: layout.pattern_file(r, 2)],
)  # fmt: skip
def test_an_input_without_what_it_needs_names_the_missing_file(tmp_path: Path, missing) -> None:
    root = write_root(tmp_path)
    path = missing(root)
    path.unlink()
    with pytest.raises(DataError) as err:
        index_icassp(root)
    assert "file not found, but" in _one_line(err, path)


def test_output_of_another_size_and_missing_folders_are_errors(tmp_path: Path) -> None:
    root = write_root(tmp_path / "a")
    path = layout.output_file(root, 3, 3, 2, 1, 0)
    Image.fromarray(np.zeros((HEIGHT, WIDTH + 1), np.uint8)).save(path)
    with pytest.raises(DataError) as err:
        index_icassp(root)
    assert "size (H, W) = (21, 35), but its input B3_Ant2_f1_S0.png is (21, 34)" in _one_line(err, path)
    (tmp_path / "b" / "Inputs").mkdir(parents=True)
    with pytest.raises(DataError, match="missing folder\\(s\\) Outputs, Positions, Radiation_Patterns"):
        index_icassp(tmp_path / "b")


def _many_samples(tmp_path: Path) -> list:
    samples = []
    for building in (1, 2, 3, 4):
        for antenna in (1, 2, 3):
            for frequency in (1, 2, 3):
                root = write_root(tmp_path / f"{building}{antenna}{frequency}", False, building, antenna, frequency)
                samples += index_icassp(root).samples
    return samples


def test_splits_hold_out_whole_groups_and_are_deterministic(tmp_path: Path) -> None:
    samples = _many_samples(tmp_path)
    for group in ("building", "frequency", "antenna"):
        split = group_split(samples, group, seed=1)
        values = {name: {getattr(s, group) for s in part} for name, part in split.items()}
        assert all(values[name] for name in values) and not (values["train"] & (values["val"] | values["test"]))
        assert sum(len(part) for part in split.values()) == len(samples)
        assert split == group_split(list(reversed(samples)), group, seed=1)
    held = held_out_split(samples, "frequency", val=[2], test=[3])
    assert {s.frequency for s in held["train"]} == {1} and {s.frequency for s in held["test"]} == {3}
    rand = random_split(samples, 0.2, 0.2, seed=3)
    assert rand == random_split(samples, 0.2, 0.2, seed=3) != random_split(samples, 0.2, 0.2, seed=4)
    assert sorted(s.key for part in rand.values() for s in part) == sorted(s.key for s in samples)
    with pytest.raises(DataError, match="leaves val empty"):
        held_out_split(samples, "antenna", val=[9], test=[1])


def test_pad_batch_marks_the_padding_with_a_value_no_pixel_takes() -> None:
    a, b = np.zeros((3, 4, 7), np.float32), np.ones((3, 6, 5), np.float32)
    batch, valid = pad_batch([a, b], multiple_of=4)
    assert batch.shape == (2, 3, 8, 8) and valid.shape == (2, 8, 8)
    assert valid[0].sum() == 28 and valid[1].sum() == 30
    assert np.all(batch[0][:, ~valid[0]] == PAD_VALUE) and np.all(batch[0][:, valid[0]] == 0)
    assert PAD_VALUE < 0  # every real channel is >= 0
