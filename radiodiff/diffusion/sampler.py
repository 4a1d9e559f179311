"""RadioDiff's few-step sampler for the constant-coefficient SDE, with noise seeded per sample.

Network calls happen at t = 1, 1 - 1/N, ..., 1/N and t_eps: N steps of size 1/N whose last one is split into
1/N - t_eps and t_eps (N + 1 calls). Each step from t to t_next = t - s (public code `ddm_const_sde.py`,
`LatentDiffusion.sample_fn` and `pred_xtms_from_xt`, default `denoise=True`):
    x0_hat = x_t - C_pred t - sqrt(t) eps_pred
    C      = -x0_hat                                   ("correct C" in the public code)
    mean   = x_t - C s - (s / sqrt(t)) eps_pred
    sigma  = sqrt(s (t - s) / t)  (= 0 on the last step, where t_next = 0)
    x_{t-s} = mean + sigma z
The public code draws all noise from one global generator re-seeded to 0 for every image batch; here each
sample owns a generator, so sample i does not depend on which other samples share its batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch

from radiodiff.diffusion.parametrisation import ModelFn, precondition, predict_x0
from radiodiff.diffusion.process import time_input
from radiodiff.seeding import make_generators, per_sample_noise

__all__ = ["SampleResult", "reverse_step", "sample", "sampling_times"]


class SampleResult(NamedTuple):
    """The sampler's output."""

    x0: torch.Tensor
    """Final samples (B, C, H, W)."""
    x0_hats: tuple[torch.Tensor, ...]
    """x0_hat of every network call (N + 1 tensors (B, C, H, W)) when asked for, else ()."""


def sampling_times(steps: int, t_eps: float) -> list[float]:
    """The N + 1 times at which the network is called: 1, 1 - 1/N, ..., 1/N, t_eps (then t reaches 0).

    Times are computed as (N - k) / N, not by repeated subtraction, so they carry no accumulated rounding.
    """
    if steps < 1:
        raise ValueError(f"steps = {steps}; expected an integer >= 1")
    if not 0 < t_eps < 1 / steps:
        raise ValueError(f"t_eps = {t_eps}; expected 0 < t_eps < 1/steps = {1 / steps}")
    return [(steps - k) / steps for k in range(steps)] + [t_eps]


def reverse_step(
    x_t: torch.Tensor, t: float, t_next: float, x0_hat: torch.Tensor, eps_pred: torch.Tensor
) -> tuple[torch.Tensor, float]:
    """Mean and standard deviation of x_{t_next} given x_t, with C = -x0_hat (public code `pred_xtms_from_xt`).

    Args:
        x_t: states (B, C, H, W) at time t; x0_hat, eps_pred: predictions at (x_t, t), each (B, C, H, W).
        t, t_next: current and next time, 0 <= t_next < t.
    Returns:
        (mean (B, C, H, W), sigma). sigma^2 = s (t - s) / t is written s t_next / t, so it is exactly 0 when
        t_next = 0 and never negative through rounding.
    """
    s = t - t_next
    mean = x_t + s * x0_hat - (s / math.sqrt(t)) * eps_pred
    return mean, math.sqrt(s * t_next / t)


@torch.no_grad()
def sample(
    model: ModelFn,
    cond: Any,
    shape: Sequence[int],
    seeds: Sequence[int] | Sequence[torch.Generator],
    steps: int = 5,
    t_eps: float = 1e-4,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    keep_x0_hats: bool = False,
) -> SampleResult:
    """Draw samples with N = `steps` steps and N + 1 network calls, starting from x_1 ~ N(0, I).

    Args:
        model: model(x_t, time_input(t), cond) -> (F1, F2).
        cond: the condition, passed to the model unchanged (its batch must match shape[0]).
        shape: (B, C, H, W) of the latents.
        seeds: one integer seed or torch.Generator per sample; sample i depends only on seeds[i] and cond[i].
        steps: N (`DiffusionConfig.sampling_steps`).
        t_eps: time of the last call (`DiffusionConfig.t_eps`); must be < 1/N.
        keep_x0_hats: also return the x0_hat of every call (for visualisation).
    Returns:
        SampleResult(x0 (B, C, H, W), x0_hats).
    """
    generators = make_generators(seeds, shape[0])
    times = sampling_times(steps, t_eps)
    x = per_sample_noise(generators, shape[1:], device, dtype)
    x0_hats = []
    for t, t_next in zip(times, [*times[1:], 0.0], strict=True):
        t_batch = torch.full((shape[0],), t, device=device, dtype=dtype)
        f1, f2 = model(x, time_input(t_batch), cond)
        pred = precondition(x, t_batch, f1, f2)
        x0_hat = predict_x0(x, t_batch, pred.c, pred.eps)
        x, sigma = reverse_step(x, t, t_next, x0_hat, pred.eps)
        if sigma > 0:
            x = x + sigma * per_sample_noise(generators, shape[1:], device, dtype)
        if keep_x0_hats:
            x0_hats.append(x0_hat)
    return SampleResult(x, tuple(x0_hats))
