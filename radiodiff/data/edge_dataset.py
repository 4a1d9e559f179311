"""A data root whose radio maps are replaced by their edge maps (`radiodiff derive_edges`).

DST keeps SRC's layout and file names: `gain/<simulation>/{m}_{k}.png` holds the edge map of SRC's radio map,
and every file under `png/` is hard-linked (copied across file systems), so DST is itself a valid data root.
`edges.json` records the source, the simulation and the method.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
from tqdm import tqdm

from radiodiff.config_schema import ConfigError
from radiodiff.data.edges import check_edge_method, edge_map
from radiodiff.data.layout import EDGES_RECORD, GAIN_DIR
from radiodiff.data.png_io import DataError, read_grey_png

__all__ = ["EDGES_FILE", "EdgeDatasetSummary", "write_edge_dataset"]

EDGES_FILE = EDGES_RECORD
"""Written at DST's root: where the edge maps come from and how they were made."""
INPUTS_DIR = "png"
"""Folder of the inputs (buildings, antennas, cars) mirrored into DST."""


@dataclass(frozen=True)
class EdgeDatasetSummary:
    """What `write_edge_dataset` wrote."""

    out_dir: Path
    """The new data root."""
    method: str
    """The edge detector."""
    simulation: str
    """The folder under `gain/` that was transformed."""
    edge_maps: int
    """Edge maps written."""
    linked: int
    """Input files hard-linked from SRC."""
    copied: int
    """Input files copied (hard links impossible, e.g. across file systems)."""

    def __str__(self) -> str:
        return (
            f"wrote {self.edge_maps} {self.method} edge maps to {self.out_dir / GAIN_DIR / self.simulation}; "
            f"inputs: {self.linked} hard-linked, {self.copied} copied"
        )


def write_edge_dataset(
    src: str | Path, dst: str | Path, method: str = "canny", simulation: str = "DPM", progress: bool = True
) -> EdgeDatasetSummary:
    """Write the edge maps of `src/gain/<simulation>/*.png` into `dst`, keeping layout and file names.

    Args:
        src: data root in the RadioMapSeer layout.
        dst: output data root (created; files already there with the same names are replaced).
        method: one of `radiodiff.data.edges.EDGE_METHODS`.
        simulation: folder under `gain/` to transform.
        progress: show a progress bar over the radio maps.
    Returns:
        The EdgeDatasetSummary.
    Raises:
        ConfigError: unknown method, or `dst` is `src`.
        DataError: `src/gain/<simulation>` is missing or empty, or a radio map cannot be read (naming it).
    """
    method = check_edge_method(method)
    src, dst = Path(src), Path(dst)
    radio_maps = _radio_maps(src, simulation)
    if dst.resolve() == src.resolve():
        raise ConfigError(f"--out_dir {dst} is the source data root; choose another folder")
    linked, copied = _mirror_inputs(src / INPUTS_DIR, dst / INPUTS_DIR)
    out_folder = dst / GAIN_DIR / simulation
    out_folder.mkdir(parents=True, exist_ok=True)
    for path in tqdm(radio_maps, desc=f"derive_edges {method}", unit="radio map", disable=not progress):
        target = out_folder / path.name
        if not cv2.imwrite(str(target), edge_map(read_grey_png(path), method)):
            raise DataError(f"{target}: could not be written")
    record = {"source": str(src.resolve()), "simulation": simulation, "method": method}
    (dst / EDGES_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return EdgeDatasetSummary(dst, method, simulation, len(radio_maps), linked, copied)


def _radio_maps(src: Path, simulation: str) -> list[Path]:
    """The PNG files of `src/gain/<simulation>`, sorted; a DataError naming the folder when there are none."""
    folder = src / GAIN_DIR / simulation
    if not folder.is_dir():
        gain = src / GAIN_DIR
        found = sorted(p.name for p in gain.iterdir() if p.is_dir()) if gain.is_dir() else []
        raise DataError(f"{folder}: simulation folder not found; available: {', '.join(found) or 'none'}")
    radio_maps = sorted(folder.glob("*.png"))
    if not radio_maps:
        raise DataError(f"{folder}: no radio maps (*.png)")
    return radio_maps


def _mirror_inputs(src: Path, dst: Path) -> tuple[int, int]:
    """Hard-link (or copy) every file under `src` to the same relative path under `dst`. Returns (linked, copied)."""
    linked = copied = 0
    if not src.is_dir():
        return linked, copied
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if os.path.samefile(path, target):
                linked += 1
                continue
            target.unlink()
        try:
            os.link(path, target)
            linked += 1
        except OSError:  # another file system, or links not allowed
            shutil.copy2(path, target)
            copied += 1
    return linked, copied
