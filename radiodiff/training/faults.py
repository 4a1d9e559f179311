"""Documented fault-injection hooks for tests and drills (off unless the environment asks for them).

RADIODIFF_FAULT_NAN_STEPS="12,20-22"   poison the micro-batches of these optimisation steps with NaN
RADIODIFF_FAULT_KILL_AT_STEP="40"       SIGKILL the process right after step 40 (after its checkpoint, if
                                        that step writes one): a hard crash, for exact-resume tests
RADIODIFF_FAULT_KILL_RANK="1"           under several processes, only the process of this rank kills itself
                                        (default: every process)
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from typing import Any

import torch

NAN_STEPS_VARIABLE = "RADIODIFF_FAULT_NAN_STEPS"
KILL_STEP_VARIABLE = "RADIODIFF_FAULT_KILL_AT_STEP"
KILL_RANK_VARIABLE = "RADIODIFF_FAULT_KILL_RANK"


def parse_steps(text: str) -> frozenset[int]:
    """ "3,5-7" -> {3, 5, 6, 7}; a malformed list, reversed or open range raises ValueError naming the variable."""
    steps: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            low, high = 1, 0
        if high < low:
            raise ValueError(f"{NAN_STEPS_VARIABLE}={text!r}: expected steps like '12,20-22'")
        steps.update(range(low, high + 1))
    return frozenset(steps)


@dataclass(frozen=True)
class FaultInjector:
    """Which steps get a NaN batch and at which step the process kills itself (None: never)."""

    nan_steps: frozenset[int] = field(default_factory=frozenset)
    kill_at_step: int | None = None
    kill_rank: int | None = None

    @classmethod
    def from_environment(cls) -> FaultInjector:
        kill = os.environ.get(KILL_STEP_VARIABLE, "").strip()
        rank = os.environ.get(KILL_RANK_VARIABLE, "").strip()
        nan_steps = parse_steps(os.environ.get(NAN_STEPS_VARIABLE, ""))
        return cls(nan_steps, int(kill) if kill else None, int(rank) if rank else None)

    def maybe_poison(self, batch: dict[str, Any], step: int) -> dict[str, Any]:
        """The batch with every floating-point tensor replaced by NaN when `step` is a NaN step."""
        if step not in self.nan_steps:
            return batch
        return {
            k: torch.full_like(v, float("nan")) if torch.is_tensor(v) and v.is_floating_point() else v
            for k, v in batch.items()
        }

    def maybe_kill(self, step: int, rank: int = 0) -> None:
        if step == self.kill_at_step and self.kill_rank in (None, rank):
            os.kill(os.getpid(), signal.SIGKILL)
