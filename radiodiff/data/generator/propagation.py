"""The `fast` propagation engine: path gain in dB per pixel from a building mask and a transmitter.

Two paths reach every pixel and add as incoherent powers:
- the direct path: free-space loss over the straight distance d plus the penetration loss of the buildings
  the straight ray crosses (walls + interior, `penetration.py`);
- the dominant path (Wölfle & Landstorfer 1998): the shortest route through free space, of length d + Δ
  (`corners.py`, `geodesic.py`, `excess.py`), with free-space loss over its length plus the knife-edge
  diffraction loss of the equivalent edge whose excess path length is Δ (ITU-R P.526).
In line of sight both are the same ray, so the gain there is exactly the free-space value (20 dB/decade).
Equations and parameter choices: docs/generator.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from radiodiff.data.generator.corners import blocked_rays, corner_excess_polar
from radiodiff.data.generator.excess import excess_path_px
from radiodiff.data.generator.geodesic import FreeSpaceGraph, lattice_norm
from radiodiff.data.generator.penetration import building_crossed_px, penetration_loss_polar
from radiodiff.data.generator.polar import PolarFrame

__all__ = [
    "ANGLES_PER_PIXEL",
    "ENGINE_VERSION",
    "GEODESIC_CELLS",
    "FastEngine",
    "Materials",
    "free_space_loss_db",
    "fresnel_parameter",
    "knife_edge_loss_db",
    "path_gain_db",
    "power_sum_db",
]

ENGINE_VERSION = "fast-1"
"""Changes whenever the engine's output changes (recorded in generator.json)."""
SPEED_OF_LIGHT_M_S = 299_792_458.0
_LN10_OVER_10 = np.log(10.0) / 10.0
ANGLES_PER_PIXEL = 0.5
"""Rays of the polar frame per pixel of arc at the farthest corner: 0.5 differs from 1.0 by 0.13 grey levels
on average (at shadow edges) and halves the engine's polar work."""
SILHOUETTE_JUMP_M = 10.0
"""Rays whose first building hits lie this far apart pass either side of a corner (about a street width)."""
GEODESIC_CELLS = 256
"""The lattice geodesic is solved on about this many cells per side (maps up to 511 px: one cell per pixel)."""


@dataclass(frozen=True)
class Materials:
    """Loss parameters of the buildings (the same for every building of every map)."""

    wall_loss_db: float = 12.0
    """Loss per exterior wall crossed (ITU-R P.2109 traditional-building entry loss is ~10-20 dB at 1-6 GHz)."""
    interior_loss_db_per_m: float = 1.0
    """Attenuation inside a building (interior walls and furniture, a few dB per internal wall every few m)."""
    max_diffraction_loss_db: float = 45.0
    """Cap of the knife-edge loss of the dominant path (see `_dominant_path_gain_db`)."""

    def as_dict(self) -> dict[str, float]:
        """The parameters as a plain dict (for generator.json)."""
        return asdict(self)


def free_space_loss_db(distance_m: np.ndarray, frequency_mhz: float) -> np.ndarray:
    """Free-space basic transmission loss, ITU-R P.525 eq. (6) with d in metres.

    L = 20 log10(d_m) + 20 log10(f_MHz) - 27.55   (= 32.45 + 20 log10 f_MHz + 20 log10 d_km)

    Args:
        distance_m: distances in metres (> 0), any shape.
        frequency_mhz: carrier frequency in MHz.
    Returns:
        Loss in dB, same shape as `distance_m`.
    """
    return 20.0 * np.log10(distance_m) + (20.0 * np.log10(frequency_mhz) - 27.55)


def fresnel_parameter(excess_m: np.ndarray, wavelength_m: float) -> np.ndarray:
    """Fresnel-Kirchhoff diffraction parameter of a knife edge from the excess path length Δ.

    ITU-R P.526 §4.1 gives v = h sqrt(2/λ (1/d1 + 1/d2)); with the excess path length of the bent path
    Δ ≈ h²/2 (1/d1 + 1/d2) this is v = sqrt(4 Δ / λ) = 2 sqrt(Δ / λ) (shadow side, v >= 0).

    Args:
        excess_m: excess path length Δ in metres (>= 0), any shape.
        wavelength_m: wavelength λ in metres.
    Returns:
        v, same shape as `excess_m`.
    """
    return 2.0 * np.sqrt(excess_m / wavelength_m)


def knife_edge_loss_db(v: np.ndarray) -> np.ndarray:
    """Single knife-edge diffraction loss, ITU-R P.526 eq. (31), valid for v > -0.78 (0 dB below).

    J(v) = 6.9 + 20 log10( sqrt((v - 0.1)² + 1) + v - 0.1 )

    Args:
        v: Fresnel parameter, any shape.
    Returns:
        Loss in dB (about 6 dB at the shadow boundary v = 0), same shape as `v`.
    """
    v = np.asarray(v, dtype=np.float64)
    u = v - 0.1
    loss = 6.9 + 20.0 * np.log10(np.sqrt(u * u + 1.0) + u)
    return np.where(v > -0.78, loss, 0.0)


def power_sum_db(a_db: np.ndarray, b_db: np.ndarray) -> np.ndarray:
    """Incoherent sum of two powers in dB: 10 log10(10^(a/10) + 10^(b/10)); -inf acts as zero power."""
    return np.logaddexp(a_db * _LN10_OVER_10, b_db * _LN10_OVER_10) / _LN10_OVER_10


