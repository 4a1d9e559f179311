"""A 3-D scene and the square windows cut from it: building masks by a top-down ray cast, transmitter positions.

Coordinates: the scene's metres, z up, x east, y north (Sionna RT's bundled scenes). A window of `pixels` x `pixels`
cells of `cell_m` metres centred at (cx, cy) maps pixel (row, col) to the cell centre
x = cx - side/2 + (col + 0.5) * cell_m, y = cy + side/2 - (row + 0.5) * cell_m: row 0 is the NORTH edge (north-up,
as every image of the RadioMapSeer layout). The receiver plane lies `rx_height_m` above the ground level, the lowest
point of the scene's bounding box; a pixel is a building where the geometry above its centre rises higher than the
receiver plane (rays cast straight down from above the scene; a ray that hits nothing, off the ground's edge, is free).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radiodiff.config_schema import ConfigError
from radiodiff.data.generator.sionna_rt.backend import SionnaModules, sionna_rt_folder

__all__ = ["Window", "WindowedScene", "bundled_scenes", "scene_path"]

BUILDING = 255
"""Building pixels of a mask (the RadioMapSeer layout's value)."""
WINDOW_ATTEMPTS = 400
"""Windows drawn per map before a scene is declared unable to give one in the building-fraction range."""


def bundled_scenes() -> list[str]:
    """Names of the scenes that ship with sionna-rt (munich, florence, etoile, ...), sorted."""
    root = sionna_rt_folder() / "scenes"
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}.xml").is_file())


def scene_path(scene: str) -> Path:
    """The XML file of `scene`: a bundled scene's name, or the path of a Mitsuba XML file.

    Raises:
        ConfigError: neither a bundled name nor an existing file (the message lists the bundled names).
        MissingComponent: a bundled name while the rt extra is not installed.
    """
    path = Path(os.path.expanduser(scene))
    if path.suffix == ".xml" and path.is_file():
        return path
    if scene in bundled_scenes():
        return sionna_rt_folder() / "scenes" / scene / f"{scene}.xml"
    raise ConfigError(
        f"generator.rt_scene = {scene!r} is neither a bundled Sionna RT scene ({', '.join(bundled_scenes())}) "
        "nor an existing Mitsuba XML file"
    )


@dataclass(frozen=True)
class Window:
    """One square window of the scene and what lies in it."""

    centre_xy: tuple[float, float]
    """Centre of the window in scene metres (x east, y north)."""
    side_m: float
    """Side of the window in metres (pixels x cell size)."""
    buildings: np.ndarray
    """(pixels, pixels) uint8 mask, 255 where a building rises above the receiver plane, north-up."""

    @property
    def building_fraction(self) -> float:
        """Share of building pixels."""
        return float(np.mean(self.buildings == BUILDING))


