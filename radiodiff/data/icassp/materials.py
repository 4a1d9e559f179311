"""Wall materials of the indoor generator and how they are written into the R and G channels.

Grey level = value in dB (scale.py). G (transmittance) is the wall's transmission loss at the reference
frequency, the quantity the multi-wall model adds per wall crossed (multiwall.py); R (reflectance) is written
for the networks only (the multi-wall model has no reflections). Transmission losses follow the COST 231
multi-wall model's wall classes (COST 231 final report, sec. 4.7.2: light internal walls 3.4 dB, heavy
internal walls 6.9 dB) with a heavier outer facade and glass from ITU-R P.1238 / P.2040 measurements.

| material      | R  | G (dB @ 1.8 GHz) | thickness (px) | used for                  |
| ------------- | -- | ---------------- | -------------- | ------------------------- |
| concrete      | 9  | 12               | 2 (0.5 m)      | outer walls               |
| brick         | 7  | 7                | 1 (0.25 m)     | heavy internal walls      |
| plasterboard  | 4  | 3                | 1              | light internal walls      |
| glass         | 5  | 2                | 1              | windows, glazed partitions|
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["AIR", "INTERIOR", "MATERIALS", "OUTER", "WINDOW", "Material", "channel_lookup"]


@dataclass(frozen=True)
class Material:
    """One wall material."""

    name: str
    reflectance: int
    """R channel grey level (dB)."""
    transmittance: int
    """G channel grey level: the transmission loss in dB at multiwall.REFERENCE_MHZ (> 0; 0 is air)."""
    thickness_px: int
    """Wall thickness in pixels (0.25 m each)."""

    def as_dict(self) -> dict[str, object]:
        """The fields (for generator.json)."""
        return asdict(self)


MATERIALS: tuple[Material, ...] = (
    Material("concrete", reflectance=9, transmittance=12, thickness_px=2),
    Material("brick", reflectance=7, transmittance=7, thickness_px=1),
    Material("plasterboard", reflectance=4, transmittance=3, thickness_px=1),
    Material("glass", reflectance=5, transmittance=2, thickness_px=1),
)
"""Material id k + 1 in a floor plan is MATERIALS[k]; id 0 (AIR) is air."""
AIR = 0
OUTER, WINDOW = 1, 4
"""Material ids of the facade and its windows."""
INTERIOR = (2, 3, 4)
"""Material ids drawn for internal walls."""


def channel_lookup(channel: str) -> np.ndarray:
    """(len(MATERIALS) + 1,) uint8 table: material id -> `reflectance` or `transmittance` grey level (air 0)."""
    return np.array([0, *(getattr(m, channel) for m in MATERIALS)], dtype=np.uint8)
