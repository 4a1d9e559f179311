"""radiodiff.metrics against scikit-image (SSIM, PSNR) and closed forms (NMSE, RMSE, MAE), per image in a batch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from radiodiff.metrics import PSNR_CAP_DB, mae, nmse, psnr, rmse, score_batch, ssim

TOL = 1e-4


def reference_ssim(pred: torch.Tensor, truth: torch.Tensor) -> np.ndarray:
    """scikit-image's SSIM of each (1, H, W) image of a (B, 1, H, W) batch, with RadioDiff's settings (FACTS §3)."""
    return np.array(
        [
            structural_similarity(
                p[0].double().numpy(),
                g[0].double().numpy(),
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=1,
            )
            for p, g in zip(pred, truth, strict=True)
        ]
    )


def reference_psnr(pred: torch.Tensor, truth: torch.Tensor) -> np.ndarray:
    """scikit-image's PSNR of each image of a (B, 1, H, W) batch, data range 1."""
    return np.array(
        [
            peak_signal_noise_ratio(g[0].double().numpy(), p[0].double().numpy(), data_range=1)
            for p, g in zip(pred, truth, strict=True)
        ]
    )


def radio_map(height: int, width: int, seed: int) -> torch.Tensor:
    """A radio-map-like (1, H, W) field in [0, 1]: log-distance gain from a random Tx, black building blocks."""
    rng = np.random.default_rng(seed)
    ty, tx = rng.uniform(0, height), rng.uniform(0, width)
    yy, xx = np.mgrid[0:height, 0:width]
    distance = np.hypot(yy - ty, xx - tx) + 1.0
    gain = np.clip(1.0 - 0.35 * np.log10(distance) + 0.02 * rng.standard_normal((height, width)), 0, 1)
    for _ in range(4):  # buildings: gain 0 (FACTS §1)
        y0, x0 = rng.integers(0, height - 6), rng.integers(0, width - 6)
        gain[y0 : y0 + rng.integers(3, 10), x0 : x0 + rng.integers(3, 10)] = 0.0
    return torch.from_numpy(gain).float()[None]


