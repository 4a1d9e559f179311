"""Scanning a data root in the RadioMapSeer layout (FACTS §1) into an index of its samples.

```
ROOT/png/buildings_complete/{m}.png   building mask of map m
ROOT/png/antennas/{m}_{k}.png         transmitter k of map m
ROOT/png/cars/{m}.png                 car mask (dynamic setting only)
ROOT/gain/<simulation>/{m}_{k}.png    radio map (DPM, IRT2, carsDPM, ...)
ROOT/generator.json                   a generated root's parameters, among them its `simulation`
```
`data.simulation: auto` reads the simulation a generated root records (DPM for the fast engine, IRT for Sionna
RT), and DPM on a root without a record (RadioMapSeer's own).
One `os.scandir` per folder and a regex per name: the full data set (701 maps x 80 Tx) scans in well under a
second. Files whose names do not match the patterns are ignored.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from radiodiff.config_schema import ConfigError
from radiodiff.data.png_io import DataError

__all__ = [
    "ANTENNAS_DIR",
    "AUTO_SIMULATION",
    "BUILDINGS_DIR",
    "CARS_DIR",
    "DEFAULT_SIMULATION",
    "EDGES_RECORD",
    "GAIN_DIR",
    "GENERATOR_RECORD",
    "LayoutIndex",
    "index_radiomapseer",
    "resolve_simulation",
]

BUILDINGS_DIR = "png/buildings_complete"
ANTENNAS_DIR = "png/antennas"
CARS_DIR = "png/cars"
GAIN_DIR = "gain"
GENERATOR_RECORD = "generator.json"
"""The record a generated root holds of the parameters that made it (written by the generators)."""
EDGES_RECORD = "edges.json"
"""The record of an edge-map root (`radiodiff derive_edges`): its source, simulation and method."""
AUTO_SIMULATION = "auto"
"""data.simulation value meaning: the root's own simulation (its generator record's, else DEFAULT_SIMULATION)."""
DEFAULT_SIMULATION = "DPM"
"""The simulation of a root without a generator record: RadioMapSeer's dominant-path maps, the paper's target."""

_MAP_NAME = re.compile(r"^(\d+)\.png$")
_PAIR_NAME = re.compile(r"^(\d+)_(\d+)\.png$")


@dataclass(frozen=True)
class LayoutIndex:
    """The samples found under one data root for one simulation and setting."""

    root: Path
    """The data root."""
    simulation: str
    """Folder under `gain/` holding the target radio maps."""
    setting: Literal["static", "dynamic"]
    """static: no car masks needed; dynamic: every map has `png/cars/{m}.png`."""
    map_ids: tuple[int, ...]
    """Sorted ids of the maps that have at least one radio map."""
    pairs: tuple[tuple[int, int], ...]
    """Sorted (map, tx) pairs that have a radio map (and, checked, an antenna file)."""
    tx_ids: Mapping[int, tuple[int, ...]] = field(compare=False)
    """map id -> sorted tx ids of that map (derived from `pairs`)."""

    def buildings_path(self, map_id: int) -> Path:
        """`png/buildings_complete/{m}.png` of map `map_id`."""
        return self.root / BUILDINGS_DIR / f"{map_id}.png"

    def antenna_path(self, map_id: int, tx_id: int) -> Path:
        """`png/antennas/{m}_{k}.png` of transmitter `tx_id` of map `map_id`."""
        return self.root / ANTENNAS_DIR / f"{map_id}_{tx_id}.png"

    def cars_path(self, map_id: int) -> Path:
        """`png/cars/{m}.png` of map `map_id`."""
        return self.root / CARS_DIR / f"{map_id}.png"

    def gain_path(self, map_id: int, tx_id: int) -> Path:
        """`gain/<simulation>/{m}_{k}.png`: the radio map of transmitter `tx_id` of map `map_id`."""
        return self.root / GAIN_DIR / self.simulation / f"{map_id}_{tx_id}.png"


def resolve_simulation(root: str | Path, simulation: str) -> str:
    """The folder under `gain/` that `simulation` names for `root`: itself, or for `auto` the `simulation` that
    the root's generator.json (or edges.json) records, DEFAULT_SIMULATION when it has none."""
    if simulation != AUTO_SIMULATION:
        return simulation
    for record in (GENERATOR_RECORD, EDGES_RECORD):
        try:
            recorded = json.loads((Path(root) / record).read_text()).get("simulation")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(recorded, str) and recorded:
            return recorded
    return DEFAULT_SIMULATION


