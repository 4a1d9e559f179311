"""Closed-form tests of the pred_KC process, parametrisation, loss and sampler (CPU, float64 where exactness
matters)."""

from __future__ import annotations

import math

import pytest
import torch

from radiodiff.diffusion import (
    append_dims,
    drift,
    forward_process,
    network_targets,
    precondition,
    pred_kc_loss,
    predict_x0,
    sample,
    sample_time,
    sampling_times,
    time_input,
    training_loss,
    uniform_to_time,
    weight_c,
    weight_eps,
)

SHAPE = (3, 2, 8, 8)  # (B, C, H, W)
T_EPS = 1e-4
F64 = {"atol": 1e-10, "rtol": 1e-10}


def _x0(seed: int = 0, shape: tuple[int, ...] = SHAPE) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _oracle(x0: torch.Tensor):
    """A network that returns the (F1, F2) whose preconditioned predictions are the true C and n at x_t."""

    def model(x_t: torch.Tensor, t_input: torch.Tensor, cond: object) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.exp(4 * t_input)  # invert the time input log(t)/4
        tt = append_dims(t, x_t.ndim)
        noise = (x_t - (1 - tt) * x0) / tt.sqrt()
        return network_targets(x_t, t, drift(x0), noise)

    return model


def _pointwise_model(x_t: torch.Tensor, t_input: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch-independent stand-in network: each sample's output depends only on that sample."""
    return 0.5 * x_t + cond, -0.3 * x_t * append_dims(t_input, x_t.ndim) + 0.1 * cond


def test_forward_process_at_t_eps_is_x0_plus_closed_form_noise_term():
    x0, noise = _x0(0), _x0(1)
    t = torch.full((SHAPE[0],), T_EPS, dtype=torch.float64)
    x_t = forward_process(x0, t, noise)
    torch.testing.assert_close(x_t - x0, -T_EPS * x0 + math.sqrt(T_EPS) * noise, **F64)


def test_forward_process_matches_one_minus_t_form():
    x0, noise = _x0(0), _x0(1)
    t = torch.tensor([0.1, 0.5, 0.99], dtype=torch.float64)
    tt = append_dims(t, 4)
    torch.testing.assert_close(forward_process(x0, t, noise), (1 - tt) * x0 + tt.sqrt() * noise, **F64)


def test_time_input_is_log_t_over_4():
    t = torch.tensor([T_EPS, 0.5, 1.0], dtype=torch.float64)
    expected = torch.tensor([math.log(T_EPS) / 4, math.log(0.5) / 4, 0.0], dtype=torch.float64)
    torch.testing.assert_close(time_input(t), expected, **F64)


def test_time_sampling_stays_in_eps_to_one():
    t = sample_time(20_000, T_EPS, generator=torch.Generator().manual_seed(0))
    assert t.shape == (20_000,)
    assert t.min() >= T_EPS and t.max() < 1
    below_one = torch.nextafter(torch.tensor(1.0), torch.tensor(0.0))
    edges = uniform_to_time(torch.stack([torch.tensor(0.0), below_one]), T_EPS)
    assert edges[0] == torch.tensor(T_EPS) and edges[1] < 1


def test_a_time_power_above_one_moves_training_toward_pure_noise():
    u = torch.rand(200_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    uniform, squared = uniform_to_time(u, T_EPS), uniform_to_time(u, T_EPS, power=2.0)
    assert torch.equal(uniform_to_time(u, T_EPS, power=1.0), uniform)  # the paper's times, bit for bit
    assert squared.min() >= T_EPS and squared.max() < 1
    # 1 - t = (1 - t_eps) u^2: P(t > 0.9) = P(u < sqrt(0.1 / (1 - t_eps))) = 0.316, against 0.1 for the uniform.
    assert (squared > 0.9).double().mean().item() == pytest.approx(math.sqrt(0.1 / (1 - T_EPS)), abs=0.005)
    assert (uniform > 0.9).double().mean().item() == pytest.approx(0.1, abs=0.005)
    torch.testing.assert_close(1 - squared, (1 - T_EPS) * u.square(), **F64)


def test_precondition_and_network_targets_are_inverse():
    x_t, c, eps = _x0(0), _x0(1), _x0(2)
    t = torch.tensor([T_EPS, 0.5, 1.0], dtype=torch.float64)
    pred = precondition(x_t, t, *network_targets(x_t, t, c, eps))
    torch.testing.assert_close(pred.c, c, **F64)
    torch.testing.assert_close(pred.eps[:2], eps[:2], **F64)
    torch.testing.assert_close(pred.eps[2], x_t[2], **F64)  # at t = 1, eps_pred = x_t whatever F2 is


def test_predict_x0_inverts_the_forward_process():
    x0, noise = _x0(0), _x0(1)
    t = torch.tensor([T_EPS, 0.5, 0.999], dtype=torch.float64)
    torch.testing.assert_close(predict_x0(forward_process(x0, t, noise), t, drift(x0), noise), x0, **F64)


def test_loss_weights_at_reference_times():
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    e = math.e
    torch.testing.assert_close(weight_c(t), torch.tensor([2 * e, 2 * e**0.5, 2.0], dtype=torch.float64), **F64)
    expected_eps = torch.tensor([1.0, e ** math.sqrt(0.5), e], dtype=torch.float64)
    torch.testing.assert_close(weight_eps(t), expected_eps, **F64)


def test_loss_is_zero_for_the_oracle():
    x0, noise = _x0(0), _x0(1)
    t = torch.tensor([T_EPS, 0.5, 1 - 1e-6], dtype=torch.float64)
    terms = training_loss(_oracle(x0), x0, None, t, noise)
    assert abs(terms.loss.item()) < 1e-9
    assert terms.loss_c.item() == pytest.approx(0, abs=1e-9) and terms.loss_eps.item() == pytest.approx(0, abs=1e-9)


def test_loss_matches_hand_computation():
    # x0 = n = 0 gives x_t = 0, so C_pred = t/sqrt(t^2+1) * a and eps_pred = sqrt(1-t)/sqrt(t^2+1) * b.
    t, a, b = 0.5, 1.0, -2.0
    zeros = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    f1, f2 = torch.full_like(zeros, a), torch.full_like(zeros, b)
    times = torch.tensor([t], dtype=torch.float64)
    terms = pred_kc_loss(precondition(zeros, times, f1, f2), zeros, zeros, times)
    dc = t / math.sqrt(t**2 + 1) * a
    de = math.sqrt(1 - t) / math.sqrt(t**2 + 1) * b
    loss_c = 2 * math.exp(1 - t) * (dc**2 + abs(dc)) / 2
    loss_eps = math.exp(math.sqrt(t)) * (de**2 + abs(de)) / 2
    assert terms.loss_c.item() == pytest.approx(loss_c, rel=1e-12)
    assert terms.loss_eps.item() == pytest.approx(loss_eps, rel=1e-12)
    assert terms.loss.item() == pytest.approx(loss_c + loss_eps, rel=1e-12)


def test_sampling_times_split_the_last_step():
    assert sampling_times(5, T_EPS) == [1.0, 0.8, 0.6, 0.4, 0.2, T_EPS]
    with pytest.raises(ValueError, match="t_eps"):
        sampling_times(4, 0.25)
    with pytest.raises(ValueError, match="steps"):
        sampling_times(0, T_EPS)


@pytest.mark.parametrize("steps", [1, 5, 10])
def test_sampler_with_oracle_recovers_x0(steps: int):
    x0 = _x0(0)
    result = sample(_oracle(x0), None, SHAPE, [0, 1, 2], steps, T_EPS, dtype=torch.float64, keep_x0_hats=True)
    torch.testing.assert_close(result.x0, x0, **F64)
    assert len(result.x0_hats) == steps + 1
    for x0_hat in result.x0_hats:
        torch.testing.assert_close(x0_hat, x0, **F64)


@pytest.mark.parametrize("steps", [1, 5, 10])
def test_sampler_makes_n_plus_one_network_calls(steps: int):
    times_seen: list[float] = []

    def counting_model(x_t, t_input, cond):
        times_seen.append(torch.exp(4 * t_input[0]).item())
        return _pointwise_model(x_t, t_input, cond)

    cond = torch.zeros(SHAPE)
    sample(counting_model, cond, SHAPE, [0, 1, 2], steps, T_EPS)
    assert len(times_seen) == steps + 1
    assert times_seen == pytest.approx(sampling_times(steps, T_EPS), rel=1e-5)


def test_sample_of_an_item_does_not_depend_on_its_batch():
    cond = torch.randn(SHAPE, generator=torch.Generator().manual_seed(7))
    seeds = [11, 22, 33]
    batch = sample(_pointwise_model, cond, SHAPE, seeds).x0
    alone = sample(_pointwise_model, cond[1:2], (1, *SHAPE[1:]), seeds[1:2]).x0
    torch.testing.assert_close(alone[0], batch[1])
    generators = [torch.Generator().manual_seed(s) for s in reversed(seeds)]
    reordered = sample(_pointwise_model, cond.flip(0), SHAPE, generators).x0
    torch.testing.assert_close(reordered.flip(0), batch)


def test_different_seeds_give_different_samples():
    cond = torch.zeros(2, *SHAPE[1:])
    x = sample(_pointwise_model, cond, cond.shape, [0, 1]).x0
    assert (x[0] - x[1]).abs().mean() > 0.1
    again = sample(_pointwise_model, cond, cond.shape, [0, 1]).x0
    assert torch.equal(x, again)


def test_sampler_rejects_a_wrong_number_of_seeds():
    with pytest.raises(ValueError, match="one per sample"):
        sample(_pointwise_model, torch.zeros(SHAPE), SHAPE, [0, 1])
