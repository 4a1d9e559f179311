"""Self-describing checkpoints: safetensors weights + YAML config + JSON state + optimiser/RNG state.

A checkpoint is a folder:
    <module>.safetensors        weights of every trained module (e.g. autoencoder, discriminator)
    <module>.ema.safetensors    their exponential moving averages (when EMA is on)
    config.yaml                 the resolved config that built the modules
    training_state.pt           optimiser + scheduler states and torch RNG states (tensors only; loaded
                                with weights_only=True, never a pickled model)
    state.json                  step, epoch, position in the epoch, counters, MLflow run id, Python RNG
    manifest.json               every other file's size and SHA-256, written last (checkpoint_manifest.py)
Writes are atomic and durable: the folder is written beside its target as `<name>.writing` (every file and the
folder fsynced), then swapped into place (`<name>` -> `<name>.old`, `<name>.writing` -> `<name>`, the parent folder
fsynced). Reads verify the manifest and refuse a damaged file with one line naming it (CheckpointCorrupt); a
folder from before manifests loads unverified. checkpoint_recovery.py finds the last whole copy after a crash.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from radiodiff.config import Config, dump, load
from radiodiff.config_yaml import read_yaml
from radiodiff.models.weight_files import EMA_SUFFIX, ema_file, weights_file
from radiodiff.training.checkpoint_manifest import MANIFEST_FILE, CheckpointCorrupt, verify_files, write_manifest
from radiodiff.training.faults import RENAME, kill_in_checkpoint

T = TypeVar("T")

STATE_FILE = "state.json"
CONFIG_FILE = "config.yaml"
TRAINING_STATE_FILE = "training_state.pt"
PROCESSES_KEY = "processes"
"""TrainingState.extra key: the number of data-parallel processes that trained the run (an exact resume needs it)."""
RANK_RNG_KEY = "torch_rng_by_rank"
"""training_state key: the torch CPU RNG state of every process of a data-parallel job, in rank order."""
MANIFEST_KEY = "manifest"
"""state.json key: the checkpoint has a manifest (a copy of it without one is incomplete, not an old checkpoint)."""


@dataclass
class TrainingState:
    """Where a training run stands; enough, with the weights and optimisers, to continue exactly."""

    kind: str
    """What was trained: "vae" or "ldm"."""
    step: int = 0
    """Optimisation steps completed."""
    epoch: int = 0
    """Current epoch of the data order."""
    position: int = 0
    """Micro-batches of the current epoch already consumed."""
    run_id: str = ""
    """The MLflow run that owns this checkpoint."""
    best_metric: float = float("inf")
    """Best validation score so far (lower is better)."""
    nan_guard: dict[str, float] = field(default_factory=dict)
    """NanGuard.state_dict()."""
    ema_updates: int = 0
    """Number of EMA updates applied."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Task-specific values (e.g. the VAE URI of an LDM, the latent scale factor)."""


@dataclass
class Checkpoint:
    """A checkpoint read back from disk."""

    state: TrainingState
    config: Config
    weights: dict[str, dict[str, torch.Tensor]]
    ema_weights: dict[str, dict[str, torch.Tensor]]
    training_state: dict[str, Any]
    python_rng: Any = None


def save_checkpoint(
    folder: Path,
    state: TrainingState,
    config: Config,
    weights: dict[str, dict[str, torch.Tensor]],
    ema_weights: dict[str, dict[str, torch.Tensor]],
    training_state: dict[str, Any],
) -> Path:
    """Write a checkpoint folder atomically and durably (replacing an older one) and return its path.

    Each file is fsynced as it is written, the manifest last, then the folder; then the folder is swapped into place
    and the parent fsynced. RADIODIFF_FAULT_KILL_IN_CHECKPOINT can SIGKILL the process between any two of these.
    """
    folder = Path(folder)
    staging = staging_folder(folder)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    written: list[str] = []
    for name, write in _files(state, config, weights, ema_weights, training_state):
        write(staging / name)
        fsync_file(staging / name)
        written.append(name)
        kill_in_checkpoint(folder.name, state.step, len(written))
    fsync_file(write_manifest(staging, written))
    kill_in_checkpoint(folder.name, state.step, len(written) + 1)
    fsync_folder(staging)
    _replace_folder(staging, folder, between=lambda: kill_in_checkpoint(folder.name, state.step, RENAME))
    return folder