def structured_pairs(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(pred, truth), each (6, 1, H, W): a radio map vs. its shifted, blurred, noisy, constant, other, dimmed copies."""
    truth = radio_map(height, width, seed=1)
    blurred = torch.from_numpy(gaussian_filter(truth[0].numpy(), sigma=2.0))[None]
    noisy = (truth + 0.05 * torch.randn(truth.shape, generator=torch.Generator().manual_seed(2))).clamp(0, 1)
    preds = [
        torch.roll(truth, shifts=(2, -3), dims=(1, 2)),
        blurred,
        noisy,
        torch.full_like(truth, 0.4),
        radio_map(height, width, seed=3),
        0.8 * truth,
    ]
    return torch.stack(preds), truth.expand(len(preds), -1, -1, -1).clone()


def random_pairs(height: int, width: int, batch: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """(pred, truth), each (B, 1, H, W): independent uniform noise, and the truth with correlated noise added."""
    gen = torch.Generator().manual_seed(height * 1000 + width)
    truth = torch.rand(batch, 1, height, width, generator=gen)
    independent = torch.rand(batch // 2, 1, height, width, generator=gen)
    correlated = (truth[batch // 2 :] + 0.1 * torch.randn(truth[batch // 2 :].shape, generator=gen)).clamp(0, 1)
    return torch.cat([independent, correlated]), truth


SHAPES = [(64, 64), (40, 52), (11, 11)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("pairs", [random_pairs, structured_pairs])
def test_ssim_matches_scikit_image_per_image(shape: tuple[int, int], pairs) -> None:
    pred, truth = pairs(*shape)
    ours = ssim(pred, truth)
    assert ours.shape == (pred.shape[0],)
    np.testing.assert_allclose(ours.numpy(), reference_ssim(pred, truth), rtol=0, atol=TOL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("pairs", [random_pairs, structured_pairs])
def test_psnr_matches_scikit_image_per_image(shape: tuple[int, int], pairs) -> None:
    pred, truth = pairs(*shape)
    ours = psnr(pred, truth)
    assert ours.shape == (pred.shape[0],)
    np.testing.assert_allclose(ours.numpy(), reference_psnr(pred, truth), rtol=0, atol=TOL)


def test_ssim_of_constant_images_matches_scikit_image() -> None:
    truth = torch.tensor([0.0, 0.3, 1.0, 0.5]).view(4, 1, 1, 1).expand(4, 1, 24, 24)
    pred = torch.tensor([0.0, 0.7, 0.2, 0.5]).view(4, 1, 1, 1).expand(4, 1, 24, 24)
    ours = ssim(pred, truth)
    np.testing.assert_allclose(ours.numpy(), reference_ssim(pred, truth), rtol=0, atol=TOL)
    assert ours[0].item() == pytest.approx(1.0) and ours[3].item() == pytest.approx(1.0)


def test_ssim_of_identical_maps_is_one_and_batch_items_are_independent() -> None:
    pred, truth = structured_pairs(40, 52)
    assert torch.allclose(ssim(truth, truth), torch.ones(len(truth), dtype=torch.float64))
    alone = torch.stack([ssim(pred[i : i + 1], truth[i : i + 1])[0] for i in range(len(pred))])
    assert torch.allclose(ssim(pred, truth), alone)
    assert torch.allclose(ssim(pred.flip(0), truth.flip(0)), ssim(pred, truth).flip(0))


@pytest.mark.parametrize("shape", [(10, 64), (64, 10), (5, 5)])
def test_ssim_of_too_small_maps_names_the_size(shape: tuple[int, int]) -> None:
    maps = torch.rand(1, 1, *shape)
    with pytest.raises(ValueError, match=rf"11x11.*\({shape[0]}, {shape[1]}\)"):
        ssim(maps, maps)


@pytest.mark.parametrize("offset", [0.05, -0.1, 0.25])
def test_constant_offset_closed_forms(offset: float) -> None:
    truth = torch.stack([radio_map(40, 52, seed=s) for s in range(3)]).double()
    pred = truth + offset
    n = 40 * 52
    expected_nmse = n * offset**2 / (truth**2).flatten(1).sum(1)
    assert torch.allclose(rmse(pred, truth), torch.full((3,), abs(offset), dtype=torch.float64))
    assert torch.allclose(mae(pred, truth), torch.full((3,), abs(offset), dtype=torch.float64))
    assert torch.allclose(nmse(pred, truth), expected_nmse)
    assert torch.allclose(psnr(pred, truth), torch.full((3,), -20 * math.log10(abs(offset)), dtype=torch.float64))


def test_zero_prediction_has_nmse_one() -> None:
    truth = torch.stack([radio_map(64, 64, seed=s) for s in range(2)])
    assert torch.allclose(nmse(torch.zeros_like(truth), truth), torch.ones(2, dtype=torch.float64))


def test_exact_prediction_has_zero_errors_and_capped_psnr() -> None:
    truth = torch.stack([radio_map(64, 64, seed=s) for s in range(2)])
    for fn in (nmse, rmse, mae):
        assert torch.equal(fn(truth, truth), torch.zeros(2, dtype=torch.float64)), fn.__name__
    assert torch.equal(psnr(truth, truth), torch.full((2,), PSNR_CAP_DB, dtype=torch.float64))


def test_errors_are_per_image_in_a_batch() -> None:
    truth = torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    pred = truth + torch.tensor([0.0, 0.1, -0.3]).view(3, 1, 1, 1)
    assert torch.allclose(rmse(pred, truth), torch.tensor([0.0, 0.1, 0.3], dtype=torch.float64))
    assert torch.allclose(mae(pred, truth), torch.tensor([0.0, 0.1, 0.3], dtype=torch.float64))


def test_score_batch_gives_every_metric_per_image() -> None:
    pred, truth = structured_pairs(40, 52)
    scores = score_batch(pred, truth)
    assert set(scores) == {"nmse", "rmse", "ssim", "psnr", "mae"}
    assert all(value.shape == (len(pred),) for value in scores.values())
    np.testing.assert_allclose(scores["ssim"].numpy(), reference_ssim(pred, truth), rtol=0, atol=TOL)
    np.testing.assert_allclose(scores["psnr"].numpy(), reference_psnr(pred, truth), rtol=0, atol=TOL)


def test_score_batch_clamps_to_the_grey_scale() -> None:
    truth = torch.stack([radio_map(32, 32, seed=s) for s in range(2)])
    overshoot = torch.full_like(truth, 5.0)  # clamped to 1
    expected = (1.0 - truth.double()).pow(2).flatten(1).mean(1).sqrt()
    assert torch.allclose(score_batch(overshoot, truth)["rmse"], expected)
    wild = truth + torch.randn(truth.shape, generator=torch.Generator().manual_seed(0))
    for name, value in score_batch(wild, truth * 3 - 1).items():
        assert torch.allclose(value, score_batch(wild.clamp(0, 1), (truth * 3 - 1).clamp(0, 1))[name]), name


def test_score_batch_rejects_a_shape_mismatch() -> None:
    with pytest.raises(ValueError, match=r"prediction \(2, 1, 32, 32\) and truth \(2, 1, 32, 31\) differ in shape"):
        score_batch(torch.zeros(2, 1, 32, 32), torch.zeros(2, 1, 32, 31))
