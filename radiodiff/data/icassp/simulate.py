"""One building of the indoor data set in memory: its plan, its transmitters and their images.

Randomness: building b's size and plan draw from `SeedSequence([seed, b])`, the transmitters of (b, antenna,
frequency) from `SeedSequence([seed, b, antenna, frequency])`, so every file is the same whichever process
writes it and whatever the number of buildings or workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radiodiff.config_sections import GeneratorConfig
from radiodiff.data.icassp.floorplan import generate_floorplan, interior_air
from radiodiff.data.icassp.layout import METRES_PER_PIXEL
from radiodiff.data.icassp.materials import channel_lookup
from radiodiff.data.icassp.multiwall import multiwall_pathloss_db
from radiodiff.data.icassp.scale import distance_to_grey, pathloss_to_grey
from radiodiff.data.icassp.tables import TxPosition

__all__ = ["BuildingPlan", "draw_transmitters", "generated_task", "plan_building", "sample_images"]


@dataclass(frozen=True)
class BuildingPlan:
    """The R and G channels of one building (the same for all its samples)."""

    reflectance: np.ndarray
    """(H, W) uint8 R channel."""
    transmittance: np.ndarray
    """(H, W) uint8 G channel (0 = air)."""
    transmitter_sites: np.ndarray
    """(N, 2) (row, col) air pixels where transmitters may stand."""


def generated_task(antenna: int, frequency: int) -> int:
    """The task folder the generator writes an (antenna, frequency token) pair to, each pair once: Task 1 is
    Ant1 at f1 (868 MHz), Task 2 adds Ant1's other frequencies, Task 3 holds the directional antennas."""
    if antenna == 1:
        return 1 if frequency == 1 else 2
    return 3


def plan_building(seed: int, building: int, generator: GeneratorConfig) -> BuildingPlan:
    """Draw building `building`'s size (each side in indoor_min_side .. indoor_max_side) and floor plan."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, building]))
    height, width = (int(v) for v in rng.integers(generator.indoor_min_side, generator.indoor_max_side + 1, size=2))
    plan = generate_floorplan(height, width, rng)
    return BuildingPlan(
        reflectance=channel_lookup("reflectance")[plan],
        transmittance=channel_lookup("transmittance")[plan],
        transmitter_sites=interior_air(plan),
    )


def draw_transmitters(
    plan: BuildingPlan, seed: int, building: int, antenna: int, frequency: int, count: int
) -> dict[int, TxPosition]:
    """`count` transmitters at distinct sites: X = column, Y = row (axis.GENERATOR_AXIS_ORDER), a whole-degree
    azimuth drawn uniformly for the directional antennas (Ant1's is 0)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, building, antenna, frequency]))
    sites = plan.transmitter_sites
    picks = rng.choice(len(sites), size=count, replace=count > len(sites))
    azimuths = rng.integers(0, 360, size=count) if antenna != 1 else np.zeros(count, dtype=int)
    return {
        s: TxPosition(x=float(sites[i][1]), y=float(sites[i][0]), azimuth_deg=float(a))
        for s, (i, a) in enumerate(zip(picks, azimuths, strict=True))
    }


def sample_images(
    plan: BuildingPlan, position: TxPosition, pattern_dbi: np.ndarray, frequency_mhz: float
) -> tuple[np.ndarray, np.ndarray]:
    """The input (H, W, 3) and output (H, W) uint8 images of one transmitter.

    Returns:
        input: R reflectance, G transmittance, B distance to the transmitter in metres (scale.py);
        output: the multi-wall path loss (multiwall.py) on the output grey scale.
    """
    row, col = int(position.y), int(position.x)
    rows, cols = np.indices(plan.transmittance.shape)
    distance = np.hypot(rows - row, cols - col) * METRES_PER_PIXEL
    image = np.stack([plan.reflectance, plan.transmittance, distance_to_grey(distance)], axis=2)
    loss = multiwall_pathloss_db(plan.transmittance, row, col, position.azimuth_deg, pattern_dbi, frequency_mhz)
    return image, pathloss_to_grey(loss)
