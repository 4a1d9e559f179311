"""Randomness owned by each sample: one generator per sample, seeded from what identifies it.

Training noise (the diffusion time, the forward-process noise, the posterior sample of the latent) is drawn per
sample from a generator seeded by (seed, step, map, transmitter), and sampling noise from one seed per map. So a
sample's randomness never depends on which other samples share its batch or on which process holds it: N
processes with batch B compute what one process computes with batch N x B, and an exact resume needs no RNG
state for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["MAX_TX_PER_MAP", "make_generators", "per_sample_noise", "per_sample_uniform", "sample_seeds", "step_seeds"]

MAX_TX_PER_MAP = 100_000  # sampling seeds: seed_i = map_id * MAX_TX_PER_MAP + tx_id + offset


def sample_seeds(batch: dict[str, Any], offset: int) -> list[int]:
    """One sampler seed per map of a batch (its `map_id`, `tx_id`): its noise does not depend on the batch."""
    return [int(m) * MAX_TX_PER_MAP + int(k) + offset for m, k in zip(batch["map_id"], batch["tx_id"], strict=True)]


def step_seeds(batch: dict[str, Any], seed: int, step: int) -> list[int]:
    """One training seed per sample of a batch at an optimisation step: a 63-bit hash of (seed, step, map, tx)."""
    keys = (f"{seed}:{step}:{int(m)}:{int(k)}" for m, k in zip(batch["map_id"], batch["tx_id"], strict=True))
    return [int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") >> 1 for key in keys]


def make_generators(seeds: Sequence[int] | Sequence[torch.Generator], batch: int) -> list[torch.Generator]:
    """One generator per sample: CPU generators seeded from integers, or the given generators as they are."""
    if len(seeds) != batch:
        raise ValueError(f"got {len(seeds)} seeds/generators for a batch of {batch}; expected one per sample")
    return [s if isinstance(s, torch.Generator) else torch.Generator().manual_seed(int(s)) for s in seeds]


def per_sample_noise(
    generators: Sequence[torch.Generator], shape: Sequence[int], device: torch.device | str, dtype: torch.dtype
) -> torch.Tensor:
    """N(0, I) noise of shape (B, *shape), row i drawn from generators[i] (on that generator's device).

    Drawing on the generators' device and then moving makes CPU-seeded noise identical on every device.
    """
    rows = [torch.randn(tuple(shape), generator=g, device=g.device) for g in generators]
    return torch.stack(rows).to(device=device, dtype=dtype)


def per_sample_uniform(
    generators: Sequence[torch.Generator], device: torch.device | str, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """U[0, 1) of shape (B,), value i drawn from generators[i]."""
    rows = [torch.rand((), generator=g, device=g.device) for g in generators]
    return torch.stack(rows).to(device=device, dtype=dtype)
