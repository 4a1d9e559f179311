"""Edge maps of radio maps: where the path gain changes abruptly (building outlines, shadow boundaries).

Pure functions, uint8 (H, W) radio map in, uint8 (H, W) edge map out. The gradient detectors (Sobel, Prewitt,
Laplacian) are on a fixed scale, not rescaled per image: an output level is a change of that many grey levels
per pixel (clipped at 255), so edge maps of different radio maps compare. Canny gives a binary 0/255 map.
Flat areas give 0 with every method (borders are reflected, so the image border is not an edge).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import cv2
import numpy as np

from radiodiff.config_schema import ConfigError

__all__ = [
    "EDGE_METHODS",
    "canny_edges",
    "check_edge_method",
    "edge_map",
    "laplacian_edges",
    "prewitt_edges",
    "sobel_edges",
]

_PREWITT_X = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=np.float32)


def canny_edges(grey: np.ndarray, low: float = 50.0, high: float = 150.0) -> np.ndarray:
    """Canny edges (3x3 Sobel gradient, hysteresis thresholds `low` < `high` on its L1 magnitude). 0 or 255."""
    return cv2.Canny(_checked(grey), low, high)


def sobel_edges(grey: np.ndarray) -> np.ndarray:
    """Magnitude of the 3x3 Sobel gradient / 4: a step of h grey levels reads h on both sides of the step."""
    image = _checked(grey).astype(np.float32)
    dx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    dy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    return _to_uint8(np.hypot(dx, dy) / 4.0)  # the kernel's positive weights sum to 4


def prewitt_edges(grey: np.ndarray) -> np.ndarray:
    """Magnitude of the 3x3 Prewitt gradient / 3: a step of h grey levels reads h on both sides of the step."""
    image = _checked(grey).astype(np.float32)
    dx = cv2.filter2D(image, cv2.CV_32F, _PREWITT_X)
    dy = cv2.filter2D(image, cv2.CV_32F, _PREWITT_X.T)
    return _to_uint8(np.hypot(dx, dy) / 3.0)  # the kernel's positive weights sum to 3


def laplacian_edges(grey: np.ndarray) -> np.ndarray:
    """|4-neighbour Laplacian|: a straight step of h grey levels reads h on both sides of the step."""
    image = _checked(grey).astype(np.float32)
    return _to_uint8(np.abs(cv2.Laplacian(image, cv2.CV_32F, ksize=1)))


_METHODS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "canny": canny_edges,
    "sobel": sobel_edges,
    "laplacian": laplacian_edges,
    "prewitt": prewitt_edges,
}
EDGE_METHODS = tuple(_METHODS)
"""Names accepted by `edge_map`."""


def check_edge_method(method: str) -> str:
    """Return `method` if it names an edge detector; else raise a one-line ConfigError listing them."""
    if method in _METHODS:
        return method
    close = difflib.get_close_matches(str(method), EDGE_METHODS, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ConfigError(f"edge method {method!r} is not known; {hint}choose one of {', '.join(EDGE_METHODS)}")


def edge_map(grey: np.ndarray, method: str = "canny") -> np.ndarray:
    """The edge map of a radio map.

    Args:
        grey: uint8 (H, W) radio map (grey levels of path gain).
        method: one of EDGE_METHODS.
    Returns:
        uint8 (H, W): 0 in flat areas; see each method for the meaning of the other levels.
    Raises:
        ConfigError: unknown method (the message lists the methods).
        ValueError: `grey` is not a uint8 (H, W) array.
    """
    return _METHODS[check_edge_method(method)](grey)


def _checked(grey: np.ndarray) -> np.ndarray:
    """The radio map as a contiguous uint8 (H, W) array, or a ValueError naming its shape and dtype."""
    array = np.asarray(grey)
    if array.ndim != 2 or array.dtype != np.uint8:
        raise ValueError(f"radio map must be uint8 (H, W), got {array.dtype} of shape {array.shape}")
    return np.ascontiguousarray(array)


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Round and clip non-negative float values to 0..255."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)
