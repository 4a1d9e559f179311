"""ResumableSampler: the order of an epoch depends only on (seed, epoch) and a run can start mid-epoch."""

from __future__ import annotations

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset

from radiodiff.training.sampler import ResumableSampler


def _epoch(seed: int, epoch: int, length: int = 50, start: int = 0) -> list[int]:
    sampler = ResumableSampler(length, seed=seed)
    sampler.set_epoch(epoch, start)
    return list(sampler)


def test_order_is_a_permutation_fixed_by_seed_and_epoch() -> None:
    order = _epoch(seed=7, epoch=3)
    assert sorted(order) == list(range(50))
    assert order != list(range(50))
    sampler = ResumableSampler(50, seed=7)
    for epoch in (0, 5, 3):  # history of the sampler does not matter
        sampler.set_epoch(epoch)
        list(sampler)
    sampler.set_epoch(3)
    assert list(sampler) == order


def test_start_yields_the_tail_of_that_epoch() -> None:
    full = _epoch(seed=1, epoch=2)
    tail = _epoch(seed=1, epoch=2, start=17)
    assert tail == full[17:]
    sampler = ResumableSampler(50, seed=1)
    sampler.set_epoch(2, 17)
    assert len(sampler) == 33


def test_epochs_and_seeds_differ() -> None:
    orders = {tuple(_epoch(seed=0, epoch=e)) for e in range(5)}
    assert len(orders) == 5
    assert _epoch(seed=0, epoch=0) != _epoch(seed=1, epoch=0)


def test_no_shuffle_is_the_identity() -> None:
    sampler = ResumableSampler(6, seed=3, shuffle=False)
    sampler.set_epoch(4, 2)
    assert list(sampler) == [2, 3, 4, 5]


def _prepared_loader(accelerator: Accelerator) -> DataLoader:
    """20 items in batches of 4 with the trainer's sampler, prepared the way the trainer prepares it."""
    loader = DataLoader(TensorDataset(torch.arange(20)), batch_size=4, sampler=ResumableSampler(20, 5), drop_last=True)
    return accelerator.prepare(loader)


def test_resume_through_accelerate_skip_first_batches() -> None:
    """The trainer resumes mid-epoch with accelerate's skip_first_batches + set_epoch: same batches as a full run."""
    accelerator = Accelerator(rng_types=[])
    uninterrupted = _prepared_loader(accelerator)
    uninterrupted.set_epoch(2)
    expected = [batch[0].tolist() for batch in uninterrupted][2:]
    resumed = accelerator.skip_first_batches(_prepared_loader(accelerator), 2)
    resumed.set_epoch(2)
    assert [batch[0].tolist() for batch in resumed] == expected
