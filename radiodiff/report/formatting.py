"""How the report writes numbers, durations and resume points (pure functions, text out)."""

from __future__ import annotations

import math

from radiodiff.report.resume import ResumePoint

MISSING = "—"


def number(value: float | int | None) -> str:
    """A metric value: 6 significant digits (so a value can be matched against the store), `—` if absent."""
    if value is None:
        return MISSING
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def step(value: int | None) -> str:
    return MISSING if value is None else str(value)


def duration(seconds: float | None) -> str:
    """`12.3 s`, `4 min 05 s` or `2 h 03 min`."""
    if seconds is None:
        return MISSING
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def resume_points(points: list[ResumePoint]) -> str:
    """`none`, or each point as `after step 12 -> 14 (8.3 s, time gap)`."""
    if not points:
        return "none"
    return "; ".join(f"after step {p.last_step} → {p.next_step} ({duration(p.gap_s)}, {p.reason})" for p in points)
