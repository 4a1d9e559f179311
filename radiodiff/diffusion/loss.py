"""The time-weighted pred_KC training loss of RadioDiff.

Per sample: w1(t) * D(C_pred, C) + w2(t) * D(eps_pred, n) with w1 = 2 exp(1 - t), w2 = exp(sqrt(t)) and
D = (MSE + L1) / 2, each a mean over (C, H, W); then a mean over the batch. The halving follows the public
code (`ddm_const_sde.py`, `LatentDiffusion.p_losses` with `use_l1=True`, the default of `train_cond_ldm.py`:
`loss_simple = loss_simple / 2`); FACTS §2 writes (MSE + L1) without it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

from radiodiff.diffusion.parametrisation import ModelFn, Prediction, precondition
from radiodiff.diffusion.process import drift, forward_process, time_input

__all__ = ["LossTerms", "mse_l1", "pred_kc_loss", "training_loss", "weight_c", "weight_eps"]


class LossTerms(NamedTuple):
    """Scalar losses with loss = loss_c + loss_eps; both terms already weighted and averaged over the batch."""

    loss: torch.Tensor
    loss_c: torch.Tensor
    loss_eps: torch.Tensor


def weight_c(t: torch.Tensor) -> torch.Tensor:
    """w1(t) = 2 exp(1 - t) (B,): weight of the drift term (FACTS §2; public code `p_losses`, weighting_loss)."""
    return 2 * torch.exp(1 - t)


def weight_eps(t: torch.Tensor) -> torch.Tensor:
    """w2(t) = exp(sqrt(t)) (B,): weight of the noise term (FACTS §2; public code `p_losses`, weighting_loss)."""
    return torch.exp(t.sqrt())


def mse_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(MSE + L1) / 2 per sample: means over all but the batch dimension of (B, C, H, W) inputs; shape (B,)."""
    diff = pred - target
    dims = tuple(range(1, diff.ndim))
    return (diff.square().mean(dims) + diff.abs().mean(dims)) / 2


def pred_kc_loss(pred: Prediction, c: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> LossTerms:
    """The weighted loss of predictions against the true drift and noise.

    Args:
        pred: Prediction(c, eps) from `precondition`, each (B, C, H, W).
        c: true drift C = -x_0 (B, C, H, W).
        noise: true noise n (B, C, H, W).
        t: times (B,).
    Returns:
        LossTerms(loss, loss_c, loss_eps), scalars.
    """
    loss_c = (weight_c(t) * mse_l1(pred.c, c)).mean()
    loss_eps = (weight_eps(t) * mse_l1(pred.eps, noise)).mean()
    return LossTerms(loss_c + loss_eps, loss_c, loss_eps)


def training_loss(model: ModelFn, x0: torch.Tensor, cond: Any, t: torch.Tensor, noise: torch.Tensor) -> LossTerms:
    """Diffuse x_0 to time t, run the network, precondition its outputs and score them.

    Args:
        model: model(x_t, time_input(t), cond) -> (F1, F2).
        x0: clean (scaled) latents (B, C, H, W).
        cond: the condition, passed to the model unchanged.
        t: times (B,), e.g. from `sample_time`.
        noise: n ~ N(0, I) like x0.
    Returns:
        LossTerms(loss, loss_c, loss_eps), scalars attached to the graph.
    """
    x_t = forward_process(x0, t, noise)
    f1, f2 = model(x_t, time_input(t), cond)
    return pred_kc_loss(precondition(x_t, t, f1, f2), drift(x0), noise, t)
