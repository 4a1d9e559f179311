"""Learning-rate schedules against hand-computed values: warm-up, cosine, polynomial, constant, the floor."""

from __future__ import annotations

import itertools
import math

import pytest

from radiodiff.config import TrainConfig
from radiodiff.training.schedules import lr_factor

# warm-up over steps 0..3, then 10 decay intervals over steps 4..14 (progress p = (step - 4) / 10).
COSINE = TrainConfig(steps=15, warmup_steps=4, schedule="cosine", lr_floor=0.1)
POLY = TrainConfig(steps=15, warmup_steps=4, schedule="polynomial", lr_floor=0.1, poly_power=2.0)


@pytest.mark.parametrize(("step", "expected"), [(0, 0.25), (1, 0.5), (2, 0.75), (3, 1.0)])
def test_linear_warm_up(step: int, expected: float) -> None:
    assert lr_factor(step, COSINE) == pytest.approx(expected)
    assert lr_factor(step, POLY) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (4, 1.0),  # p = 0
        (6, 0.1 + 0.9 * 0.5 * (1 + math.cos(0.2 * math.pi))),  # p = 0.2 -> 0.9140576...
        (9, 0.55),  # p = 0.5: half-way between peak and floor
        (14, 0.1),  # p = 1: the floor
    ],
)
def test_cosine_decay_hand_computed(step: int, expected: float) -> None:
    assert lr_factor(step, COSINE) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("step", "expected"), [(4, 1.0), (6, 0.1 + 0.9 * 0.64), (9, 0.325), (14, 0.1)])
def test_polynomial_decay_hand_computed(step: int, expected: float) -> None:
    assert lr_factor(step, POLY) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("schedule", ["cosine", "polynomial"])
@pytest.mark.parametrize(("steps", "warmup", "floor"), [(15, 4, 0.1), (300, 20, 0.05), (7, 0, 0.0), (50, 1, 1.0)])
def test_floor_reached_at_last_step_and_monotone_after_warm_up(
    schedule: str, steps: int, warmup: int, floor: float
) -> None:
    config = TrainConfig(steps=steps, warmup_steps=warmup, schedule=schedule, lr_floor=floor)
    factors = [lr_factor(step, config) for step in range(warmup, steps)]
    assert factors[0] == pytest.approx(1.0)
    assert factors[-1] == pytest.approx(floor, abs=1e-12)
    assert all(a >= b for a, b in itertools.pairwise(factors))
    assert min(factors) >= floor - 1e-12


def test_constant_schedule_is_one_after_warm_up() -> None:
    config = TrainConfig(steps=30, warmup_steps=5, schedule="constant", lr_floor=0.1)
    assert [lr_factor(s, config) for s in range(5)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert all(lr_factor(s, config) == 1.0 for s in range(5, 30))


def test_no_warm_up_starts_at_peak() -> None:
    assert lr_factor(0, TrainConfig(steps=10, warmup_steps=0, lr_floor=0.2)) == 1.0
