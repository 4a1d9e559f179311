"""The forward process of RadioDiff's constant-coefficient SDE and the network's time input.

RadioDiff (arXiv:2408.08593, its "decoupled diffusion model", after Huang et al., arXiv:2306.13720) writes
the state at time t in [0, 1] as x_t = x_0 + C t + sqrt(t) n with the constant drift C = -x_0 and n ~ N(0, I), so
x_1 is pure noise and x_0 the clean latent. Public code: `ddm_const_sde.py` (`q_sample`, `forward`).
"""

from __future__ import annotations

import torch

__all__ = ["append_dims", "drift", "forward_process", "sample_time", "time_input", "uniform_to_time"]


def append_dims(t: torch.Tensor, ndim: int) -> torch.Tensor:
    """Reshape per-sample times (B,) to (B, 1, ..., 1) with `ndim` dimensions, to broadcast over (B, C, H, W)."""
    if t.ndim != 1:
        raise ValueError(f"times must have shape (B,), got {tuple(t.shape)}")
    return t.reshape(-1, *([1] * (ndim - 1)))


def uniform_to_time(u: torch.Tensor, t_eps: float, power: float = 1.0) -> torch.Tensor:
    """Map u ~ U[0, 1) to a training time in [t_eps, 1); the clamp keeps rounding from ever giving t = 1.

    power = 1: t ~ U[t_eps, 1), the paper's times. power p > 1: t = t_eps + (1 - t_eps)(1 - u^p), so the distance
    from pure noise, 1 - t, has the density of (1 - t_eps) u^p and training concentrates at high noise: at N = 1 the
    sampler's one call at t = 1 is the whole map from the condition (p = 2 puts 32 % of the draws above t = 0.9,
    against 10 % for the uniform). The time density as a design choice: Esser et al. 2024 (arXiv:2403.03206, Sec. 3.1).

    Args:
        u: uniform draws in [0, 1), any shape.
        t_eps: smallest training time (`DiffusionConfig.t_eps`).
        power: p (`DiffusionConfig.time_power`), >= 1.
    Returns:
        Times of the same shape and dtype, in [t_eps, 1).
    """
    below_one = torch.nextafter(torch.ones((), dtype=u.dtype), torch.zeros((), dtype=u.dtype))
    if power != 1.0:
        u = 1.0 - u.pow(power)
    # t ~ U(eps, 1) (FACTS §2; public code `forward`: rand * (1 - eps) + eps).
    return (t_eps + (1.0 - t_eps) * u).clamp(t_eps, below_one.item())


def sample_time(
    batch: int,
    t_eps: float,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Draw one training time per sample from U[t_eps, 1).

    Returns:
        Times of shape (B,).
    """
    u = torch.rand(batch, generator=generator, device=device, dtype=dtype)
    return uniform_to_time(u, t_eps)


def drift(x0: torch.Tensor) -> torch.Tensor:
    """The constant drift C = -x_0 (B, C, H, W), chosen so that the mean reaches 0 at t = 1 (FACTS §2)."""
    return -x0


def forward_process(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Diffuse clean latents to time t: x_t = x_0 + C t + sqrt(t) n = (1 - t) x_0 + sqrt(t) n.

    Args:
        x0: clean latents (B, C, H, W).
        t: times (B,).
        noise: n ~ N(0, I) of the shape of x0.
    Returns:
        x_t (B, C, H, W).
    """
    t = append_dims(t, x0.ndim)
    # FACTS §2; public code `q_sample`: x_start + C * time + sqrt(time) * noise.
    return x0 + drift(x0) * t + t.sqrt() * noise


def time_input(t: torch.Tensor) -> torch.Tensor:
    """The network's time input log(t) / 4 (B,); the network embeds it with Gaussian Fourier features.

    Public code: `mask_cond_unet.py`, `Unet.forward`: `self.time_mlp(torch.log(time) / 4)`.
    """
    return torch.log(t) / 4
