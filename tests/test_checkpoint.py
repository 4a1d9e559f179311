"""Checkpoints: save/load identity (weights, EMA, AdamW, state, config), exact RNG restore, atomic writes; the
manifest that refuses a damaged file in one line naming it; fsync of every file and folder."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import radiodiff.training.checkpoint as checkpoint_module
from radiodiff.config import Config
from radiodiff.training.checkpoint import (
    STATE_FILE,
    TrainingState,
    load_checkpoint,
    load_state,
    restore_rng,
    save_checkpoint,
    verify_checkpoint,
)
from radiodiff.training.checkpoint_manifest import MANIFEST_FILE, CheckpointCorrupt, read_manifest
from radiodiff.training.ema import EMA

CONFIG = Config().with_overrides(
    {"vae.channels": 16, "vae_train.steps": 7, "vae_train.warmup_steps": 2, "data.image_size": [32, 48]}
)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny tensors: one intra-op thread avoids OpenMP wake-ups that cost ~50 ms per op on a busy 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _trained(steps: int = 3) -> tuple[nn.Module, torch.optim.AdamW, EMA]:
    """A tiny model after a few real AdamW steps (so the optimiser has moments and step counts)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 1, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    ema = EMA(model, decay=0.9)
    for _ in range(steps):
        model(torch.randn(2, 1, 8, 8)).square().mean().backward()
        optimizer.step()
        optimizer.zero_grad()
        ema.update(model)
    return model, optimizer, ema


def _save(folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer, ema: EMA, state: TrainingState) -> None:
    save_checkpoint(
        folder,
        state,
        CONFIG,
        {"net": model.state_dict()},
        {"net": ema.state_dict()},
        {"optimizers": {"net": optimizer.state_dict()}},
    )


def _seed_all(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed + 1)
    random.seed(seed + 2)


def _state() -> TrainingState:
    return TrainingState(
        kind="vae", step=3, epoch=1, position=5, run_id="abc", best_metric=0.25,
        nan_guard={"total_skips": 2, "restores": 1, "lr_scale": 0.5}, ema_updates=3, extra={"scale": 0.3},
    )  # fmt: skip


def test_round_trip_is_identity(tmp_path: Path) -> None:
    model, optimizer, ema = _trained()
    _save(tmp_path / "last", model, optimizer, ema, _state())
    loaded = load_checkpoint(tmp_path / "last")
    assert loaded.state == _state()
    assert loaded.config == CONFIG
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.weights["net"][key], value), key
    for key, value in ema.state_dict().items():
        assert torch.equal(loaded.ema_weights["net"][key], value), key
    assert set(loaded.weights) == set(loaded.ema_weights) == {"net"}


def test_default_state_round_trip_keeps_infinite_best(tmp_path: Path) -> None:
    model, optimizer, ema = _trained(steps=1)
    _save(tmp_path / "c", model, optimizer, ema, TrainingState(kind="ldm"))
    assert load_checkpoint(tmp_path / "c").state == TrainingState(kind="ldm")


def test_optimizer_state_continues_identically(tmp_path: Path) -> None:
    model, optimizer, ema = _trained()
    _save(tmp_path / "last", model, optimizer, ema, _state())
    loaded = load_checkpoint(tmp_path / "last")
    clone, clone_optimizer, _ = _trained(steps=0)
    clone.load_state_dict(loaded.weights["net"])
    clone_optimizer.load_state_dict(loaded.training_state["optimizers"]["net"])
    assert clone_optimizer.state_dict()["state"][0]["step"] == 3
    batch = torch.randn(2, 1, 8, 8)
    for net, opt in ((model, optimizer), (clone, clone_optimizer)):
        net(batch).square().mean().backward()
        opt.step()
    for a, b in zip(model.parameters(), clone.parameters(), strict=True):
        assert torch.equal(a, b)


