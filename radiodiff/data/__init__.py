"""Data layer: RadioMapSeer-layout readers, map-level splits, transforms and the torch Dataset.

Names are imported lazily (PEP 562) so that importing a light submodule such as `radiodiff.data.generator`
does not pull in torch or OpenCV.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from radiodiff.data.layout import LayoutIndex, index_radiomapseer
    from radiodiff.data.png_io import DataError, read_grey_png
    from radiodiff.data.radiomapseer import RadioMapSeerDataset, build_datasets
    from radiodiff.data.splits import leak_free_split, radiodiff_seed42_split, split_maps

_EXPORTS = {
    "DataError": "radiodiff.data.png_io",
    "read_grey_png": "radiodiff.data.png_io",
    "LayoutIndex": "radiodiff.data.layout",
    "index_radiomapseer": "radiodiff.data.layout",
    "leak_free_split": "radiodiff.data.splits",
    "radiodiff_seed42_split": "radiodiff.data.splits",
    "split_maps": "radiodiff.data.splits",
    "RadioMapSeerDataset": "radiodiff.data.radiomapseer",
    "build_datasets": "radiodiff.data.radiomapseer",
}

__all__ = [
    "DataError",
    "LayoutIndex",
    "RadioMapSeerDataset",
    "build_datasets",
    "index_radiomapseer",
    "leak_free_split",
    "radiodiff_seed42_split",
    "read_grey_png",
    "split_maps",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'radiodiff.data' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
