"""EMA of the weights: closed form with the warmed-up decay, copy_to, state round trip, key mismatch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from radiodiff.training.ema import EMA


class Scalar(nn.Module):
    """One weight and one integer buffer: enough to check the average in closed form."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.tensor([value]))
        self.register_buffer("count", torch.tensor(0, dtype=torch.long))


def _set(model: Scalar, value: float, count: int) -> None:
    with torch.no_grad():
        model.weight.fill_(value)
        model.count.fill_(count)


def test_closed_form_with_warmed_up_decay() -> None:
    model = Scalar(1.0)
    ema = EMA(model, decay=0.2)
    shadow = 1.0
    # decay_n = min(0.2, (1 + n) / (10 + n)): 0.1, 2/11 = 0.1818..., then capped at 0.2 (3/12 = 0.25 > 0.2).
    for n, (weight, decay) in enumerate([(3.0, 0.1), (-2.0, 2 / 11), (5.0, 0.2), (0.5, 0.2)]):
        assert ema.current_decay() == pytest.approx(decay)
        _set(model, weight, count=n + 1)
        ema.update(model)
        shadow = decay * shadow + (1 - decay) * weight
        assert ema.shadow["weight"].item() == pytest.approx(shadow, rel=1e-6)
        assert ema.shadow["count"].item() == n + 1  # integer buffers are copied, not averaged
    assert ema.updates == 4


def test_copy_to_loads_the_average_with_the_model_dtypes() -> None:
    model = Scalar(2.0)
    ema = EMA(model, decay=0.9)
    _set(model, 12.0, count=7)
    ema.update(model)  # decay 0.1: 0.1 * 2 + 0.9 * 12 = 11
    target = Scalar(0.0)
    ema.copy_to(target)
    assert target.weight.item() == pytest.approx(11.0)
    assert target.count.dtype == torch.long and target.count.item() == 7


def test_state_round_trip_continues_identically() -> None:
    model = Scalar(1.0)
    ema = EMA(model, decay=0.5)
    for value in (2.0, 4.0, 8.0):
        _set(model, value, 0)
        ema.update(model)
    restored = EMA(Scalar(0.0), decay=0.5)
    restored.load_state_dict(ema.state_dict(), ema.updates)
    assert restored.updates == 3 and restored.current_decay() == ema.current_decay()
    _set(model, -1.0, 0)
    ema.update(model)
    restored.update(model)
    assert torch.equal(restored.shadow["weight"], ema.shadow["weight"])


def test_loaded_state_is_a_copy() -> None:
    ema = EMA(Scalar(1.0), decay=0.5)
    state = {"weight": torch.tensor([3.0]), "count": torch.tensor(0.0)}
    ema.load_state_dict(state, updates=5)
    ema.update(Scalar(1.0))
    assert state["weight"].item() == 3.0


def test_mismatched_keys_raise_naming_them() -> None:
    ema = EMA(Scalar(1.0), decay=0.9)
    with pytest.raises(ValueError, match=r"keys differ.*'bias'"):
        ema.load_state_dict({"weight": torch.zeros(1), "count": torch.zeros(()), "bias": torch.zeros(1)}, 0)
    with pytest.raises(ValueError, match=r"keys differ.*'count'"):
        ema.load_state_dict({"weight": torch.zeros(1)}, 0)
