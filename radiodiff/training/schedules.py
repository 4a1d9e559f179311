"""Learning-rate schedules as pure functions of the step: linear warm-up, then a decay to a real floor.

The floor is the final learning rate (`lr_floor * lr`): the decay ends there instead of using the floor as a
multiplier of an already decayed value (a defect of the public RadioDiff code, FACTS §2).
"""

from __future__ import annotations

import math

from radiodiff.config import TrainConfig


def lr_factor(step: int, config: TrainConfig) -> float:
    """The multiplier of `config.lr` at optimisation step `step` (0-based).

    Warm-up: factor = (step + 1) / warmup_steps. Then, with progress p in [0, 1] over the remaining steps:
    cosine: floor + (1 - floor) * (1 + cos(pi p)) / 2 (Loshchilov & Hutter 2017, eq. 5);
    polynomial: floor + (1 - floor) * (1 - p) ** power; constant: 1.
    """
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "constant":
        return 1.0
    decay_steps = max(config.steps - config.warmup_steps - 1, 1)
    progress = min((step - config.warmup_steps) / decay_steps, 1.0)
    floor = config.lr_floor
    if config.schedule == "cosine":
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return floor + (1.0 - floor) * (1.0 - progress) ** config.poly_power
