"""Inconsistencies found in a data root: one record per problem, naming the file and what is wrong."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ISSUE_KINDS", "Issue", "count_by_kind"]

ISSUE_KINDS = {
    "missing_folder": "a folder of the RadioMapSeer layout is absent",
    "radio_map_without_antenna": "gain/<sim>/{m}_{k}.png has no png/antennas/{m}_{k}.png",
    "antenna_without_radio_map": "png/antennas/{m}_{k}.png has no radio map in the analysed simulation",
    "map_without_buildings": "antennas or radio maps of map m exist but png/buildings_complete/{m}.png does not",
    "buildings_without_radio_maps": "png/buildings_complete/{m}.png has no radio map in the analysed simulation",
    "map_without_cars": "the dynamic setting needs png/cars/{m}.png",
    "unreadable": "the file is not a PNG, is truncated or corrupt, or is not an 8-bit grey image",
    "unusual_size": "a building mask (or an image of a map without one) of another size than the usual one",
    "size_mismatch": "an image whose size differs from its map's building mask",
    "no_transmitter": "an antenna image without any bright pixel",
    "unrecognised_file": "a file in a layout folder whose name does not follow the layout",
}
"""Every kind of inconsistency, with what it means."""


@dataclass(frozen=True)
class Issue:
    """One inconsistency of a data root."""

    kind: str
    """One of ISSUE_KINDS."""
    path: str
    """The file or folder concerned, relative to the data root."""
    detail: str
    """What is wrong, in a few words (sizes, the missing partner file, the decoder's message)."""

    def __post_init__(self) -> None:
        if self.kind not in ISSUE_KINDS:
            raise ValueError(f"issue kind {self.kind!r} is not known; choose one of {sorted(ISSUE_KINDS)}")

    def as_dict(self) -> dict[str, str]:
        """{"kind", "path", "detail"} for the stats JSON."""
        return {"kind": self.kind, "path": self.path, "detail": self.detail}


def count_by_kind(issues: Iterable[Issue]) -> dict[str, int]:
    """Number of issues per kind, for every kind found (sorted by kind)."""
    return dict(sorted(Counter(issue.kind for issue in issues).items()))
