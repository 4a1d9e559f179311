"""File names and fixed facts of the ICASSP 2025 indoor pathloss challenge layout (FACTS §4).

```
ROOT/Inputs/Task_{t}_ICASSP/B{b}_Ant{a}_f{f}_S{s}.png   HxWx3 uint8: R reflectance, G transmittance, B distance
ROOT/Outputs/Task_{t}_ICASSP/B{b}_Ant{a}_f{f}_S{s}.png  HxW uint8 path loss (grey level = dB)
ROOT/Positions/Positions_B{b}_Ant{a}_f{f}.csv           header + one row per sample: index, X, Y, Azimuth
ROOT/Radiation_Patterns/Ant{a}_Pattern.csv              360 gains in dBi, one per degree
```
This module is the one home of the frequency tokens, the antenna count, the pixel size and the name patterns.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "ANTENNA_IDS",
    "FREQUENCIES_MHZ",
    "INPUTS_DIR",
    "METADATA_FILE",
    "METRES_PER_PIXEL",
    "OUTPUTS_DIR",
    "PATTERNS_DIR",
    "PATTERN_ANGLES",
    "POSITIONS_DIR",
    "SAMPLE_NAME",
    "TASK_IDS",
    "input_file",
    "output_file",
    "pattern_file",
    "positions_file",
    "sample_stem",
    "task_dir_name",
]

INPUTS_DIR = Path("Inputs")
OUTPUTS_DIR = Path("Outputs")
POSITIONS_DIR = Path("Positions")
PATTERNS_DIR = Path("Radiation_Patterns")
METADATA_FILE = Path("generator.json")
"""Written by the indoor generator only (parameters + "complete"); real challenge data has none."""

TASK_IDS = (1, 2, 3)
"""Task 1: unseen buildings, Task 2: unseen frequencies, Task 3: unseen antenna patterns (FACTS §4)."""

FREQUENCIES_MHZ = {1: 868.0, 2: 1800.0, 3: 3500.0}
"""The file names' frequency token f -> carrier frequency in MHz (868 MHz, 1.8 GHz, 3.5 GHz)."""

ANTENNA_IDS = (1, 2, 3, 4, 5)
"""Ant1 is isotropic, Ant2..5 directional (FACTS §4)."""

PATTERN_ANGLES = 360
"""Rows of a radiation pattern file: one gain in dBi per degree, 0..359 from the boresight."""

METRES_PER_PIXEL = 0.25
"""Resolution of every challenge image (FACTS §4)."""

SAMPLE_NAME = re.compile(r"^B(\d+)_Ant(\d+)_f(\d+)_S(\d+)\.png$")
"""An input or output file name; groups: building, antenna, frequency token, sample id."""
TASK_DIR_NAME = re.compile(r"^Task_(\d+)_ICASSP$")
"""A folder under Inputs/ or Outputs/; group: the task id."""


def task_dir_name(task: int) -> str:
    """`Task_{task}_ICASSP`."""
    return f"Task_{task}_ICASSP"


def sample_stem(building: int, antenna: int, frequency: int, sample: int) -> str:
    """`B{b}_Ant{a}_f{f}_S{s}` (no suffix)."""
    return f"B{building}_Ant{antenna}_f{frequency}_S{sample}"


def input_file(root: Path, task: int, building: int, antenna: int, frequency: int, sample: int) -> Path:
    """`ROOT/Inputs/Task_{t}_ICASSP/B{b}_Ant{a}_f{f}_S{s}.png`."""
    name = sample_stem(building, antenna, frequency, sample) + ".png"
    return Path(root) / INPUTS_DIR / task_dir_name(task) / name


def output_file(root: Path, task: int, building: int, antenna: int, frequency: int, sample: int) -> Path:
    """`ROOT/Outputs/Task_{t}_ICASSP/B{b}_Ant{a}_f{f}_S{s}.png`."""
    name = sample_stem(building, antenna, frequency, sample) + ".png"
    return Path(root) / OUTPUTS_DIR / task_dir_name(task) / name


def positions_file(root: Path, building: int, antenna: int, frequency: int) -> Path:
    """`ROOT/Positions/Positions_B{b}_Ant{a}_f{f}.csv`."""
    return Path(root) / POSITIONS_DIR / f"Positions_B{building}_Ant{antenna}_f{frequency}.csv"


def pattern_file(root: Path, antenna: int) -> Path:
    """`ROOT/Radiation_Patterns/Ant{a}_Pattern.csv`."""
    return Path(root) / PATTERNS_DIR / f"Ant{antenna}_Pattern.csv"