def test_rng_restore_reproduces_the_next_draws(tmp_path: Path) -> None:
    model, optimizer, ema = _trained(steps=1)
    _seed_all(11)
    random.gauss(0, 1)  # leaves a cached gaussian in Python's state
    np.random.standard_normal()  # and in NumPy's
    _save(tmp_path / "last", model, optimizer, ema, _state())
    expected = (torch.rand(5), np.random.rand(5), [random.random() for _ in range(5)], random.gauss(0, 1))
    expected_normal = np.random.standard_normal()
    _seed_all(0)
    restore_rng(load_checkpoint(tmp_path / "last"))
    assert torch.equal(torch.rand(5), expected[0])
    assert np.array_equal(np.random.rand(5), expected[1])
    assert [random.random() for _ in range(5)] == expected[2]
    assert random.gauss(0, 1) == expected[3]
    assert np.random.standard_normal() == expected_normal


def test_leftover_staging_folder_does_not_break_the_next_save(tmp_path: Path) -> None:
    model, optimizer, ema = _trained(steps=1)
    crashed = tmp_path / "last.writing"
    crashed.mkdir()
    (crashed / "net.safetensors").write_bytes(b"half a file")
    (crashed / "stray.safetensors").write_bytes(b"junk")
    _save(tmp_path / "last", model, optimizer, ema, _state())
    loaded = load_checkpoint(tmp_path / "last")
    assert set(loaded.weights) == {"net"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last"]


def test_crash_while_writing_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, optimizer, ema = _trained(steps=1)
    folder = tmp_path / "last"
    _save(folder, model, optimizer, ema, TrainingState(kind="vae", step=4))

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        _save(folder, model, optimizer, ema, TrainingState(kind="vae", step=8))
    monkeypatch.undo()
    assert load_checkpoint(folder).state.step == 4
    _save(folder, model, optimizer, ema, TrainingState(kind="vae", step=8))  # the half-written staging is no obstacle
    assert load_checkpoint(folder).state.step == 8


def test_existing_checkpoint_is_replaced_whole(tmp_path: Path) -> None:
    model, optimizer, ema = _trained(steps=1)
    folder = tmp_path / "last"
    weights = {"net": model.state_dict(), "disc": {"w": torch.ones(2)}}
    save_checkpoint(folder, _state(), CONFIG, weights, {"net": ema.state_dict()}, {"optimizers": {}})
    (folder / "note.txt").write_text("from the old checkpoint")
    _save(folder, model, optimizer, ema, TrainingState(kind="vae", step=9))
    loaded = load_checkpoint(folder)
    assert loaded.state.step == 9
    assert set(loaded.weights) == {"net"}
    assert not (folder / "note.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last"]


def test_folder_without_state_is_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-checkpoint"
    folder.mkdir()
    (folder / "net.safetensors").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=f"{folder}.*{STATE_FILE} is missing"):
        load_checkpoint(folder)
    with pytest.raises(FileNotFoundError, match="missing-folder"):
        load_checkpoint(tmp_path / "missing-folder")


# ----- integrity: the manifest, damaged files, durable writes ---------------------------------------------------
FILES = ("net.safetensors", "net.ema.safetensors", "config.yaml", "training_state.pt", "state.json", "manifest.json")


def _damage(path: Path, how: str) -> None:
    """Truncate a file to half its bytes, flip one bit in its middle, or append a byte."""
    data = path.read_bytes()
    middle = len(data) // 2
    damaged = {
        "truncated": data[:middle],
        "flipped": data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :],
        "appended": data + b"\n",
    }[how]
    path.write_bytes(damaged)


def test_a_checkpoint_lists_every_file_in_its_manifest(tmp_path: Path) -> None:
    model, optimizer, ema = _trained(steps=1)
    _save(tmp_path / "last", model, optimizer, ema, _state())
    assert sorted(p.name for p in (tmp_path / "last").iterdir()) == sorted(FILES)
    assert sorted(read_manifest(tmp_path / "last")) == sorted(FILES[:-1])
    assert verify_checkpoint(tmp_path / "last", require_manifest=True) == _state()


