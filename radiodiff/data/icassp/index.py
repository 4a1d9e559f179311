"""Scanning a data root in the ICASSP challenge layout (layout.py) into an index of its samples.

One `os.scandir` per task folder and a regex per name (files that do not match are ignored). Every input must
have its output, its positions row and its antenna's pattern; each positions and pattern file is read once, and
the positions' axis order is decided from the distance channels of a few samples (axis.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from radiodiff.data.icassp import layout
from radiodiff.data.icassp.axis import TOLERANCE_PX, AxisOrder, decide_axis_order, tx_row_col
from radiodiff.data.icassp.png import png_size, read_png
from radiodiff.data.icassp.tables import TxPosition, read_pattern, read_positions
from radiodiff.data.png_io import DataError

__all__ = ["IcasspIndex", "IcasspSample", "index_icassp"]

_DISTANCE_CHANNEL = 2


@dataclass(frozen=True)
class IcasspSample:
    """One sample: its identity, its files, its image size and its transmitter."""

    task: int
    building: int
    antenna: int
    frequency: int
    """The file name's frequency token (layout.FREQUENCIES_MHZ)."""
    sample: int
    input_path: Path
    output_path: Path
    pattern_path: Path
    size: tuple[int, int]
    """(H, W) of the input and the output."""
    tx_row: float
    tx_col: float
    azimuth_deg: float

    @property
    def frequency_mhz(self) -> float:
        """The carrier frequency in MHz."""
        return layout.FREQUENCIES_MHZ[self.frequency]

    @property
    def key(self) -> tuple[int, int, int, int, int]:
        """(task, building, antenna, frequency, sample): the index's sort order."""
        return (self.task, self.building, self.antenna, self.frequency, self.sample)


@dataclass(frozen=True)
class IcasspIndex:
    """The samples found under one data root."""

    root: Path
    samples: tuple[IcasspSample, ...]
    """Sorted by `IcasspSample.key`."""
    axis_order: AxisOrder
    """How the positions files' X and Y map onto rows and columns (decided or given)."""
    patterns: Mapping[int, np.ndarray] = field(compare=False)
    """antenna id -> (360,) gains in dBi."""

    def values(self, name: str) -> tuple[int, ...]:
        """Sorted distinct values of a sample field (`building`, `antenna`, `frequency`, `task`)."""
        return tuple(sorted({getattr(s, name) for s in self.samples}))


def index_icassp(
    root: str | Path, tasks: Sequence[int] = layout.TASK_IDS, axis_order: AxisOrder | None = None
) -> IcasspIndex:
    """Scan a data root and check that every input has what it needs.

    Args:
        root: folder in the ICASSP challenge layout.
        tasks: the Task_{t}_ICASSP folders to read (missing ones are skipped, but one must hold samples).
        axis_order: how to read the positions' X and Y; None decides it from the distance channels.
    Returns:
        The IcasspIndex.
    Raises:
        DataError: a folder is missing, no samples, or an input lacks its output, positions row or pattern, or a
            file is malformed (the one-line message names the file).
    """
    root = Path(root)
    _check_folders(root)
    found = sorted(_scan_inputs(root, tasks))
    if not found:
        names = "B{b}_Ant{a}_f{f}_S{s}.png"
        raise DataError(f"{root / layout.INPUTS_DIR}: no inputs named {names} in tasks {list(tasks)}")
    positions: dict[tuple[int, int, int], dict[int, TxPosition]] = {}
    patterns: dict[int, np.ndarray] = {}
    rows: list[tuple[tuple[int, ...], Path, TxPosition]] = []
    for key in found:
        _task, building, antenna, frequency, sample = key
        source = layout.input_file(root, *key)
        _check_frequency(source, frequency)
        if antenna not in patterns:
            patterns[antenna] = read_pattern(_needed(layout.pattern_file(root, antenna), source))
        table = (building, antenna, frequency)
        if table not in positions:
            positions[table] = read_positions(_needed(layout.positions_file(root, *table), source))
        if sample not in positions[table]:
            raise DataError(f"{layout.positions_file(root, *table)}: no row for sample {sample}, but {source} needs it")
        rows.append((key, source, positions[table][sample]))
    order = axis_order or decide_axis_order(_distance_samples(rows))
    samples = tuple(_sample(root, key, source, position, order) for key, source, position in rows)
    return IcasspIndex(root=root, samples=samples, axis_order=order, patterns=patterns)


def _check_folders(root: Path) -> None:
    if not root.is_dir():
        raise DataError(f"{root}: data root does not exist or is not a folder")
    needed = [layout.INPUTS_DIR, layout.OUTPUTS_DIR, layout.POSITIONS_DIR, layout.PATTERNS_DIR]
    missing = [str(name) for name in needed if not (root / name).is_dir()]
    if missing:
        raise DataError(f"{root} is not an ICASSP challenge data root: missing folder(s) {', '.join(missing)}")


def _scan_inputs(root: Path, tasks: Sequence[int]) -> Iterator[tuple[int, int, int, int, int]]:
    """(task, building, antenna, frequency, sample) of every input that matches the naming."""
    for task in tasks:
        folder = root / layout.INPUTS_DIR / layout.task_dir_name(task)
        if not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            for entry in entries:
                match = layout.SAMPLE_NAME.match(entry.name)
                if match:
                    yield (task, *(int(g) for g in match.groups()))


def _check_frequency(source: Path, frequency: int) -> None:
    if frequency not in layout.FREQUENCIES_MHZ:
        raise DataError(f"{source}: frequency token f{frequency}; expected one of {sorted(layout.FREQUENCIES_MHZ)}")


def _needed(path: Path, source: Path) -> Path:
    if not path.is_file():
        raise DataError(f"{path}: file not found, but {source} needs it")
    return path


def _distance_samples(rows: list) -> Iterator[tuple[Path, np.ndarray, TxPosition]]:
    """The distance channels of the samples whose X and Y are far enough apart to tell the axis orders apart."""
    for _key, source, position in rows:
        if abs(position.x - position.y) > 2 * TOLERANCE_PX:
            yield source, read_png(source, channels=3)[..., _DISTANCE_CHANNEL], position


def _sample(root: Path, key: tuple[int, ...], source: Path, position: TxPosition, order: AxisOrder) -> IcasspSample:
    task, building, antenna, frequency, sample = key
    target = layout.output_file(root, *key)
    if not target.is_file():
        raise DataError(f"{target}: file not found, but {source} needs it")
    size, target_size = png_size(source), png_size(target)
    if size != target_size:
        raise DataError(f"{target}: size (H, W) = {target_size}, but its input {source.name} is {size}")
    tx_row, tx_col = tx_row_col(position, order)
    return IcasspSample(
        task=task,
        building=building,
        antenna=antenna,
        frequency=frequency,
        sample=sample,
        input_path=source,
        output_path=target,
        pattern_path=layout.pattern_file(root, antenna),
        size=size,
        tx_row=tx_row,
        tx_col=tx_col,
        azimuth_deg=position.azimuth_deg,
    )