def load_state(folder: Path) -> TrainingState:
    """The training state (state.json) of a checkpoint folder, without its weights (state.json and the manifest
    verified; CheckpointCorrupt names a damaged one)."""
    folder = Path(folder)
    _require_state_file(folder)
    payload = _read_state(folder, verify_files(folder, [STATE_FILE]))
    payload.pop("python_rng", None)
    return TrainingState(**payload)


def verify_checkpoint(folder: Path, require_manifest: bool = False) -> TrainingState:
    """Check a whole checkpoint folder and return its state: every file against the manifest; a folder without a
    manifest (written before manifests) is read whole instead, unless `require_manifest`.

    Raises:
        FileNotFoundError: the folder has no state.json (not a checkpoint, or one whose writing never got that far).
        CheckpointCorrupt: naming the file that is missing, truncated or altered.
    """
    folder = Path(folder)
    _require_state_file(folder)
    listing = verify_files(folder)
    if listing is None and require_manifest:
        raise CheckpointCorrupt(f"{folder / MANIFEST_FILE} is missing: the checkpoint was not written whole")
    if listing is None:
        return load_checkpoint(folder).state
    return load_state(folder)


def load_checkpoint(folder: Path) -> Checkpoint:
    """Read a checkpoint folder, verified against its manifest.

    Raises:
        FileNotFoundError: a missing or foreign folder (the message names the file).
        CheckpointCorrupt: a file missing, truncated or altered, or (without a manifest) unreadable, named.
    """
    folder = Path(folder)
    _require_state_file(folder)
    listing = verify_files(folder)
    payload = _read_state(folder, listing)
    python_rng = payload.pop("python_rng", None)
    names = sorted(listing) if listing is not None else sorted(p.name for p in folder.glob("*.safetensors"))
    weights, ema_weights = {}, {}
    for name in (n for n in names if n.endswith(".safetensors")):
        module = name.removesuffix(".safetensors")
        tensors = _read(folder / name, load_file)
        if module.endswith(EMA_SUFFIX):
            ema_weights[module.removesuffix(EMA_SUFFIX)] = tensors
        else:
            weights[module] = tensors
    return Checkpoint(
        state=TrainingState(**payload),
        config=_read(folder / CONFIG_FILE, _load_written_config),
        weights=weights,
        ema_weights=ema_weights,
        training_state=_read(folder / TRAINING_STATE_FILE, _load_training_state),
        python_rng=python_rng,
    )


def install_checkpoint(source: Path, folder: Path) -> Path:
    """Make the whole checkpoint `source` (a copy beside `folder` or a download) the checkpoint `folder`, durably;
    whatever `folder` held is dropped. `source` is moved, not copied. Returns `folder`."""
    folder, staging = Path(folder), staging_folder(Path(folder))
    if Path(source) != staging:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.move(source, staging)
    for path in staging.iterdir():
        fsync_file(path)  # a download was never fsynced
    fsync_folder(staging)
    _replace_folder(staging, folder)
    return folder


def staging_folder(folder: Path) -> Path:
    """Where a checkpoint is written before it is swapped into place: `<folder>.writing`."""
    return folder.with_name(folder.name + ".writing")


def retired_folder(folder: Path) -> Path:
    """Where the replaced copy waits during the swap: `<folder>.old`."""
    return folder.with_name(folder.name + ".old")


def fsync_file(path: Path) -> None:
    """Flush a file's data to the disk (a rename is durable only once what it names is)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(path: Path) -> None:
    """Flush a folder's entries (the names created or renamed in it) to the disk."""
    fsync_file(path)  # POSIX: a directory opened read-only can be fsynced like a file


def restore_rng(checkpoint: Checkpoint, rank: int = 0, processes: int = 1) -> None:
    """Put the Python, NumPy and torch random generators back where the checkpoint left them.

    Under several processes each takes its own torch CPU state back (`RANK_RNG_KEY`) when the checkpoint was
    written by as many processes; otherwise every process takes the writer's.
    """
    rng = checkpoint.training_state.get("torch_rng", {})
    by_rank = checkpoint.training_state.get(RANK_RNG_KEY) or []
    if len(by_rank) == processes:
        torch.set_rng_state(by_rank[rank])
    elif "cpu" in rng:
        torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    if checkpoint.python_rng is not None:
        py_state, np_state = checkpoint.python_rng
        random.setstate((py_state[0], tuple(py_state[1]), py_state[2]))
        np.random.set_state((np_state[0], np.array(np_state[1], dtype=np.uint32), *np_state[2:]))