@pytest.mark.parametrize("how", ["truncated", "flipped", "appended"])
@pytest.mark.parametrize("name", FILES)
def test_every_damaged_file_is_refused_in_one_line_naming_it(tmp_path: Path, name: str, how: str) -> None:
    model, optimizer, ema = _trained(steps=1)
    folder = tmp_path / "last"
    _save(folder, model, optimizer, ema, _state())
    _damage(folder / name, how)
    readers = [load_checkpoint, verify_checkpoint] + ([load_state] if name in (STATE_FILE, MANIFEST_FILE) else [])
    for read in readers:
        with pytest.raises(CheckpointCorrupt) as refused:
            read(folder)
        message = str(refused.value)
        assert "\n" not in message and str(folder / name) in message, (read.__name__, message)
    expected = {"truncated": "truncated", "flipped": "corrupted", "appended": "too long"}[how]
    assert expected in str(refused.value) or name == MANIFEST_FILE


def test_a_file_or_the_manifest_gone_is_refused_by_name(tmp_path: Path) -> None:
    model, optimizer, ema = _trained(steps=1)
    folder = tmp_path / "last"
    _save(folder, model, optimizer, ema, _state())
    (folder / "net.ema.safetensors").unlink()
    with pytest.raises(CheckpointCorrupt, match=f"^{folder / 'net.ema.safetensors'} is missing"):
        load_checkpoint(folder)
    _save(folder, model, optimizer, ema, _state())
    (folder / MANIFEST_FILE).unlink()  # state.json says there was one: an incomplete copy, not an old checkpoint
    with pytest.raises(CheckpointCorrupt, match=f"^{folder / MANIFEST_FILE} is missing"):
        load_checkpoint(folder)


def _legacy(folder: Path) -> None:
    """Make a checkpoint look like one written before manifests: no manifest.json, no mention of it in state.json."""
    (folder / MANIFEST_FILE).unlink()
    payload = json.loads((folder / STATE_FILE).read_text())
    del payload["manifest"]
    (folder / STATE_FILE).write_text(json.dumps(payload, indent=2))


def test_a_checkpoint_from_before_manifests_still_loads(tmp_path: Path) -> None:
    model, optimizer, ema = _trained()
    folder = tmp_path / "last"
    _save(folder, model, optimizer, ema, _state())
    _legacy(folder)
    loaded = load_checkpoint(folder)
    assert loaded.state == load_state(folder) == verify_checkpoint(folder) == _state()
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.weights["net"][key], value), key
    with pytest.raises(CheckpointCorrupt, match=f"{folder / MANIFEST_FILE} is missing"):
        verify_checkpoint(folder, require_manifest=True)


@pytest.mark.parametrize("name", ["net.safetensors", "config.yaml", "training_state.pt", "state.json"])
def test_a_truncated_file_of_a_checkpoint_without_manifest_is_named(tmp_path: Path, name: str) -> None:
    model, optimizer, ema = _trained(steps=1)
    folder = tmp_path / "last"
    _save(folder, model, optimizer, ema, _state())
    _legacy(folder)
    _damage(folder / name, "truncated")
    with pytest.raises(CheckpointCorrupt) as refused:
        load_checkpoint(folder)
    assert str(refused.value).startswith(f"{folder / name} is unreadable (")
    assert "\n" not in str(refused.value)


def test_every_file_and_both_folders_are_fsynced_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files, then the staging folder, before the rename into place; the parent folder after it."""
    model, optimizer, ema = _trained(steps=1)
    _save(tmp_path / "last", model, optimizer, ema, _state())  # the second save also renames the old copy away
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        events.append(("rename", f"{src} -> {dst}"))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    _save(tmp_path / "last", model, optimizer, ema, TrainingState(kind="vae", step=9))
    staging, target = tmp_path / "last.writing", tmp_path / "last"
    swap = events.index(("rename", f"{staging} -> {target}"))
    for name in FILES:
        assert ("fsync", str(staging / name)) in events[:swap], name
    assert events.index(("fsync", str(staging))) > max(events.index(("fsync", str(staging / n))) for n in FILES)
    assert events.index(("fsync", str(staging))) < swap
    assert ("fsync", str(tmp_path)) in events[swap + 1 :]
    assert events[:swap].count(("rename", f"{target} -> {tmp_path / 'last.old'}")) == 1
