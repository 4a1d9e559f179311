"""The five antennas of the indoor generator, as 360-degree horizontal patterns (FACTS §4: Ant1 isotropic).

Directional antennas follow the horizontal cut of 3GPP TR 38.901 Table 7.3-1:

    G(phi) = G_max - min(12 (phi / phi_3dB)^2, A_fb)      phi in (-180, 180] degrees from the boresight

with the half-power beamwidth phi_3dB and the front-to-back ratio A_fb (the back lobe is A_fb below the peak).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from radiodiff.data.icassp.layout import PATTERN_ANGLES

__all__ = ["ANTENNAS", "AntennaSpec", "pattern_gains"]


@dataclass(frozen=True)
class AntennaSpec:
    """One antenna's horizontal pattern."""

    peak_gain_dbi: float
    """G_max, the boresight gain."""
    beamwidth_deg: float
    """phi_3dB; 0 means isotropic (G = G_max everywhere)."""
    front_to_back_db: float
    """A_fb."""

    def as_dict(self) -> dict[str, float]:
        """The fields (for generator.json)."""
        return asdict(self)


ANTENNAS: dict[int, AntennaSpec] = {  # keys: layout.ANTENNA_IDS
    1: AntennaSpec(peak_gain_dbi=0.0, beamwidth_deg=0.0, front_to_back_db=0.0),
    2: AntennaSpec(peak_gain_dbi=8.0, beamwidth_deg=65.0, front_to_back_db=20.0),
    3: AntennaSpec(peak_gain_dbi=5.0, beamwidth_deg=100.0, front_to_back_db=12.0),
    4: AntennaSpec(peak_gain_dbi=12.0, beamwidth_deg=30.0, front_to_back_db=25.0),
    5: AntennaSpec(peak_gain_dbi=3.0, beamwidth_deg=140.0, front_to_back_db=8.0),
}
"""Ant1 isotropic; Ant2 a 65-degree sector, Ant3 wide, Ant4 a narrow high-gain beam, Ant5 nearly omni."""


def pattern_gains(spec: AntennaSpec) -> np.ndarray:
    """(PATTERN_ANGLES,) gains in dBi, entry k at k degrees from the boresight (the pattern file's rows)."""
    if spec.beamwidth_deg == 0:
        return np.full(PATTERN_ANGLES, spec.peak_gain_dbi)
    phi = (np.arange(PATTERN_ANGLES, dtype=np.float64) + 180.0) % 360.0 - 180.0
    return spec.peak_gain_dbi - np.minimum(12.0 * (phi / spec.beamwidth_deg) ** 2, spec.front_to_back_db)
