"""NanGuard bookkeeping: skip counting, the consecutive counter, restores and the lowered learning rate."""

from __future__ import annotations

import math

from radiodiff.training.nan_guard import NanGuard


def test_counts_non_finite_steps_and_resets_the_run_of_them() -> None:
    guard = NanGuard(max_consecutive=3, lr_factor=0.5)
    assert guard.check(1.0, 0.5)
    assert not guard.check(1.0, math.nan)
    assert not guard.check(math.inf, 0.5)
    assert (guard.total_skips, guard.consecutive) == (2, 2)
    assert guard.check(0.1)
    assert (guard.total_skips, guard.consecutive) == (2, 0)
    assert not guard.check(-math.inf)
    assert (guard.total_skips, guard.consecutive) == (3, 1)


def test_needs_restore_after_k_in_a_row() -> None:
    guard = NanGuard(max_consecutive=3, lr_factor=0.5)
    for _ in range(2):
        guard.check(math.nan)
        assert not guard.needs_restore
    guard.check(math.nan)
    assert guard.needs_restore


def test_restores_lower_the_learning_rate_geometrically() -> None:
    guard = NanGuard(max_consecutive=2, lr_factor=0.5)
    for expected in (0.5, 0.25):
        guard.check(math.nan)
        guard.check(math.nan)
        assert guard.needs_restore
        guard.on_restore()
        assert not guard.needs_restore
        assert guard.lr_scale == expected
    assert (guard.restores, guard.total_skips) == (2, 4)


def test_state_round_trip() -> None:
    guard = NanGuard(max_consecutive=2, lr_factor=0.3)
    guard.check(math.nan)
    guard.check(math.nan)
    guard.on_restore()
    guard.check(math.nan)
    restored = NanGuard(max_consecutive=2, lr_factor=0.3)
    restored.load_state_dict(guard.state_dict())
    assert (restored.total_skips, restored.restores, restored.lr_scale) == (3, 1, 0.3)
    assert restored.consecutive == 0  # a resumed run starts a fresh run of skips
