"""Radio-map quality metrics as RadioDiff reports them (FACTS §3): per image, then averaged.

Every function takes prediction and truth as (B, 1, H, W) tensors on the [0, 1] grey scale (or dB for
`rmse_db`) and returns a (B,) tensor of per-image values; `score_batch` returns all of them by name.
    NMSE = sum((p - g)^2) / sum(g^2)          RMSE = sqrt(mean((p - g)^2))          MAE = mean(|p - g|)
    PSNR = 10 log10(range^2 / MSE), range 1   SSIM: Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, range 1
SSIM follows Wang et al. 2004 (eq. 13) with population statistics, i.e. scikit-image's
structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F

SSIM_SIGMA = 1.5
SSIM_RADIUS = 5  # int(3.5 * sigma + 0.5): scikit-image's truncation of the Gaussian at 3.5 sigma
SSIM_K1, SSIM_K2 = 0.01, 0.03
PSNR_CAP_DB = 100.0  # PSNR of an exact prediction, instead of +inf


def _per_image(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1).double()


def mse(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    return ((_per_image(pred) - _per_image(truth)) ** 2).mean(dim=1)


def nmse(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """sum((p - g)^2) / sum(g^2) per image (FACTS §3)."""
    err = ((_per_image(pred) - _per_image(truth)) ** 2).sum(dim=1)
    return err / (_per_image(truth) ** 2).sum(dim=1).clamp_min(1e-12)


def rmse(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """sqrt(mean((p - g)^2)) per image; on dB-valued maps this is the RMSE in dB."""
    return mse(pred, truth).sqrt()


def mae(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    return (_per_image(pred) - _per_image(truth)).abs().mean(dim=1)


def psnr(pred: torch.Tensor, truth: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """10 log10(range^2 / MSE) per image, capped at PSNR_CAP_DB for an exact prediction."""
    value = 10.0 * torch.log10(data_range**2 / mse(pred, truth).clamp_min(1e-30))
    return value.clamp_max(PSNR_CAP_DB)


def ssim(pred: torch.Tensor, truth: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Mean SSIM per image over the valid (un-padded) region, as scikit-image computes it.

    Args:
        pred, truth: (B, C, H, W) with H, W >= 11; SSIM of each channel, averaged (a 2-channel building image).
    """
    if pred.shape[-1] < 2 * SSIM_RADIUS + 1 or pred.shape[-2] < 2 * SSIM_RADIUS + 1:
        raise ValueError(f"SSIM needs maps of at least 11x11 pixels, got {tuple(pred.shape[-2:])}")
    batch = pred.shape[0]
    x, y = pred.double().flatten(0, 1)[:, None], truth.double().flatten(0, 1)[:, None]  # (B * C, 1, H, W)
    window = _gaussian_window(x.device)
    blur = lambda t: F.conv2d(t, window)  # noqa: E731  (valid region only)
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    # Wang et al. 2004, eq. 13
    score = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return score.reshape(batch, -1).mean(dim=1)


def _gaussian_window(device: torch.device) -> torch.Tensor:
    offsets = torch.arange(-SSIM_RADIUS, SSIM_RADIUS + 1, dtype=torch.float64, device=device)
    g = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


METRICS = {"nmse": nmse, "rmse": rmse, "ssim": ssim, "psnr": psnr, "mae": mae}


def score_batch(pred: torch.Tensor, truth: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every metric of FACTS §3 per image: {"nmse": (B,), "rmse": (B,), "ssim": (B,), "psnr": (B,), "mae": (B,)}.

    Args:
        pred, truth: (B, 1, H, W) on the [0, 1] grey scale; values are clamped to [0, 1] first.
    """
    if pred.shape != truth.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and truth {tuple(truth.shape)} differ in shape")
    pred, truth = pred.clamp(0, 1), truth.clamp(0, 1)
    return {name: fn(pred, truth) for name, fn in METRICS.items()}


def score_maps(pairs: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Every metric per map over batches of (prediction, truth): {"rmse": (n,), ...} for the n maps in all."""
    scores: dict[str, list[torch.Tensor]] = {}
    for pred, truth in pairs:
        for name, values in score_batch(pred, truth).items():
            scores.setdefault(name, []).append(values)
    return {name: torch.cat(values) for name, values in scores.items()}
