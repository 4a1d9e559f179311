"""How a data root is named and fingerprinted when a run records it as its dataset input (training and
evaluation record the same data under the same name and digest)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from radiodiff.data.layout import LayoutIndex


def dataset_name(root: str | Path) -> str:
    """The name a run's dataset input shows: the data root's folder name."""
    return Path(root).resolve().name


def dataset_digest(index: LayoutIndex) -> str:
    """SHA-256 (hex) of the simulation and the sorted (map, tx) pairs found under the root."""
    listing = "\n".join(f"{m}_{k}" for m, k in index.pairs)
    return hashlib.sha256(f"{index.simulation}\n{listing}".encode()).hexdigest()
