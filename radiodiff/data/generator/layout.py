"""File names of the RadioMapSeer layout (FACTS §1) as the generator writes them."""

from __future__ import annotations

from pathlib import Path

from radiodiff.data.layout import DEFAULT_SIMULATION, GENERATOR_RECORD

__all__ = [
    "BUILDINGS_DIR",
    "FAST_SIMULATION",
    "GAIN_ROOT",
    "METADATA_FILE",
    "RT_META_FILE",
    "TX_DIR",
    "antenna_file",
    "buildings_file",
    "gain_dir",
    "gain_file",
]

BUILDINGS_DIR = Path("png/buildings_complete")
"""Building masks `{m}.png` (255 = building)."""
TX_DIR = Path("png/antennas")
"""Transmitter images `{m}_{k}.png` (255 at the transmitter pixel)."""
GAIN_ROOT = Path("gain")
"""Radio maps `<simulation>/{m}_{k}.png` (grey levels of path gain, `radiodiff.data.gain_scale`)."""
FAST_SIMULATION = DEFAULT_SIMULATION
"""The fast engine's simulation folder (DPM, as the RadioMapSeer maps it stands in for)."""
METADATA_FILE = Path(GENERATOR_RECORD)
RT_META_FILE = Path("meta.json")
"""Engine sionna: the scene, solver settings and every map's window and transmitter positions."""
"""The generator's parameters and engine version (written by `generate_dataset`)."""


def buildings_file(root: Path, map_id: int) -> Path:
    """Path of the building mask of map `map_id` under the data root `root`."""
    return Path(root) / BUILDINGS_DIR / f"{map_id}.png"


def antenna_file(root: Path, map_id: int, tx_id: int) -> Path:
    """Path of the transmitter image of transmitter `tx_id` of map `map_id`."""
    return Path(root) / TX_DIR / f"{map_id}_{tx_id}.png"


def gain_dir(root: Path, simulation: str) -> Path:
    """The folder of the radio maps of `simulation` under the data root `root`."""
    return Path(root) / GAIN_ROOT / simulation


def gain_file(root: Path, map_id: int, tx_id: int, simulation: str) -> Path:
    """Path of the radio map (`simulation`) of transmitter `tx_id` of map `map_id`."""
    return gain_dir(root, simulation) / f"{map_id}_{tx_id}.png"
