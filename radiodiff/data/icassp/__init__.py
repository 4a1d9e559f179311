"""The ICASSP 2025 indoor pathloss challenge layout (FACTS §4, docs/icassp.md): the reader (index, loader,
axis check, splits, padding), the antenna channel, and the indoor generator (floor plans + multi-wall model).

Names are imported lazily (PEP 562): reading a data set does not import the generator's writer and tqdm.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ANTENNA_IDS": "layout",
    "FREQUENCIES_MHZ": "layout",
    "METRES_PER_PIXEL": "layout",
    "PATTERN_ANGLES": "layout",
    "TASK_IDS": "layout",
    "PATHLOSS_MAX_DB": "scale",
    "PAD_VALUE": "batching",
    "pad_batch": "batching",
    "AxisOrder": "axis",
    "GENERATOR_AXIS_ORDER": "axis",
    "axis_order_of": "axis",
    "IcasspIndex": "index",
    "IcasspSample": "index",
    "index_icassp": "index",
    "IcasspArrays": "loader",
    "load_sample": "loader",
    "TASK_GROUPS": "splits",
    "group_split": "splits",
    "held_out_split": "splits",
    "random_split": "splits",
    "antenna_channel_db": "antenna",
    "free_space_baseline_db": "antenna",
    "fspl_db": "antenna",
    "multiwall_pathloss_db": "multiwall",
    "generate_indoor_dataset": "writer",
    "indoor_dataset_matches": "writer",
    "indoor_generator_params": "writer",
    "indoor_preview_panel": "preview",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
