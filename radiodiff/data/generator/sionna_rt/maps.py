"""The maps of a ray-traced data set: per map a window of the scene, its transmitters and their radio maps.

Map m draws its window, its transmitters and its solver seed from `SeedSequence([seed, m])` (as the fast engine),
so the same seed cuts the same windows and places the same transmitters whatever the number of maps; the ray
samples are then fixed by that solver seed, and the maps are bit-identical with `rt_threads: 1`
(docs/sionna_rt.md, Determinism).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from radiodiff.config import GeneratorConfig
from radiodiff.data.generator.simulate import MapSample, map_rng
from radiodiff.data.generator.sionna_rt.backend import load_sionna
from radiodiff.data.generator.sionna_rt.scene import WindowedScene, scene_path
from radiodiff.data.generator.sionna_rt.solver import SolverSettings, grey_maps, trace_window

__all__ = ["ENGINE_VERSION", "RayTracedMap", "engine_params", "ray_traced_maps"]

ENGINE_VERSION = "sionna-1"
"""Changes whenever this engine's output changes for the same parameters and Sionna RT version."""
_PACKAGES = ("sionna-rt", "mitsuba", "drjit")


@dataclass(frozen=True)
class RayTracedMap:
    """One map: its images and where in the scene they come from (meta.json)."""

    map_id: int
    sample: MapSample
    centre_xy: tuple[float, float]
    building_fraction: float
    tx_positions: list[tuple[float, float, float]]
    solver_seed: int

    def meta(self) -> dict[str, Any]:
        """This map's entry of meta.json."""
        return {
            "map": self.map_id,
            "window_centre_m": [round(v, 3) for v in self.centre_xy],
            "building_fraction": round(self.building_fraction, 4),
            "tx_pixels": self.sample.tx.tolist(),
            "tx_positions_m": [[round(v, 3) for v in p] for p in self.tx_positions],
            "solver_seed": self.solver_seed,
        }


def engine_params(config: GeneratorConfig) -> dict[str, Any]:
    """What, besides the common generator fields, determines a ray-traced data set's files (generator.json)."""
    return {
        "engine_version": ENGINE_VERSION,
        "packages": {name: _installed(name) for name in _PACKAGES},
        "scene": config.rt_scene,
        "scene_xml_sha256": hashlib.sha256(scene_path(config.rt_scene).read_bytes()).hexdigest(),
        "window_m": config.size * config.metres_per_pixel,
        "building_fraction": [config.rt_min_building_fraction, config.rt_max_building_fraction],
        "rx_height_m": config.rt_rx_height_m,
        "tx_height_above_rx_m": config.rt_tx_height_m,
        "solver": SolverSettings.from_config(config).as_dict(),
    }


def ray_traced_maps(config: GeneratorConfig) -> Iterator[RayTracedMap]:
    """Load the scene once and yield maps 0 .. maps-1 in order.

    Raises:
        MissingComponent: the rt extra or its LLVM library is missing.
        ConfigError: unknown scene, a window larger than the scene, or no window in the building-fraction range.
    """
    modules = load_sionna()
    if config.rt_threads:  # this is the tracing process's own pool (writer.py spawns it)
        modules.dr.set_thread_count(config.rt_threads)
    scene = WindowedScene(modules, config.rt_scene, config.size, config.metres_per_pixel, config.rt_rx_height_m)
    settings = SolverSettings.from_config(config)
    fractions = (config.rt_min_building_fraction, config.rt_max_building_fraction)
    for map_id in range(config.maps):
        rng = map_rng(config.seed, map_id)
        window = scene.draw_window(rng, fractions, free_needed=config.tx_per_map)
        tx = scene.place_transmitters(window, config.tx_per_map, rng)
        positions = [scene.pixel_position(window, pixel, config.rt_tx_height_m) for pixel in tx]
        solver_seed = int(rng.integers(0, 2**31 - 1))
        gain_db = trace_window(scene, window, positions, settings, solver_seed)
        sample = MapSample(buildings=window.buildings, tx=tx, gain_grey=grey_maps(gain_db, window.buildings))
        yield RayTracedMap(map_id, sample, window.centre_xy, window.building_fraction, positions, solver_seed)


def _installed(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
