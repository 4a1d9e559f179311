"""One map of the data set in memory: its city, its transmitters and their radio maps.

Every map draws its randomness from `SeedSequence([seed, map_id])`, so map m is the same whichever process
simulates it and whatever the number of maps or workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radiodiff.config import GeneratorConfig
from radiodiff.data.gain_scale import db_to_grey
from radiodiff.data.generator.city import generate_city, place_transmitters
from radiodiff.data.generator.propagation import FastEngine, Materials

__all__ = ["MapSample", "map_rng", "simulate_map"]


@dataclass(frozen=True)
class MapSample:
    """The images of one map, as they are written to disk."""

    buildings: np.ndarray
    """(H, W) uint8, 255 inside buildings."""
    tx: np.ndarray
    """(K, 2) int64 (row, col) of the K transmitters."""
    gain_grey: np.ndarray
    """(K, H, W) uint8 radio maps on the RadioMapSeer grey scale (0 in buildings)."""

    def antenna_image(self, tx_id: int) -> np.ndarray:
        """(H, W) uint8 image of transmitter `tx_id`: 255 at its pixel, 0 elsewhere."""
        image = np.zeros_like(self.buildings)
        image[tuple(self.tx[tx_id])] = 255
        return image


def map_rng(seed: int, map_id: int) -> np.random.Generator:
    """The random generator of map `map_id` of the data set with seed `seed`."""
    return np.random.default_rng(np.random.SeedSequence([seed, map_id]))


def simulate_map(config: GeneratorConfig, map_id: int, materials: Materials | None = None) -> MapSample:
    """Generate one city, place its transmitters and compute their radio maps.

    Args:
        config: the generator configuration (size, seed, frequency, resolution, transmitters per map).
        map_id: index of the map, 0 <= map_id.
        materials: building loss parameters; None uses the defaults.
    Returns:
        The MapSample of that map.
    """
    if config.engine != "fast":
        raise ValueError(f"simulate_map is the fast engine's; engine = {config.engine!r} maps come from sionna_rt.maps")
    if map_id < 0:
        raise ValueError(f"map_id = {map_id} must be >= 0")
    rng = map_rng(config.seed, map_id)
    buildings = generate_city(config.size, config.metres_per_pixel, rng)
    tx = place_transmitters(buildings, config.tx_per_map, rng)
    grey = np.empty((config.tx_per_map, config.size, config.size), dtype=np.uint8)
    engine = FastEngine(buildings, config.frequency_ghz, config.metres_per_pixel, materials)
    for k, position in enumerate(tx):
        gain = engine.path_gain_db((int(position[0]), int(position[1])))
        grey[k] = db_to_grey(gain, buildings)
    return MapSample(buildings=buildings, tx=tx, gain_grey=grey)
