"""What a prediction request may hold: the scene inputs of a model and the sampler's params, with their limits.

The one home of these limits: `RadioMapPredictor.predict` (in-process Python, `radiodiff predict`) and the served
pyfunc model (`mlflow models serve`, where the InputError becomes a 400 answer) check every request here, so both
refuse the same requests with the same message. A message is one line naming the input or param, what was found
and what is allowed; it never repeats the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from radiodiff.data.condition import CONDITION_INPUTS
from radiodiff.errors import InputError

STEPS_RANGE = (1, 1000)
"""Sampler steps N (N + 1 UNet calls per map): the paper samples with N = 5 (FACTS §2); 1000 is a DDPM-length
chain, far past any gain, and bounds the time one request holds a worker. 0 or None: the model's own N."""
SEED_RANGE = (0, 2**32 - 1)
"""Sampler seed: map i of a request is sampled with seed + i."""
MIN_SIDE = 8
"""The smallest map side (pixels) the predictor takes."""
MAX_PIXELS = 64 * 256 * 256
"""Pixels per request (B x H x W): 64 RadioMapSeer maps, or one 2048 x 2048 scene; bounds a worker's memory."""
_NUMERIC_KINDS = "biuf"  # numpy dtype kinds: bool, signed and unsigned integers, floats
_KIND_NAMES = {"U": "text", "S": "bytes", "O": "mixed or nested values", "c": "complex numbers"}


@dataclass(frozen=True)
class SamplerParams:
    """The sampler's params of a request, checked: `steps` None means the model's configured N."""

    steps: int | None
    seed: int


def sampler_params(steps: object = None, seed: object = None) -> SamplerParams:
    """Check the sampler's params against `STEPS_RANGE` (0 or None: the model's default) and `SEED_RANGE` (None: 0).

    Raises:
        InputError: a param that is not an integer, or outside its range (the message gives the range).
    """
    default_steps = steps is None or (_is_int(steps) and steps == 0)
    if not default_steps:
        _check_int("steps", steps, STEPS_RANGE, "(0: the model's default)")
    if seed is not None:
        _check_int("seed", seed, SEED_RANGE)
    return SamplerParams(steps=None if default_steps else int(steps), seed=0 if seed is None else int(seed))


def scene_arrays(setting: str, inputs: object) -> dict[str, np.ndarray]:
    """The scene inputs of a request to a model of `setting`, as float32 (B, H, W) arrays of one shape.

    Args:
        setting: the model's data setting (`CONDITION_INPUTS`: static takes buildings and tx, dynamic adds cars).
        inputs: input name -> (B, H, W) array-like; a None value counts as absent.
    Raises:
        InputError: not a mapping; a missing or unknown input; values that are not numbers, not (B, H, W), of
            different shapes, smaller than 8 x 8, more than `MAX_PIXELS`, not finite, or a tx map without a
            positive pixel.
    """
    names = CONDITION_INPUTS[setting]
    if not isinstance(inputs, Mapping):
        found = "an unnamed array" if isinstance(inputs, (list, tuple, np.ndarray)) else type(inputs).__name__
        raise InputError(f"the model input must map names to arrays ({', '.join(names)}); got {found}")
    given = {str(name): value for name, value in inputs.items() if value is not None}
    takes = f"a model of the {setting} setting takes inputs {list(names)}"
    for name in given:
        if name not in names:
            raise InputError(f"unknown input {name!r}: {takes}")
    for name in names:
        if name not in given:
            raise InputError(f"missing input {name!r}: {takes}")
    arrays = {name: _numeric(name, given[name]) for name in names}
    _check_shapes(arrays)
    for name, values in arrays.items():
        if not np.isfinite(values).all():
            raise InputError(f"input {name!r} holds {np.count_nonzero(~np.isfinite(values))} NaN or infinite values")
    empty = np.flatnonzero(arrays["tx"].reshape(len(arrays["tx"]), -1).max(axis=1) <= 0)
    if empty.size:
        raise InputError(f"input 'tx' map {empty[0]} has no positive pixel: mark the transmitter with one")
    return arrays


def _numeric(name: str, values: object) -> np.ndarray:
    """`values` as a float32 array, refusing strings, objects and ragged nesting by name."""
    try:
        array = np.asarray(values)
    except ValueError:  # numpy refuses ragged nesting
        raise InputError(f"input {name!r} is ragged (rows of different lengths); expected (B, H, W)") from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise InputError(f"input {name!r} must hold numbers; got {_KIND_NAMES.get(array.dtype.kind, array.dtype)}")
    return array.astype(np.float32, copy=False)


def _check_shapes(arrays: dict[str, np.ndarray]) -> None:
    """Every input (B, H, W) with B >= 1, one shape, H and W >= `MIN_SIDE`, B x H x W <= `MAX_PIXELS`."""
    for name, values in arrays.items():
        if values.ndim != 3:
            raise InputError(f"input {name!r} has shape {values.shape}; expected (B, H, W)")
    shapes = {name: values.shape for name, values in arrays.items()}
    if len(set(shapes.values())) > 1:
        found = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise InputError(f"inputs must share one shape (B, H, W); got {found}")
    batch, height, width = next(iter(shapes.values()))
    if batch == 0:
        raise InputError("the inputs hold no map (B = 0); expected (B, H, W) with B >= 1")
    if min(height, width) < MIN_SIDE:
        raise InputError(f"maps must be at least {MIN_SIDE} x {MIN_SIDE} pixels; got {height} x {width}")
    if batch * height * width > MAX_PIXELS:
        raise InputError(
            f"the inputs hold {batch} maps of {height} x {width} pixels, over the limit of {MAX_PIXELS} pixels "
            "per request: send fewer maps per request"
        )


