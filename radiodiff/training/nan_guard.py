"""The NaN guard: skip non-finite steps, count them, and ask for a restore after too many in a row."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class NanGuard:
    """Bookkeeping of non-finite optimisation steps.

    A step whose loss or gradient norm is not finite is skipped (no optimiser update). After
    `max_consecutive` skips in a row the trainer restores the last good checkpoint and multiplies the
    learning rate by `lr_factor`.
    """

    max_consecutive: int
    lr_factor: float
    total_skips: int = 0
    consecutive: int = 0
    restores: int = 0
    lr_scale: float = 1.0

    def check(self, *values: float) -> bool:
        """Record one step; True when every value is finite (the step may be applied)."""
        if all(math.isfinite(v) for v in values):
            self.consecutive = 0
            return True
        self.total_skips += 1
        self.consecutive += 1
        return False

    @property
    def needs_restore(self) -> bool:
        return self.consecutive >= self.max_consecutive

    def on_restore(self) -> None:
        """After a restore: lower the LR and start counting consecutive skips again."""
        self.restores += 1
        self.consecutive = 0
        self.lr_scale *= self.lr_factor

    def state_dict(self) -> dict[str, float]:
        return {"total_skips": self.total_skips, "restores": self.restores, "lr_scale": self.lr_scale}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.total_skips = int(state["total_skips"])
        self.restores = int(state["restores"])
        self.lr_scale = float(state["lr_scale"])
        self.consecutive = 0
