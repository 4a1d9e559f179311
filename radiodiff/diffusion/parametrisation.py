"""The "pred_KC" parametrisation: from the network's raw outputs (F1, F2) to predictions of C and n.

The skip/output scalings are preconditioning in the style of EDM (Karras et al. 2022, Sec. 5): the network
only sees x_t and the time input log(t)/4, never the SDE's coefficients, and regresses the scaled residuals
F1* = (C - (1 - t) x_t) sqrt(t^2 + 1) / t and F2* = (n - sqrt(t) x_t) sqrt(t^2 + 1) / sqrt(1 - t).
Public code: `mask_cond_unet.py`, end of `Unet.forward` (c_skip1, c_skip2, c_out1, c_out2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from radiodiff.diffusion.process import append_dims

__all__ = ["ModelFn", "Prediction", "network_targets", "precondition", "predict_x0"]

ModelFn = Callable[[torch.Tensor, torch.Tensor, Any], tuple[torch.Tensor, torch.Tensor]]
"""A network as the diffusion code sees it: model(x_t, time_input(t), cond) -> (F1, F2), each like x_t."""


class Prediction(NamedTuple):
    """Predicted drift C and noise n, each (B, C, H, W)."""

    c: torch.Tensor
    eps: torch.Tensor


def _scalings(t: torch.Tensor, ndim: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(skip_c, out_c, skip_eps, out_eps), each (B, 1, 1, 1): the coefficients of x_t and F in `precondition`."""
    t = append_dims(t, ndim)
    norm = (t.square() + 1).sqrt()
    return 1 - t, t / norm, t.sqrt(), (1 - t).sqrt() / norm


def precondition(x_t: torch.Tensor, t: torch.Tensor, f1: torch.Tensor, f2: torch.Tensor) -> Prediction:
    """C_pred = (1 - t) x_t + t / sqrt(t^2 + 1) F1;  eps_pred = sqrt(t) x_t + sqrt(1 - t) / sqrt(t^2 + 1) F2.

    Args:
        x_t: the network's input state (B, C, H, W).
        t: times (B,).
        f1, f2: the network's raw outputs (B, C, H, W).
    Returns:
        Prediction(c, eps), each (B, C, H, W).
    """
    skip_c, out_c, skip_eps, out_eps = _scalings(t, x_t.ndim)
    return Prediction(skip_c * x_t + out_c * f1, skip_eps * x_t + out_eps * f2)


def network_targets(
    x_t: torch.Tensor, t: torch.Tensor, c: torch.Tensor, eps: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Invert `precondition`: the raw outputs (F1, F2) for which it returns exactly (c, eps).

    At t = 1 the output scaling of F2 is 0 (eps_pred = x_t whatever F2 is); F2 is set to 0 there.

    Args:
        x_t: states (B, C, H, W); t: times (B,) in (0, 1]; c, eps: drift and noise (B, C, H, W).
    Returns:
        (F1, F2), each (B, C, H, W).
    """
    skip_c, out_c, skip_eps, out_eps = _scalings(t, x_t.ndim)
    f2 = (eps - skip_eps * x_t) / torch.where(out_eps > 0, out_eps, 1.0)
    return (c - skip_c * x_t) / out_c, torch.where(out_eps > 0, f2, 0.0)


def predict_x0(x_t: torch.Tensor, t: torch.Tensor, c: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """x0_hat = x_t - C t - sqrt(t) n: the forward process solved for x_0 (B, C, H, W).

    Public code: `ddm_const_sde.py`, `pred_x0_from_xt`.
    """
    t = append_dims(t, x_t.ndim)
    return x_t - c * t - t.sqrt() * eps