def _check_int(name: str, value: object, bounds: tuple[int, int], note: str = "") -> None:
    """An integer within `bounds`, else an InputError naming the param, its range and the value found."""
    if not _is_int(value) or not bounds[0] <= value <= bounds[1]:
        allowed = f"an integer in {bounds[0]}..{bounds[1]}" + (f" {note}" if note else "")
        raise InputError(f"param {name!r} must be {allowed}; got {_short(value)}")


def _is_int(value: object) -> bool:
    """Whether `value` is a Python or numpy integer (a bool is not)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _short(value: object) -> str:
    """A value for an error message, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


INDOOR_INPUTS = ("inputs", "antenna", "frequency_mhz", "azimuth_deg")
"""The inputs of a model of the icassp layout: the challenge's 3-channel image (B, 3, H, W) (reflectance,
transmittance, distance to the transmitter; grey levels as in its PNGs), and per map the antenna's pattern id, the
frequency in MHz and the azimuth in degrees (optional, 0)."""
FREQUENCY_RANGE_MHZ = (100.0, 100_000.0)
"""Carrier frequencies a request may give (the challenge's: 868, 1800 and 3500 MHz)."""


@dataclass(frozen=True)
class IndoorRequest:
    """An icassp-layout request, checked."""

    inputs: np.ndarray
    """(B, 3, H, W) float32."""
    antenna: np.ndarray
    """(B,) int64 pattern ids."""
    frequency_mhz: np.ndarray
    """(B,) float64."""
    azimuth_deg: np.ndarray
    """(B,) float64."""


def indoor_request(inputs: object, antennas: tuple[int, ...]) -> IndoorRequest:
    """The inputs of a request to a model of the icassp layout (`INDOOR_INPUTS`), checked.

    Args:
        inputs: input name -> array-like; `inputs` (B, 3, H, W) or (B, H, W, 3), `antenna` and `frequency_mhz`
            (B,), `azimuth_deg` (B,) or absent (0).
        antennas: the pattern ids the model knows.
    Raises:
        InputError: not a mapping; a missing or unknown input; `inputs` not numbers, not 3 channels, smaller than
            8 x 8, over `MAX_PIXELS` or not finite; an unknown antenna id; a frequency outside FREQUENCY_RANGE_MHZ;
            per-map values whose count is not B.
    """
    if not isinstance(inputs, Mapping):
        raise InputError(f"the model input must map names to arrays ({', '.join(INDOOR_INPUTS)})")
    given = {str(name): value for name, value in inputs.items() if value is not None}
    for name in given:
        if name not in INDOOR_INPUTS:
            raise InputError(f"unknown input {name!r}: a model of the icassp layout takes {list(INDOOR_INPUTS)}")
    for name in INDOOR_INPUTS[:3]:
        if name not in given:
            raise InputError(f"missing input {name!r}: a model of the icassp layout takes {list(INDOOR_INPUTS)}")
    image = _numeric("inputs", given["inputs"])
    if image.ndim == 4 and image.shape[1] != 3 and image.shape[-1] == 3:
        image = np.moveaxis(image, -1, 1)  # channel-last, as a PNG decodes
    if image.ndim != 4 or image.shape[1] != 3:
        raise InputError(
            f"input 'inputs' has shape {image.shape}; expected (B, 3, H, W) (reflectance, transmittance, distance)"
        )
    _check_shapes({"inputs": image[:, 0]})
    if not np.isfinite(image).all():
        raise InputError(f"input 'inputs' holds {np.count_nonzero(~np.isfinite(image))} NaN or infinite values")
    batch = image.shape[0]
    per_map = {name: _per_map(name, given.get(name, 0.0), batch) for name in INDOOR_INPUTS[1:]}
    unknown = sorted({int(a) for a in per_map["antenna"]} - set(antennas)) if _integers(per_map["antenna"]) else None
    if unknown is None or unknown:
        raise InputError(
            f"input 'antenna' must hold pattern ids of this model {list(antennas)}; got {unknown or 'non-integers'}"
        )
    low, high = FREQUENCY_RANGE_MHZ
    frequency = per_map["frequency_mhz"]
    if not ((frequency >= low) & (frequency <= high)).all():
        raise InputError(f"input 'frequency_mhz' must lie in {low:g}..{high:g} MHz; got {_short(frequency.tolist())}")
    return IndoorRequest(
        image.astype(np.float32), per_map["antenna"].astype(np.int64), frequency, per_map["azimuth_deg"]
    )


def _per_map(name: str, values: object, batch: int) -> np.ndarray:
    """A per-map input as float64 (B,): a scalar is broadcast, a (B,) array kept; finite numbers only."""
    array = _numeric(name, values).astype(np.float64).reshape(-1)
    if array.size == 1:
        array = np.repeat(array, batch)
    if array.shape != (batch,):
        raise InputError(f"input {name!r} holds {array.size} values; expected one per map (B = {batch})")
    if not np.isfinite(array).all():
        raise InputError(f"input {name!r} holds NaN or infinite values")
    return array


def _integers(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))
