"""Scanning a RadioMapSeer-layout data root for every file and every inconsistency, without stopping at the first.

Unlike `radiodiff.data.layout.index_radiomapseer` (which refuses a data root at its first problem, as training
must), the scan lists every folder of the layout, checks every PNG's header and closing chunk (`png_header`),
pairs radio maps with antennas and building masks, compares image sizes, and records each problem as an Issue.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from radiodiff.data.layout import ANTENNAS_DIR, BUILDINGS_DIR, CARS_DIR, GAIN_DIR, GENERATOR_RECORD
from radiodiff.data.png_io import DataError
from radiodiff.eda.issues import Issue
from radiodiff.eda.png_header import PngHeader, read_png_header

__all__ = ["METADATA_FILE", "DatasetScan", "FolderListing", "check_root", "scan_dataset"]

METADATA_FILE = GENERATOR_RECORD
"""Parameters written by the embedded generator (ground resolution, frequency); real data has none."""

_MAP_NAME = re.compile(r"^(\d+)\.png$")
_PAIR_NAME = re.compile(r"^(\d+)_(\d+)\.png$")

Key = int | tuple[int, int]


@dataclass(frozen=True)
class FolderListing:
    """The files of one layout folder whose names follow the layout."""

    folder: str
    """Folder relative to the data root, e.g. `gain/DPM`."""
    present: bool
    """Whether the folder exists."""
    files: dict[Key, str] = field(default_factory=dict)
    """Map id (or (map, tx) pair) -> file path relative to the data root."""


@dataclass(frozen=True)
class DatasetScan:
    """Everything a scan found under a data root."""

    root: Path
    """The data root."""
    simulation: str
    """The analysed simulation (folder under `gain/`)."""
    buildings: FolderListing
    """png/buildings_complete: map id -> file."""
    antennas: FolderListing
    """png/antennas: (map, tx) -> file."""
    cars: FolderListing
    """png/cars: map id -> file (present in the dynamic setting only)."""
    gains: dict[str, FolderListing]
    """Simulation name -> gain/<simulation>: (map, tx) -> file."""
    headers: dict[str, PngHeader]
    """Relative path -> header, for every file whose header and closing chunk are sound."""
    issues: list[Issue]
    """Every inconsistency found, in the order found."""
    usable_pairs: tuple[tuple[int, int], ...]
    """Sorted (map, tx) pairs of the analysed simulation whose radio map, antenna and building mask are sound
    and of one size: the pairs the statistics may read."""
    metadata: dict
    """The content of generator.json when the data set was generated, else {}."""

    def path(self, relative: str) -> Path:
        """Absolute path of a file given relative to the data root."""
        return self.root / relative

    @property
    def usual_size(self) -> tuple[int, int] | None:
        """The most common (H, W) of the building masks (of any file when there is no mask); None if none."""
        return _usual_size(self.buildings, self.headers)

    def digest(self) -> str:
        """SHA-256 of the sorted relative paths of every layout file (the run's dataset digest)."""
        listings = [self.buildings, self.antennas, self.cars, *self.gains.values()]
        names = sorted(p for listing in listings for p in listing.files.values())
        return hashlib.sha256("\n".join(names).encode()).hexdigest()


def scan_dataset(
    root: str | Path, simulation: str = "DPM", setting: str = "static", progress: bool = False
) -> DatasetScan:
    """List and check every file of a data root in the RadioMapSeer layout.

    Args:
        root: the data root.
        simulation: the folder under `gain/` to analyse (pairing with antennas is checked for every simulation).
        setting: "static" or "dynamic" (the latter expects a car mask per map).
        progress: show a progress bar over the files checked.
    Returns:
        The DatasetScan, its `issues` listing every inconsistency.
    Raises:
        DataError: `root` is not a folder, or `gain/<simulation>` does not exist (`check_root`).
    """
    root = Path(root)
    simulations = check_root(root, simulation)
    issues: list[Issue] = []
    buildings = _list_folder(root, BUILDINGS_DIR, _MAP_NAME, issues, required=True)
    antennas = _list_folder(root, ANTENNAS_DIR, _PAIR_NAME, issues, required=True)
    cars = _list_folder(root, CARS_DIR, _MAP_NAME, issues, required=setting == "dynamic")
    gains = {name: _list_folder(root, f"{GAIN_DIR}/{name}", _PAIR_NAME, issues) for name in simulations}
    listings = [buildings, antennas, cars, *gains.values()]
    headers = _read_headers(root, listings, issues, progress)
    _check_pairs(buildings, antennas, cars, gains, simulation, setting, issues)
    usual = _usual_size(buildings, headers)
    _check_sizes(buildings, [antennas, cars, *gains.values()], headers, usual, issues)
    usable = _usable_pairs(buildings, antennas, gains[simulation], headers)
    return DatasetScan(root, simulation, buildings, antennas, cars, gains, headers, issues, usable, _metadata(root))


def check_root(root: Path, simulation: str) -> list[str]:
    """The simulations of a data root, after checking that it is a folder holding `gain/<simulation>`.

    Raises:
        DataError: naming the missing root, or the missing simulation and the simulations found.
    """
    if not Path(root).is_dir():
        raise DataError(f"{root}: data root does not exist")
    simulations = _subfolders(Path(root) / GAIN_DIR)
    if simulation not in simulations:
        listed = ", ".join(simulations) or "none"
        raise DataError(f"{Path(root) / GAIN_DIR / simulation}: simulation not found; available simulations: {listed}")
    return simulations


def _subfolders(folder: Path) -> list[str]:
    """Sorted names of the sub-folders of `folder` ([] if it does not exist)."""
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        return sorted(entry.name for entry in entries if entry.is_dir())


def _list_folder(
    root: Path, folder: str, pattern: re.Pattern, issues: list[Issue], required: bool = False
) -> FolderListing:
    """The layout files of one folder; a missing required folder and oddly named files become issues."""
    if not (root / folder).is_dir():
        if required:
            issues.append(Issue("missing_folder", folder, "folder not found"))
        return FolderListing(folder, present=False)
    files: dict[Key, str] = {}
    with os.scandir(root / folder) as entries:
        names = sorted(entry.name for entry in entries if not entry.is_dir())
    for name in names:
        match = pattern.match(name)
        if match is None:
            expected = "{m}.png" if pattern is _MAP_NAME else "{m}_{k}.png"
            issues.append(Issue("unrecognised_file", f"{folder}/{name}", f"name does not match {expected}"))
            continue
        ids = tuple(int(group) for group in match.groups())
        files[ids[0] if len(ids) == 1 else ids] = f"{folder}/{name}"
    return FolderListing(folder, present=True, files=files)


def _read_headers(
    root: Path, listings: list[FolderListing], issues: list[Issue], progress: bool
) -> dict[str, PngHeader]:
    """Header of every listed file; unsound files become `unreadable` issues."""
    paths = [p for listing in listings for p in listing.files.values()]
    headers: dict[str, PngHeader] = {}
    for relative in tqdm(paths, desc="eda: checking files", unit="file", disable=not progress):
        try:
            headers[relative] = read_png_header(root / relative)
        except DataError as err:
            issues.append(Issue("unreadable", relative, str(err).split(": ", 1)[-1]))
    return headers


def _check_pairs(
    buildings: FolderListing,
    antennas: FolderListing,
    cars: FolderListing,
    gains: dict[str, FolderListing],
    simulation: str,
    setting: str,
    issues: list[Issue],
) -> None:
    """Radio maps without antennas, antennas without radio maps, maps without building (or car) masks."""
    if antennas.present:
        for listing in gains.values():
            for (m, k), relative in listing.files.items():
                if (m, k) not in antennas.files:
                    issues.append(Issue("radio_map_without_antenna", relative, f"{ANTENNAS_DIR}/{m}_{k}.png not found"))
    analysed = gains[simulation]
    for (m, k), relative in antennas.files.items():
        if (m, k) not in analysed.files:
            issues.append(Issue("antenna_without_radio_map", relative, f"{analysed.folder}/{m}_{k}.png not found"))
    needed = Counter(m for listing in [antennas, *gains.values()] for m, _ in listing.files)
    if buildings.present:
        for m in sorted(set(needed) - set(buildings.files)):
            issues.append(
                Issue("map_without_buildings", f"{BUILDINGS_DIR}/{m}.png", f"not found; {needed[m]} files need it")
            )
    with_radio_maps = {m for m, _ in analysed.files}
    for m, relative in buildings.files.items():
        if m not in with_radio_maps:
            issues.append(Issue("buildings_without_radio_maps", relative, f"no {analysed.folder}/{m}_*.png"))
    if setting == "dynamic" and cars.present:
        for m in sorted(with_radio_maps - set(cars.files)):
            issues.append(Issue("map_without_cars", f"{CARS_DIR}/{m}.png", "not found; the dynamic setting needs it"))


def _usual_size(buildings: FolderListing, headers: dict[str, PngHeader]) -> tuple[int, int] | None:
    """Most common (H, W) of the sound building masks, else of every sound file; None when nothing is sound."""
    sizes = [headers[p].size for p in buildings.files.values() if p in headers]
    sizes = sizes or [header.size for header in headers.values()]
    return Counter(sizes).most_common(1)[0][0] if sizes else None


def _check_sizes(
    buildings: FolderListing,
    others: list[FolderListing],
    headers: dict[str, PngHeader],
    usual: tuple[int, int] | None,
    issues: list[Issue],
) -> None:
    """Maps of an unusual size, and images whose size differs from their map's building mask (or from the usual
    size when the map has no sound mask)."""
    map_size = {m: headers[p].size for m, p in buildings.files.items() if p in headers}
    for m, size in map_size.items():
        if size != usual:
            issues.append(Issue("unusual_size", buildings.files[m], f"(H, W) = {size}; usual size {usual}"))
    for listing in others:
        for key, relative in listing.files.items():
            m = key if isinstance(key, int) else key[0]
            size = headers[relative].size if relative in headers else None
            if size is None or size == map_size.get(m, usual):
                continue
            if m in map_size:
                detail = f"(H, W) = {size}; its building mask {buildings.files[m]} is {map_size[m]}"
                issues.append(Issue("size_mismatch", relative, detail))
            else:  # no sound building mask to compare with
                issues.append(Issue("unusual_size", relative, f"(H, W) = {size}; usual size {usual}"))


def _usable_pairs(
    buildings: FolderListing, antennas: FolderListing, analysed: FolderListing, headers: dict[str, PngHeader]
) -> tuple[tuple[int, int], ...]:
    """Pairs whose radio map, antenna and building mask are all sound and share one size."""
    usable = []
    for (m, k), gain in sorted(analysed.files.items()):
        antenna, mask = antennas.files.get((m, k)), buildings.files.get(m)
        parts = [gain, antenna, mask]
        if all(p is not None and p in headers for p in parts) and len({headers[p].size for p in parts}) == 1:
            usable.append((m, k))
    return tuple(usable)


def _metadata(root: Path) -> dict:
    """generator.json of a generated data set ({} when absent or unreadable: real data has none)."""
    try:
        return json.loads((root / METADATA_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
