"""Self-describing checkpoints: safetensors weights + YAML config + JSON state + optimiser/RNG state.

A checkpoint is a folder:
    <module>.safetensors        weights of every trained module (e.g. autoencoder, discriminator)
    <module>.ema.safetensors    their exponential moving averages (when EMA is on)
    config.yaml                 the resolved config that built the modules
    state.json                  step, epoch, position in the epoch, counters, MLflow run id, Python RNG
    training_state.pt           optimiser + scheduler states and torch RNG states (tensors only; loaded
                                with weights_only=True, never a pickled model)
Writes are atomic: the folder is written beside its target and renamed into place.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from radiodiff.config import Config, dump, load
from radiodiff.models.weight_files import EMA_SUFFIX, ema_file, weights_file

STATE_FILE = "state.json"
CONFIG_FILE = "config.yaml"
TRAINING_STATE_FILE = "training_state.pt"
PROCESSES_KEY = "processes"
"""TrainingState.extra key: the number of data-parallel processes that trained the run (an exact resume needs it)."""
RANK_RNG_KEY = "torch_rng_by_rank"
"""training_state key: the torch CPU RNG state of every process of a data-parallel job, in rank order."""


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
    """Write a checkpoint folder atomically (replacing an older one) and return its path."""
    folder = Path(folder)
    staging = folder.with_name(folder.name + ".writing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, tensors in weights.items():
        save_file(_contiguous(tensors), weights_file(staging, name))
    for name, tensors in ema_weights.items():
        save_file(_contiguous(tensors), ema_file(staging, name))
    (staging / CONFIG_FILE).write_text(dump(config))
    torch.save({**training_state, "torch_rng": _torch_rng_state()}, staging / TRAINING_STATE_FILE)
    payload = {**asdict(state), "python_rng": _python_rng_state()}
    (staging / STATE_FILE).write_text(json.dumps(payload, indent=2))
    _replace_folder(staging, folder)
    return folder


def load_state(folder: Path) -> TrainingState:
    """The training state (state.json) of a checkpoint folder, without its weights."""
    payload = json.loads((Path(folder) / STATE_FILE).read_text())
    payload.pop("python_rng", None)
    return TrainingState(**payload)


def load_checkpoint(folder: Path) -> Checkpoint:
    """Read a checkpoint folder; a missing or foreign folder raises FileNotFoundError naming the file."""
    folder = Path(folder)
    state_path = folder / STATE_FILE
    if not state_path.is_file():
        raise FileNotFoundError(f"{folder} is not a radiodiff checkpoint: {STATE_FILE} is missing")
    payload = json.loads(state_path.read_text())
    python_rng = payload.pop("python_rng", None)
    weights, ema_weights = {}, {}
    for path in sorted(folder.glob("*.safetensors")):
        name = path.name.removesuffix(".safetensors")
        if name.endswith(EMA_SUFFIX):
            ema_weights[name.removesuffix(EMA_SUFFIX)] = load_file(path)
        else:
            weights[name] = load_file(path)
    training_state = torch.load(folder / TRAINING_STATE_FILE, weights_only=True, map_location="cpu")
    return Checkpoint(
        state=TrainingState(**payload),
        config=load(folder / CONFIG_FILE),
        weights=weights,
        ema_weights=ema_weights,
        training_state=training_state,
        python_rng=python_rng,
    )


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


def _contiguous(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}


def _replace_folder(staging: Path, target: Path) -> None:
    """Swap `staging` into `target`: the old folder is renamed away first, so a crash leaves one whole copy."""
    retired = target.with_name(target.name + ".old")
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        os.replace(target, retired)
    os.replace(staging, target)
    shutil.rmtree(retired, ignore_errors=True)