def index_radiomapseer(
    root: str | Path, simulation: str = AUTO_SIMULATION, setting: Literal["static", "dynamic"] = "static"
) -> LayoutIndex:
    """Scan a data root and check that every radio map has the inputs it needs.

    Args:
        root: folder in the RadioMapSeer layout.
        simulation: folder under `gain/` with the target maps (any name: DPM, IRT2, carsDPM, ...), or `auto`
            (`resolve_simulation`).
        setting: "static" or "dynamic" (the latter needs a car mask per map).
    Returns:
        The LayoutIndex of the (map, tx) pairs that have a radio map.
    Raises:
        ConfigError: `setting` is not static or dynamic.
        DataError: a folder is missing, the simulation does not exist or holds no radio maps, or a radio map
            lacks its building, antenna or car file (the message names the missing path).
    """
    if setting not in ("static", "dynamic"):
        raise ConfigError(f"setting = {setting!r} is not allowed; choose one of ['static', 'dynamic']")
    root = Path(root)
    simulation = resolve_simulation(root, simulation)
    _check_folders(root, simulation, setting)
    pairs = sorted(_scan_pairs(root / GAIN_DIR / simulation))
    if not pairs:
        raise DataError(f"{root / GAIN_DIR / simulation}: no radio maps named {{m}}_{{k}}.png")
    map_ids = sorted({m for m, _ in pairs})
    _check_inputs(root, simulation, setting, pairs, map_ids)
    tx_ids: dict[int, list[int]] = {m: [] for m in map_ids}
    for m, k in pairs:
        tx_ids[m].append(k)
    return LayoutIndex(
        root=root,
        simulation=simulation,
        setting=setting,
        map_ids=tuple(map_ids),
        pairs=tuple(pairs),
        tx_ids={m: tuple(ks) for m, ks in tx_ids.items()},
    )


def _check_folders(root: Path, simulation: str, setting: str) -> None:
    """Raise a DataError saying exactly which folders of the layout are missing."""
    if not root.is_dir():
        raise DataError(f"{root}: data root does not exist or is not a folder")
    needed = [BUILDINGS_DIR, ANTENNAS_DIR, GAIN_DIR] + ([CARS_DIR] if setting == "dynamic" else [])
    missing = [name for name in needed if not (root / name).is_dir()]
    if missing:
        plural = "folders" if len(missing) > 1 else "folder"
        why = " (the dynamic setting needs car masks)" if CARS_DIR in missing else ""
        raise DataError(f"{root} is not a RadioMapSeer data root: missing {plural} {', '.join(missing)}{why}")
    if not (root / GAIN_DIR / simulation).is_dir():
        available = sorted(e.name for e in os.scandir(root / GAIN_DIR) if e.is_dir())
        listed = ", ".join(available) if available else "none"
        raise DataError(f"{GAIN_DIR}/{simulation} not found in {root}; available simulations: {listed}")


def _scan_pairs(folder: Path) -> set[tuple[int, int]]:
    """(map, tx) ids of the `{m}_{k}.png` files in `folder`."""
    found = set()
    for name in _file_names(folder):
        match = _PAIR_NAME.match(name)
        if match:
            found.add((int(match[1]), int(match[2])))
    return found


def _scan_maps(folder: Path) -> set[int]:
    """Map ids of the `{m}.png` files in `folder`."""
    return {int(match[1]) for name in _file_names(folder) if (match := _MAP_NAME.match(name))}


def _file_names(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return [entry.name for entry in entries]


def _check_inputs(root: Path, simulation: str, setting: str, pairs: list[tuple[int, int]], map_ids: list[int]) -> None:
    """Raise a DataError naming the first building, antenna or car file that a radio map needs but lacks."""
    gain = f"{GAIN_DIR}/{simulation}"
    buildings = _scan_maps(root / BUILDINGS_DIR)
    _raise_if_missing([m for m in map_ids if m not in buildings], root / BUILDINGS_DIR, gain)
    antennas = _scan_pairs(root / ANTENNAS_DIR)
    missing = [(m, k) for m, k in pairs if (m, k) not in antennas]
    _raise_if_missing([f"{m}_{k}" for m, k in missing], root / ANTENNAS_DIR, gain)
    if setting == "dynamic":
        cars = _scan_maps(root / CARS_DIR)
        _raise_if_missing([m for m in map_ids if m not in cars], root / CARS_DIR, gain)


def _raise_if_missing(missing: list, folder: Path, gain: str) -> None:
    """`missing`: file stems (`3` or `3_7`) absent from `folder`, in order; raise naming the first."""
    if missing:
        stem = str(missing[0])
        user = f"{gain}/{stem}.png" if "_" in stem else f"{gain}/{stem}_*.png"
        more = f"; {len(missing) - 1} more missing in {folder.name}/" if len(missing) > 1 else ""
        raise DataError(f"{folder / (stem + '.png')}: file not found, but {user} needs it{more}")
