"""Documented fault-injection hooks for tests and drills (off unless the environment asks for them).

RADIODIFF_FAULT_NAN_STEPS="12,20-22"   poison the micro-batches of these optimisation steps with NaN
RADIODIFF_FAULT_KILL_AT_STEP="40"       SIGKILL the process right after step 40 (after its checkpoint, if
                                        that step writes one): a hard crash, for exact-resume tests
RADIODIFF_FAULT_KILL_RANK="1"           under several processes, only the process of this rank kills itself
                                        (default: every process)
RADIODIFF_FAULT_KILL_IN_CHECKPOINT="16:2"
                                        SIGKILL the process in the middle of writing the checkpoint of step 16,
                                        right after its 2nd file (weights first, manifest.json last); a folder
                                        prefix picks one checkpoint ("last@16:2": only checkpoints/last);
                                        "16:rename" kills between the two renames that swap it into place (the
                                        old copy moved to last.old, last.writing not yet renamed to last)
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
KILL_IN_CHECKPOINT_VARIABLE = "RADIODIFF_FAULT_KILL_IN_CHECKPOINT"
RENAME = "rename"
"""The moment of a checkpoint write between its two renames (the other moments are counts of files written)."""


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


def parse_checkpoint_kill(text: str) -> tuple[str, int, int | str]:
    """ "last@16:2" -> ("last", 16, 2); "16:rename" -> ("", 16, "rename") ("": any checkpoint folder).

    Raises:
        ValueError: a malformed value, naming the variable and the expected forms.
    """
    folder, _, rest = text.strip().rpartition("@")
    step, _, moment = rest.partition(":")
    try:
        parsed = (folder, int(step), moment if moment == RENAME else int(moment))
    except ValueError:
        parsed = (folder, -1, 0)
    if parsed[1] < 0 or (parsed[2] != RENAME and parsed[2] < 1):
        raise ValueError(
            f"{KILL_IN_CHECKPOINT_VARIABLE}={text!r}: expected STEP:N (after the N-th file), STEP:{RENAME} "
            "or FOLDER@STEP:N, e.g. last@16:2"
        )
    return parsed


def kill_in_checkpoint(folder: str, step: int, moment: int | str) -> None:
    """SIGKILL the process at `moment` (files written so far, or RENAME) of writing checkpoint folder `folder` at
    `step`, when RADIODIFF_FAULT_KILL_IN_CHECKPOINT asks for exactly that; otherwise return at once."""
    text = os.environ.get(KILL_IN_CHECKPOINT_VARIABLE, "").strip()
    if not text:
        return
    which, at_step, at_moment = parse_checkpoint_kill(text)
    if (at_step, at_moment) == (step, moment) and which in ("", folder):
        os.kill(os.getpid(), signal.SIGKILL)
