"""A resumable, seeded data order: epoch e is a fixed permutation, and a run can start mid-epoch."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class ResumableSampler(Sampler[int]):
    """Shuffles `length` indices with a generator seeded by (seed, epoch); can skip the first indices.

    The order of epoch e depends only on (seed, epoch), so a resumed run sees exactly the samples an
    uninterrupted run would have seen.
    """

    def __init__(self, length: int, seed: int, shuffle: bool = True) -> None:
        self.length = length
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Select epoch `epoch` and skip its first `start` indices (resume mid-epoch)."""
        self.epoch = epoch
        self.start = start

    def order(self) -> list[int]:
        if not self.shuffle:
            return list(range(self.length))
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return torch.randperm(self.length, generator=generator).tolist()

    def __iter__(self) -> Iterator[int]:
        yield from self.order()[self.start :]

    def __len__(self) -> int:
        return self.length - self.start
