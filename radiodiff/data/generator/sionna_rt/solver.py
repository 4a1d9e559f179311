"""Ray-traced radio maps of one window: Sionna RT's `RadioMapSolver` over the window's cells, on the grey scale.

The solver shoots `rt_samples_per_tx` rays from each transmitter (isotropic, vertically polarised, 0 dBm) and
accumulates the path gain of every path that crosses a cell of the receiver plane (shooting and bouncing, paths of
up to `rt_max_depth` interactions: line of sight, specular reflection, refraction through walls, diffraction on
wedges, diffuse scattering, each switchable). The result is a Monte-Carlo estimate: its noise falls as
1/sqrt(rays per cell); the solver's seed is drawn from the map's generator, so the same data-set seed shoots the same
rays. With `threads` 1 it writes bit-identical maps on the same Sionna RT / Dr.Jit version and CPU; on several
threads the LLVM backend's accumulation order varies between runs, and so do a few cells. Cells no path reaches are
below the floor (grey 0), as are building cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from radiodiff.config import GeneratorConfig
from radiodiff.data.gain_scale import db_to_grey
from radiodiff.data.generator.sionna_rt.scene import Window, WindowedScene

__all__ = ["SolverSettings", "grey_maps", "trace_window"]


@dataclass(frozen=True)
class SolverSettings:
    """The RadioMapSolver's parameters, from a GeneratorConfig (recorded in meta.json and generator.json)."""

    frequency_hz: float
    max_depth: int
    samples_per_tx: int
    threads: int
    los: bool
    specular_reflection: bool
    diffuse_reflection: bool
    refraction: bool
    diffraction: bool

    @classmethod
    def from_config(cls, config: GeneratorConfig) -> SolverSettings:
        return cls(
            frequency_hz=config.frequency_ghz * 1e9,
            max_depth=config.rt_max_depth,
            samples_per_tx=config.rt_samples_per_tx,
            threads=config.rt_threads,
            los=config.rt_los,
            specular_reflection=config.rt_specular_reflection,
            diffuse_reflection=config.rt_diffuse_reflection,
            refraction=config.rt_refraction,
            diffraction=config.rt_diffraction,
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def trace_window(
    scene: WindowedScene,
    window: Window,
    tx_positions: list[tuple[float, float, float]],
    settings: SolverSettings,
    seed: int,
) -> np.ndarray:
    """The radio maps of `tx_positions` over `window`.

    Args:
        scene: the loaded scene.
        window: the window (its centre, side and building mask).
        tx_positions: K scene positions (x, y, z) of the transmitters.
        settings: solver parameters.
        seed: the solver's ray-sampling seed.
    Returns:
        (K, pixels, pixels) float64 path gain in dB, north-up (-inf where no path arrives).
    """
    rt, mi = scene.modules.rt, scene.modules.mi
    sionna_scene = scene.scene
    sionna_scene.frequency = settings.frequency_hz
    sionna_scene.tx_array = rt.PlanarArray(num_rows=1, num_cols=1, pattern="iso", polarization="V")
    sionna_scene.rx_array = rt.PlanarArray(num_rows=1, num_cols=1, pattern="iso", polarization="V")
    names = [f"tx{k}" for k in range(len(tx_positions))]
    for name, position in zip(names, tx_positions, strict=True):
        sionna_scene.add(rt.Transmitter(name=name, position=mi.Point3f(*position), power_dbm=0.0))
    try:
        radio_map = rt.RadioMapSolver()(
            sionna_scene,
            center=mi.Point3f(window.centre_xy[0], window.centre_xy[1], scene.rx_z),
            orientation=mi.Point3f(0.0, 0.0, 0.0),
            size=mi.Point2f(window.side_m, window.side_m),
            cell_size=mi.Point2f(scene.cell_m, scene.cell_m),
            samples_per_tx=settings.samples_per_tx,
            max_depth=settings.max_depth,
            los=settings.los,
            specular_reflection=settings.specular_reflection,
            diffuse_reflection=settings.diffuse_reflection,
            refraction=settings.refraction,
            diffraction=settings.diffraction,
            edge_diffraction=settings.diffraction,
            seed=seed,
        )
        gain = np.array(radio_map.path_gain, dtype=np.float64)
    finally:
        for name in names:
            sionna_scene.remove(name)
    # The solver's rows run south to north (row 0 at the window's lowest y): flip to north-up.
    gain = gain[:, ::-1, :]
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(gain)


def grey_maps(gain_db: np.ndarray, buildings: np.ndarray) -> np.ndarray:
    """(K, H, W) uint8 RadioMapSeer grey levels of `gain_db`, 0 in buildings and below the floor."""
    return np.stack([db_to_grey(gain, buildings) for gain in gain_db])
