"""Fault injection: the step list syntax, NaN poisoning of exactly the listed steps, the checkpoint kill syntax."""

from __future__ import annotations

import pytest
import torch

from radiodiff.training.faults import (
    KILL_IN_CHECKPOINT_VARIABLE,
    KILL_STEP_VARIABLE,
    NAN_STEPS_VARIABLE,
    RENAME,
    FaultInjector,
    kill_in_checkpoint,
    parse_checkpoint_kill,
    parse_steps,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3,5-7", {3, 5, 6, 7}), ("", set()), (" 12 , 20-22 ,", {12, 20, 21, 22}), ("4-4", {4})],
)
def test_parse_steps(text: str, expected: set[int]) -> None:
    assert parse_steps(text) == frozenset(expected)


@pytest.mark.parametrize("text", ["x", "3,a-5", "1.5", "-3", "2-3-4"])
def test_malformed_steps_name_the_variable(text: str) -> None:
    with pytest.raises(ValueError, match=f"{NAN_STEPS_VARIABLE}=.*expected steps like"):
        parse_steps(text)


def test_maybe_poison_only_listed_steps_and_floating_tensors() -> None:
    injector = FaultInjector(nan_steps=frozenset({2, 4}))
    batch = {"target": torch.ones(2, 1, 4, 4), "ids": torch.arange(2), "half": torch.ones(3).half(), "name": "m0"}
    assert injector.maybe_poison(batch, 3) is batch
    poisoned = injector.maybe_poison(batch, 4)
    assert torch.isnan(poisoned["target"]).all() and poisoned["target"].shape == (2, 1, 4, 4)
    assert torch.isnan(poisoned["half"]).all() and poisoned["half"].dtype == torch.float16
    assert torch.equal(poisoned["ids"], torch.arange(2))
    assert poisoned["name"] == "m0"
    assert torch.equal(batch["target"], torch.ones(2, 1, 4, 4))  # the loader's batch itself is untouched


def test_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAN_STEPS_VARIABLE, "1,3-4")
    monkeypatch.setenv(KILL_STEP_VARIABLE, " 9 ")
    assert FaultInjector.from_environment() == FaultInjector(frozenset({1, 3, 4}), 9)
    monkeypatch.delenv(NAN_STEPS_VARIABLE)
    monkeypatch.delenv(KILL_STEP_VARIABLE)
    assert FaultInjector.from_environment() == FaultInjector()


@pytest.mark.parametrize("text", ["7-5", "3-"])
def test_reversed_or_open_ranges_are_malformed(text: str) -> None:
    with pytest.raises(ValueError, match=NAN_STEPS_VARIABLE):
        parse_steps(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("16:2", ("", 16, 2)), (" last@16:2 ", ("last", 16, 2)), ("0:rename", ("", 0, RENAME)), ("b@8:7", ("b", 8, 7))],
)
def test_parse_checkpoint_kill(text: str, expected: tuple[str, int, int | str]) -> None:
    assert parse_checkpoint_kill(text) == expected


@pytest.mark.parametrize("text", ["16", "16:", "16:0", "x:2", "-1:2", "16:swap", "last@:2", "16:2.5"])
def test_malformed_checkpoint_kill_names_the_variable(text: str) -> None:
    with pytest.raises(ValueError, match=f"{KILL_IN_CHECKPOINT_VARIABLE}=.*expected STEP:N"):
        parse_checkpoint_kill(text)


def test_kill_in_checkpoint_returns_unless_asked_for_that_exact_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    kill_in_checkpoint("last", 16, 2)  # unset: nothing happens
    monkeypatch.setenv(KILL_IN_CHECKPOINT_VARIABLE, "last@16:2")
    for folder, step, moment in [("best", 16, 2), ("last", 8, 2), ("last", 16, 3), ("last", 16, RENAME)]:
        kill_in_checkpoint(folder, step, moment)  # still alive: the kill itself is tried by test_checkpoint_faults
