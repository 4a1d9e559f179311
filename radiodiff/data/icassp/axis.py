"""Which image axis the positions CSV's X column is, decided from the distance channel (FACTS §4).

The B channel of an input is the distance to the transmitter, so its minimum marks the transmitter pixel.
Entrants' public loaders read the columns swapped (x_ant = Y, y_ant = X), so a reader must not assume: for a
sample with X != Y, exactly one of (row, col) = (Y, X) ("x_is_column") and (row, col) = (X, Y) ("x_is_row")
lands on the minimum. The indoor generator writes X = column, Y = row (`GENERATOR_AXIS_ORDER`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np

from radiodiff.data.icassp.tables import TxPosition
from radiodiff.data.png_io import DataError

__all__ = [
    "AXIS_ORDERS",
    "GENERATOR_AXIS_ORDER",
    "AxisOrder",
    "axis_order_of",
    "decide_axis_order",
    "distance_minimum",
    "tx_row_col",
]

AxisOrder = Literal["x_is_column", "x_is_row"]
AXIS_ORDERS: tuple[AxisOrder, ...] = ("x_is_column", "x_is_row")
GENERATOR_AXIS_ORDER: AxisOrder = "x_is_column"
"""What the indoor generator writes: X = column (left to right), Y = row (top to bottom)."""

TOLERANCE_PX = 3.0
"""How far (pixels) the CSV position may lie from the distance minimum's centroid: the B channel counts whole
metres, so its minimum is a disk of about 2 px radius around the transmitter."""


def tx_row_col(position: TxPosition, order: AxisOrder) -> tuple[float, float]:
    """(row, col) of a positions row under an axis order."""
    return (position.y, position.x) if order == "x_is_column" else (position.x, position.y)


def distance_minimum(distance: np.ndarray) -> tuple[float, float]:
    """(row, col) centroid of the pixels where the (H, W) distance channel takes its minimum."""
    rows, cols = np.nonzero(distance == distance.min())
    return float(rows.mean()), float(cols.mean())


def axis_order_of(distance: np.ndarray, position: TxPosition, where: str = "") -> AxisOrder | None:
    """The axis order under which `position` is the distance channel's minimum.

    Args:
        distance: (H, W) B channel of the sample's input.
        position: the sample's positions row.
        where: the files to name in an error.
    Returns:
        The fitting order; None when both fit (X and Y within the tolerance of each other).
    Raises:
        DataError: neither order puts the transmitter at the minimum (the CSV and the image disagree).
    """
    minimum = np.array(distance_minimum(distance))
    fits = [o for o in AXIS_ORDERS if np.hypot(*(minimum - tx_row_col(position, o))) <= TOLERANCE_PX]
    if not fits:
        raise DataError(
            f"{where}: the distance channel's minimum is at (row, col) = ({minimum[0]:.1f}, {minimum[1]:.1f}), "
            f"but the positions row has X = {position.x:g}, Y = {position.y:g} (neither axis order fits)"
        )
    return fits[0] if len(fits) == 1 else None


def decide_axis_order(samples: Iterable[tuple[Path, np.ndarray, TxPosition]], checks: int = 5) -> AxisOrder:
    """The data set's axis order from the first `checks` samples whose X and Y tell the orders apart.

    Args:
        samples: (input file, its (H, W) distance channel, its positions row), lazily produced.
        checks: decisive samples to read; all must agree.
    Returns:
        The agreed order; GENERATOR_AXIS_ORDER when no sample tells them apart (every X == Y).
    Raises:
        DataError: a sample fits neither order, or two samples disagree (naming the files).
    """
    decided: tuple[AxisOrder, Path] | None = None
    seen = 0
    for path, distance, position in samples:
        order = axis_order_of(distance, position, where=str(path))
        if order is None:
            continue
        if decided and order != decided[0]:
            raise DataError(f"{path}: its positions row reads {order}, but {decided[1]} reads {decided[0]}")
        decided = decided or (order, path)
        seen += 1
        if seen >= checks:
            break
    return decided[0] if decided else GENERATOR_AXIS_ORDER
