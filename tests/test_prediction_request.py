"""radiodiff.prediction_request: every malformed request is refused with one line naming the culprit, not the data."""

from __future__ import annotations

import numpy as np
import pytest

from radiodiff.errors import InputError
from radiodiff.prediction_request import MAX_PIXELS, SEED_RANGE, STEPS_RANGE, sampler_params, scene_arrays


def _scene(batch: int = 2, size: int = 16) -> dict[str, np.ndarray]:
    buildings = np.zeros((batch, size, size), np.float32)
    buildings[:, 1:3, 1:3] = 1
    tx = np.zeros((batch, size, size), np.float32)
    tx[:, size - 1, size - 1] = 1
    return {"buildings": buildings, "tx": tx}


GOOD = _scene()
CASES = {
    "not a mapping": ([1.0, 2.0], "the model input must map names to arrays (buildings, tx); got an unnamed array"),
    "missing": ({"buildings": GOOD["buildings"]}, "missing input 'tx': a model of the static setting takes inputs"),
    "None is absent": ({**GOOD, "tx": None}, "missing input 'tx'"),
    "unknown": ({**GOOD, "foo": GOOD["tx"]}, "unknown input 'foo': a model of the static setting takes inputs"),
    "cars on a static model": ({**GOOD, "cars": GOOD["tx"]}, "unknown input 'cars'"),
    "text": ({**GOOD, "buildings": [[["a"] * 16] * 16] * 2}, "input 'buildings' must hold numbers; got text"),
    "ragged": ({**GOOD, "tx": [[[0.0, 1.0], [0.0]]]}, "input 'tx' is ragged (rows of different lengths)"),
    "2-D": ({**GOOD, "buildings": GOOD["buildings"][0]}, "input 'buildings' has shape (16, 16); expected (B, H, W)"),
    "shapes differ": (
        {**GOOD, "tx": GOOD["tx"][:1]},
        "inputs must share one shape (B, H, W); got buildings (2, 16, 16), tx (1, 16, 16)",
    ),
    "empty batch": (_scene(batch=0), "the inputs hold no map (B = 0)"),
    "too small": (_scene(size=4), "maps must be at least 8 x 8 pixels; got 4 x 4"),
    "too many pixels": (
        _scene(batch=MAX_PIXELS // 256 + 1),
        f"the inputs hold {MAX_PIXELS // 256 + 1} maps of 16 x 16 pixels, over the limit of {MAX_PIXELS} pixels",
    ),
    "NaN": ({**GOOD, "buildings": np.where(GOOD["buildings"] > 0, np.nan, 0)}, "input 'buildings' holds 8 NaN"),
    "inf": ({**GOOD, "tx": np.where(GOOD["tx"] > 0, np.inf, 0)}, "input 'tx' holds 2 NaN or infinite values"),
    "no transmitter": ({**GOOD, "tx": np.zeros_like(GOOD["tx"])}, "input 'tx' map 0 has no positive pixel"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_malformed_scene_is_one_line_naming_the_problem(case: str) -> None:
    inputs, message = CASES[case]
    with pytest.raises(InputError) as raised:
        scene_arrays("static", inputs)
    text = str(raised.value)
    assert text.startswith(message), text
    assert "\n" not in text and len(text) < 200, text
    assert "0." not in text and "nan," not in text, f"the message repeats the data: {text}"


def test_a_good_scene_becomes_float32_arrays_of_one_shape() -> None:
    as_lists = {name: values.astype(np.int64).tolist() for name, values in GOOD.items()}  # JSON gives ints
    arrays = scene_arrays("static", as_lists)
    assert list(arrays) == ["buildings", "tx"]
    assert all(a.dtype == np.float32 and a.shape == (2, 16, 16) for a in arrays.values())
    with pytest.raises(InputError, match="missing input 'cars': a model of the dynamic setting takes inputs"):
        scene_arrays("dynamic", GOOD)
    assert list(scene_arrays("dynamic", {**GOOD, "cars": GOOD["buildings"] * 0})) == ["buildings", "tx", "cars"]


def test_sampler_params_defaults_and_bounds() -> None:
    assert sampler_params() == sampler_params(0, None) == sampler_params(np.int64(0), 0)
    assert (sampler_params().steps, sampler_params().seed) == (None, 0)
    low, high = STEPS_RANGE
    assert sampler_params(low, SEED_RANGE[0]).steps == low
    assert sampler_params(np.int32(high), SEED_RANGE[1]) == type(sampler_params())(high, SEED_RANGE[1])


@pytest.mark.parametrize("steps", [STEPS_RANGE[1] + 1, -1, 10**9, 2.5, 2.0, True, "5", [2]])
def test_steps_out_of_range_or_not_an_integer_is_refused_with_its_range(steps: object) -> None:
    low, high = STEPS_RANGE
    with pytest.raises(InputError) as raised:
        sampler_params(steps=steps)
    assert str(raised.value) == f"param 'steps' must be an integer in {low}..{high} (0: the model's default); got " + (
        repr(steps)
    )


@pytest.mark.parametrize("seed", [-1, SEED_RANGE[1] + 1, 2**70, 1.5, "0"])
def test_seed_out_of_range_or_not_an_integer_is_refused_with_its_range(seed: object) -> None:
    with pytest.raises(InputError, match=rf"^param 'seed' must be an integer in 0\.\.{SEED_RANGE[1]}; got "):
        sampler_params(seed=seed)
