"""File names of the RadioMapSeer layout (FACTS §1) as the generator writes them."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUILDINGS_DIR", "GAIN_DIR", "METADATA_FILE", "TX_DIR", "antenna_file", "buildings_file", "gain_file"]

BUILDINGS_DIR = Path("png/buildings_complete")
"""Building masks `{m}.png` (255 = building)."""
TX_DIR = Path("png/antennas")
"""Transmitter images `{m}_{k}.png` (255 at the transmitter pixel)."""
GAIN_DIR = Path("gain/DPM")
"""Radio maps `{m}_{k}.png` (grey levels of path gain, `radiodiff.data.gain_scale`)."""
METADATA_FILE = Path("generator.json")
"""The generator's parameters and engine version (written by `generate_dataset`)."""


def buildings_file(root: Path, map_id: int) -> Path:
    """Path of the building mask of map `map_id` under the data root `root`."""
    return Path(root) / BUILDINGS_DIR / f"{map_id}.png"


def antenna_file(root: Path, map_id: int, tx_id: int) -> Path:
    """Path of the transmitter image of transmitter `tx_id` of map `map_id`."""
    return Path(root) / TX_DIR / f"{map_id}_{tx_id}.png"


def gain_file(root: Path, map_id: int, tx_id: int) -> Path:
    """Path of the radio map (DPM) of transmitter `tx_id` of map `map_id`."""
    return Path(root) / GAIN_DIR / f"{map_id}_{tx_id}.png"