def _torch_rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _python_rng_state() -> list[Any]:
    py_state = random.getstate()
    np_state = np.random.get_state()
    return [
        [py_state[0], list(py_state[1]), py_state[2]],
        [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    ]


def _files(
    state: TrainingState,
    config: Config,
    weights: dict[str, dict[str, torch.Tensor]],
    ema_weights: dict[str, dict[str, torch.Tensor]],
    training_state: dict[str, Any],
) -> Iterator[tuple[str, Callable[[Path], object]]]:
    """(file name, how to write it) for every file but the manifest, in writing order; each is built when its turn
    comes (one module's weights on the CPU at a time; the RNG states as they are when the files are written)."""
    for name, tensors in weights.items():
        yield weights_file(Path(), name).name, partial(_save_tensors, tensors)
    for name, tensors in ema_weights.items():
        yield ema_file(Path(), name).name, partial(_save_tensors, tensors)
    yield CONFIG_FILE, partial(_write_text, dump(config))
    yield TRAINING_STATE_FILE, partial(torch.save, {**training_state, "torch_rng": _torch_rng_state()})
    payload = {**asdict(state), "python_rng": _python_rng_state(), MANIFEST_KEY: MANIFEST_FILE}
    yield STATE_FILE, partial(_write_text, json.dumps(payload, indent=2))


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    save_file({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}, path)


def _write_text(text: str, path: Path) -> None:
    path.write_text(text)


def _require_state_file(folder: Path) -> None:
    if not (folder / STATE_FILE).is_file():
        raise FileNotFoundError(f"{folder} is not a radiodiff checkpoint: {STATE_FILE} is missing")


def _read_state(folder: Path, listing: dict[str, Any] | None) -> dict[str, Any]:
    """state.json's payload; a state that declares a manifest the folder lacks is refused (an incomplete copy)."""
    payload = _read(folder / STATE_FILE, lambda path: json.loads(path.read_text()))
    if listing is None and payload.pop(MANIFEST_KEY, None):
        raise CheckpointCorrupt(f"{folder / MANIFEST_FILE} is missing (its {STATE_FILE} says it was written)")
    payload.pop(MANIFEST_KEY, None)
    return payload


def _load_written_config(path: Path) -> Config:
    """The checkpoint's config, which `dump` wrote whole: a section or key it lacks means the file was cut short
    (defaults would fill the gap silently, and without a manifest nothing else would notice)."""
    config = load(path)
    written = read_yaml(path.read_text()) or {}
    keys = {f"{section}.{key}" for section, values in written.items() if isinstance(values, dict) for key in values}
    missing = sorted(set(config.flat()) - keys)
    if missing:
        raise ValueError(f"{len(missing)} config keys missing from {missing[0]} on: the file is cut short")
    return config


def _load_training_state(path: Path) -> dict[str, Any]:
    return torch.load(path, weights_only=True, map_location="cpu")


def _read(path: Path, reader: Callable[[Path], T]) -> T:
    """`reader(path)`, a file that cannot be parsed refused in one line naming it (a checkpoint without a manifest
    has nothing else to catch a truncated file with)."""
    if not path.is_file():
        raise CheckpointCorrupt(f"{path} is missing: the checkpoint is incomplete")
    try:
        return reader(path)
    except Exception as err:  # every parser has its own exceptions (safetensors, pickle, zip, JSON, YAML, schema)
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0].removeprefix(f"{path}: ")
        raise CheckpointCorrupt(f"{path} is unreadable ({reason[:160]})") from None


def _replace_folder(staging: Path, target: Path, between: Callable[[], None] = lambda: None) -> None:
    """Swap `staging` into `target`: the old folder is renamed away first, so a crash leaves one whole copy
    (checkpoint_recovery.py puts it back); `between` runs between the two renames (a fault hook)."""
    retired = retired_folder(target)
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        os.replace(target, retired)
    between()
    os.replace(staging, target)
    fsync_folder(target.parent)
    shutil.rmtree(retired, ignore_errors=True)
