"""The challenge's two CSV formats: transmitter positions and radiation patterns (read strictly, written exactly).

Positions_B{b}_Ant{a}_f{f}.csv: a header `,X,Y,Azimuth` (the first column, the sample index, is unnamed as
pandas writes it; any name is accepted) and one row per sample: `s,X,Y,Azimuth` with X, Y in pixels and the
azimuth in degrees. Which image axis X is, is checked by `axis.py`; the generator writes X = column, Y = row.

Ant{a}_Pattern.csv: PATTERN_ANGLES rows of one gain in dBi each, row k for k degrees from the boresight; a
non-numeric first line is taken as a header.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radiodiff.data.icassp.layout import ANTENNA_IDS, PATTERN_ANGLES, pattern_file
from radiodiff.data.png_io import DataError

__all__ = [
    "POSITION_COLUMNS",
    "TxPosition",
    "read_pattern",
    "read_pattern_folder",
    "read_positions",
    "write_pattern",
    "write_positions",
]

POSITION_COLUMNS = ("X", "Y", "Azimuth")
"""The named columns of a positions file, after the index column."""


@dataclass(frozen=True)
class TxPosition:
    """One row of a positions file."""

    x: float
    """The X column, in pixels."""
    y: float
    """The Y column, in pixels."""
    azimuth_deg: float
    """Boresight direction in degrees (see antenna.py for the angle convention)."""


def read_positions(path: Path) -> dict[int, TxPosition]:
    """Read a positions CSV.

    Args:
        path: `Positions_B{b}_Ant{a}_f{f}.csv`.
    Returns:
        sample id -> TxPosition.
    Raises:
        DataError: missing file, wrong header or column count, a non-numeric value or a repeated index.
    """
    rows = _rows(path)
    header = [cell.strip() for cell in rows[0]] if rows else []
    if len(header) != 4 or tuple(h.lower() for h in header[1:]) != tuple(c.lower() for c in POSITION_COLUMNS):
        raise DataError(f"{path}: header {header}; expected 4 columns: index, {', '.join(POSITION_COLUMNS)}")
    positions: dict[int, TxPosition] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 4:
            raise DataError(f"{path}: line {line} has {len(row)} columns; expected 4 (index, X, Y, Azimuth)")
        index, x, y, azimuth = (_number(path, line, cell) for cell in row)
        if index != int(index) or int(index) in positions:
            raise DataError(f"{path}: line {line}: index {row[0]!r} is not a new whole number")
        positions[int(index)] = TxPosition(x, y, azimuth)
    return positions


def write_positions(path: Path, positions: dict[int, TxPosition]) -> None:
    """Write a positions CSV in the challenge's format (whole-number values written without decimals)."""
    lines = [",".join(("", *POSITION_COLUMNS))]
    for index in sorted(positions):
        p = positions[index]
        lines.append(",".join(_format(v) for v in (index, p.x, p.y, p.azimuth_deg)))
    Path(path).write_text("\n".join(lines) + "\n")


def read_pattern(path: Path) -> np.ndarray:
    """Read a radiation pattern.

    Args:
        path: `Ant{a}_Pattern.csv`.
    Returns:
        (PATTERN_ANGLES,) float64 gains in dBi, index k = k degrees from the boresight.
    Raises:
        DataError: missing file, a row with more than one column, a non-numeric value, or not 360 rows.
    """
    rows = [row for row in _rows(path) if row]
    if rows and not _is_number(rows[0][0]):
        rows = rows[1:]  # a header line
    if len(rows) != PATTERN_ANGLES:
        raise DataError(f"{path}: {len(rows)} rows of gains; expected {PATTERN_ANGLES} (one per degree)")
    for line, row in enumerate(rows, start=1):
        if len(row) != 1:
            raise DataError(f"{path}: row {line} has {len(row)} columns; expected 1 (the gain in dBi)")
    return np.array([_number(path, line, row[0]) for line, row in enumerate(rows, start=1)], dtype=np.float64)


def write_pattern(path: Path, gains_dbi: np.ndarray) -> None:
    """Write PATTERN_ANGLES gains, one per line, with 4 decimals."""
    gains = np.asarray(gains_dbi, dtype=np.float64)
    if gains.shape != (PATTERN_ANGLES,):
        raise ValueError(f"{path}: pattern has shape {gains.shape}; expected ({PATTERN_ANGLES},)")
    Path(path).write_text("".join(f"{g:.4f}\n" for g in gains))


def _rows(path: Path) -> list[list[str]]:
    try:
        with open(path, newline="") as handle:
            return list(csv.reader(handle))
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{path}: unreadable CSV ({err})") from None


def _number(path: Path, line: int, cell: str) -> float:
    if not _is_number(cell):
        raise DataError(f"{path}: line {line}: {cell!r} is not a finite number")
    return float(cell)


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def read_pattern_folder(root: Path) -> dict[int, np.ndarray]:
    """Every `Radiation_Patterns/Ant{a}_Pattern.csv` of a data root: antenna id -> (360,) gains in dBi.

    Raises:
        DataError: the root has no pattern file, or one is malformed (the message names it).
    """
    found = {a: read_pattern(pattern_file(Path(root), a)) for a in ANTENNA_IDS if pattern_file(Path(root), a).is_file()}
    if not found:
        raise DataError(
            f"{pattern_file(Path(root), ANTENNA_IDS[0]).parent}: no antenna pattern file Ant<a>_Pattern.csv"
        )
    return found