class FastEngine:
    """The `fast` engine bound to one city map; the free-space graph is built once for all transmitters."""

    def __init__(
        self,
        buildings: np.ndarray,
        frequency_ghz: float,
        metres_per_pixel: float,
        materials: Materials | None = None,
    ) -> None:
        """Prepare the engine for one map.

        Args:
            buildings: (H, W) mask, non-zero inside buildings.
            frequency_ghz: carrier frequency in GHz.
            metres_per_pixel: ground resolution.
            materials: building loss parameters; None uses the defaults.
        """
        if np.ndim(buildings) != 2:
            raise ValueError(f"buildings must be an (H, W) mask, got shape {np.shape(buildings)}")
        self.buildings = np.asarray(buildings) != 0
        self.frequency_ghz = frequency_ghz
        self.metres_per_pixel = metres_per_pixel
        self.materials = materials or Materials()
        self.factor = max(1, min(self.buildings.shape) // GEODESIC_CELLS)
        self.graph = FreeSpaceGraph.build(self.buildings, self.factor)

    def path_gain_db(self, tx: tuple[int, int]) -> np.ndarray:
        """Path gain of every pixel (negative dB: 0 dB means no loss).

        Args:
            tx: (row, col) of the transmitter, in free space.
        Returns:
            (H, W) float32 path gain in dB. Inside buildings it is the direct (penetrating) path's value; the
            RadioMapSeer grey scale blacks those pixels out anyway.
        """
        height, width = self.buildings.shape
        if not (0 <= tx[0] < height and 0 <= tx[1] < width) or self.buildings[tx]:
            raise ValueError(f"transmitter (row, col) = {tuple(tx)} is outside the map or inside a building")
        mpp, materials = self.metres_per_pixel, self.materials
        distance_px = np.hypot(*np.ogrid[-tx[0] : height - tx[0], -tx[1] : width - tx[1]])
        distance_m = np.maximum(distance_px, 1.0) * mpp  # >= 1 px: finite at the tx pixel
        free_space = -free_space_loss_db(distance_m, self.frequency_ghz * 1e3)

        frame = PolarFrame.around((height, width), tx, angles_per_pixel=ANGLES_PER_PIXEL)
        occupancy = frame.to_polar(self.buildings.astype(np.float32))
        crossed = building_crossed_px(occupancy, frame.step_px)
        blocked = blocked_rays(crossed)
        shadowed = frame.to_map(blocked.astype(np.float32)) > np.float32(0.5)
        loss = penetration_loss_polar(occupancy, crossed, mpp, materials.wall_loss_db, materials.interior_loss_db_per_m)
        direct = free_space - frame.to_map(loss)

        excess_px = self._excess_px(tx, frame, blocked, distance_px)
        dominant = _dominant_path_gain_db(distance_m, excess_px * mpp, self.frequency_ghz, materials)
        # In line of sight the dominant path is the direct ray itself: exactly the free-space value.
        return np.where(shadowed, power_sum_db(direct, dominant), free_space).astype(np.float32)

    def _excess_px(
        self, tx: tuple[int, int], frame: PolarFrame, blocked: np.ndarray, distance_px: np.ndarray
    ) -> np.ndarray:
        """Excess length Δ in pixels of the dominant path over the straight line (`excess.py`)."""
        # Δ1 varies slowly along a ray: every other radius is enough and halves the engine's costliest step.
        coarse = frame.every_other_radius()
        jump_px = max(3.0, SILHOUETTE_JUMP_M / self.metres_per_pixel)
        excesses = corner_excess_polar(np.ascontiguousarray(blocked[:, ::2]), coarse, jump_px)
        corner_excess = (coarse.to_map(excesses[0]), coarse.to_map(excesses[1]))
        source = self.graph.source_px(tx)
        height, width = self.buildings.shape
        straight_norm = lattice_norm(*np.ogrid[-source[0] : height - source[0], -source[1] : width - source[1]])
        geodesic = self.graph.distance_px(tx)
        return excess_path_px(geodesic, straight_norm, distance_px, corner_excess, slack_px=1.5 * self.factor)


def path_gain_db(
    buildings: np.ndarray,
    tx: tuple[int, int],
    frequency_ghz: float,
    metres_per_pixel: float,
    materials: Materials | None = None,
) -> np.ndarray:
    """Path gain of one transmitter on one map (`FastEngine(...).path_gain_db(tx)`).

    Args:
        buildings: (H, W) mask, non-zero inside buildings.
        tx: (row, col) of the transmitter, in free space.
        frequency_ghz: carrier frequency in GHz.
        metres_per_pixel: ground resolution.
        materials: building loss parameters; None uses the defaults.
    Returns:
        (H, W) float32 path gain in dB.
    """
    return FastEngine(buildings, frequency_ghz, metres_per_pixel, materials).path_gain_db(tx)


def _dominant_path_gain_db(
    distance_m: np.ndarray, excess_m: np.ndarray, frequency_ghz: float, materials: Materials
) -> np.ndarray:
    """Gain of the path bent around corners: free-space loss over its length d + Δ plus the knife-edge loss.

    One equivalent knife edge stands for the whole bent path; its loss grows only with log Δ, and beyond
    `max_diffraction_loss_db` (a 90° turn tens of metres into a side street) wall reflections in the street
    canyon, which this engine omits, carry more energy than the edge: hence the cap. -inf where Δ is infinite.
    """
    wavelength_m = SPEED_OF_LIGHT_M_S / (frequency_ghz * 1e9)
    reachable = np.isfinite(excess_m)
    excess_m = np.where(reachable, excess_m, 0.0)
    diffraction = np.minimum(
        knife_edge_loss_db(fresnel_parameter(excess_m, wavelength_m)), materials.max_diffraction_loss_db
    )
    gain = -free_space_loss_db(distance_m + excess_m, frequency_ghz * 1e3) - diffraction
    return np.where(reachable, gain, -np.inf)