class WindowedScene:
    """A loaded Sionna RT scene that cuts windows, places transmitters and converts pixels to positions."""

    def __init__(self, modules: SionnaModules, scene: str, pixels: int, cell_m: float, rx_height_m: float) -> None:
        """Load `scene` (a bundled name or an XML path).

        Args:
            modules: the imported Sionna RT modules (`load_sionna()`).
            scene: generator.rt_scene.
            pixels: side of a window in pixels.
            cell_m: metres per pixel (the solver's cell size).
            rx_height_m: height of the receiver plane above the ground level.
        Raises:
            ConfigError: the scene is unknown, or smaller than one window (the message gives both sizes).
        """
        self.modules = modules
        self.name = scene
        self.path = scene_path(scene)
        self.scene = modules.rt.load_scene(str(self.path))
        self.pixels, self.cell_m = pixels, cell_m
        self.side_m = pixels * cell_m
        box = self.scene.mi_scene.bbox()
        self.lower = (float(box.min.x), float(box.min.y), float(box.min.z))
        self.upper = (float(box.max.x), float(box.max.y), float(box.max.z))
        self.rx_z = self.lower[2] + rx_height_m
        extent = (self.upper[0] - self.lower[0], self.upper[1] - self.lower[1])
        if min(extent) < self.side_m:
            raise ConfigError(
                f"scene {scene} spans {extent[0]:.0f} m x {extent[1]:.0f} m, smaller than one window of "
                f"{self.side_m:.0f} m (generator.size x generator.metres_per_pixel): lower either"
            )

    def cell_centres(self, centre_xy: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        """(x of each column, y of each row) of the cell centres of the window at `centre_xy`, north-up."""
        offsets = (np.arange(self.pixels) + 0.5) * self.cell_m - self.side_m / 2
        return centre_xy[0] + offsets, centre_xy[1] - offsets

    def building_mask(self, centre_xy: tuple[float, float]) -> np.ndarray:
        """(pixels, pixels) uint8 mask of the window at `centre_xy`: 255 where the geometry rises above the receiver
        plane at the cell centre (one ray straight down per pixel), north-up."""
        mi = self.modules.mi
        xs, ys = self.cell_centres(centre_xy)
        grid_x, grid_y = np.meshgrid(xs, ys)  # (rows, cols): row r has y = ys[r]
        start_z = self.upper[2] + 1.0
        origins = mi.Point3f(
            grid_x.ravel().astype(np.float32), grid_y.ravel().astype(np.float32), np.full(grid_x.size, start_z, "f4")
        )
        hit = self.scene.mi_scene.ray_intersect(mi.Ray3f(origins, mi.Vector3f(0.0, 0.0, -1.0)))
        valid = np.array(hit.is_valid(), dtype=bool)
        height = np.array(hit.p.z, dtype=np.float64)
        building = valid & (height > self.rx_z)
        return np.where(building, BUILDING, 0).astype(np.uint8).reshape(self.pixels, self.pixels)

    def draw_window(self, rng: np.random.Generator, fraction_range: tuple[float, float], free_needed: int) -> Window:
        """A window drawn uniformly over the scene with a building fraction in `fraction_range` and at least
        `free_needed` free pixels.

        Raises:
            ConfigError: no such window in WINDOW_ATTEMPTS draws (the message gives the fractions seen).
        """
        half = self.side_m / 2
        low, high = fraction_range
        seen = []
        for _ in range(WINDOW_ATTEMPTS):
            centre = (
                float(rng.uniform(self.lower[0] + half, self.upper[0] - half)),
                float(rng.uniform(self.lower[1] + half, self.upper[1] - half)),
            )
            window = Window(centre, self.side_m, self.building_mask(centre))
            fraction = window.building_fraction
            seen.append(fraction)
            if low <= fraction <= high and int(np.sum(window.buildings == 0)) >= free_needed:
                return window
        raise ConfigError(
            f"scene {self.name}: no {self.side_m:.0f} m window with a building fraction in {low} .. {high} in "
            f"{WINDOW_ATTEMPTS} draws (seen {min(seen):.2f} .. {max(seen):.2f}): widen generator.rt_min/"
            "max_building_fraction or change the window size"
        )

    def place_transmitters(self, window: Window, count: int, rng: np.random.Generator) -> np.ndarray:
        """(count, 2) int64 (row, col) of distinct free pixels of `window`, drawn uniformly."""
        free = np.argwhere(window.buildings == 0)
        chosen = rng.choice(len(free), size=count, replace=False)
        return free[np.sort(chosen)].astype(np.int64)

    def pixel_position(self, window: Window, pixel: np.ndarray, height_m: float) -> tuple[float, float, float]:
        """Scene position (x, y, z) of the centre of `pixel` (row, col) of `window`, `height_m` above the receiver
        plane."""
        xs, ys = self.cell_centres(window.centre_xy)
        return float(xs[int(pixel[1])]), float(ys[int(pixel[0])]), self.rx_z + height_m
