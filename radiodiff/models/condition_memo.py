"""Reuse of the condition's features across the sampler's network calls.

The condition encoder (and, in the multi-condition LDM, the frozen stages' latents of the condition) depends on
the condition image alone, not on x_t or t. RadioDiff's sampler calls the UNet N + 1 times on one condition, so
inside `ConditionalUNet.reusing_condition()` the features of a condition seen before are returned instead of
computed again: at the paper width the Swin-B encoder is about a third of a UNet call on CPU. The result is the
same bit for bit (the same tensors are reused). Only without autograd: training always encodes afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import torch

__all__ = ["ConditionMemo"]

Features = TypeVar("Features")


class ConditionMemo(Generic[Features]):
    """Features computed per condition tensor, looked up by value (a tiled map rebuilds its tiles every call)."""

    def __init__(self) -> None:
        self._seen: list[tuple[torch.Tensor, Features]] = []

    def features(self, cond: torch.Tensor, compute: Callable[[torch.Tensor], Features]) -> Features:
        """`compute(cond)`, or the features of an earlier equal condition (same shape, dtype and values)."""
        for seen, features in self._seen:
            if seen.shape == cond.shape and seen.dtype == cond.dtype and torch.equal(seen, cond):
                return features
        features = compute(cond)
        self._seen.append((cond, features))
        return features
