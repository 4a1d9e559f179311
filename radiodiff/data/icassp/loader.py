"""Loading one indexed sample as float arrays at the image's own size (no resize)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radiodiff.data.icassp.index import IcasspIndex, IcasspSample
from radiodiff.data.icassp.png import read_png
from radiodiff.data.png_io import DataError

__all__ = ["IcasspArrays", "load_sample"]


@dataclass(frozen=True)
class IcasspArrays:
    """The decoded images of one sample (scale.py gives the units) and its transmitter."""

    inputs: np.ndarray
    """(3, H, W) float32: reflectance (dB), transmittance (dB, 0 = air), distance to the transmitter (m)."""
    pathloss_db: np.ndarray
    """(H, W) float32 path loss in dB."""
    tx_row: float
    tx_col: float
    azimuth_deg: float
    pattern_dbi: np.ndarray
    """(360,) gains in dBi of the sample's antenna."""
    frequency_mhz: float


def load_sample(index: IcasspIndex, sample: IcasspSample) -> IcasspArrays:
    """Decode a sample's input and output PNGs.

    Args:
        index: the index the sample comes from (its patterns).
        sample: one of `index.samples`.
    Returns:
        The IcasspArrays at the sample's own (H, W).
    Raises:
        DataError: a file is unreadable, has the wrong channel count or another size than indexed.
    """
    rgb = read_png(sample.input_path, channels=3)
    grey = read_png(sample.output_path, channels=1)
    for path, image in ((sample.input_path, rgb), (sample.output_path, grey)):
        if image.shape[:2] != sample.size:
            raise DataError(f"{path}: size {image.shape[:2]}; the index recorded {sample.size}")
    return IcasspArrays(
        inputs=np.moveaxis(rgb, 2, 0).astype(np.float32),
        pathloss_db=grey.astype(np.float32),
        tx_row=sample.tx_row,
        tx_col=sample.tx_col,
        azimuth_deg=sample.azimuth_deg,
        pattern_dbi=index.patterns[sample.antenna],
        frequency_mhz=sample.frequency_mhz,
    )
