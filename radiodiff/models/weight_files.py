"""The weight files of a trained module in a folder (a checkpoint or a model package), and which ones to run.

    <module>.safetensors        the module's raw weights
    <module>.ema.safetensors    their exponential moving average, when training kept one
Validation, sample images and every exported model run on the EMA weights when there are any.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

__all__ = ["EMA_SUFFIX", "ema_file", "inference_weights", "weights_file"]

EMA_SUFFIX = ".ema"


def weights_file(folder: Path, module: str) -> Path:
    """<folder>/<module>.safetensors."""
    return Path(folder) / f"{module}.safetensors"


def ema_file(folder: Path, module: str) -> Path:
    """<folder>/<module>.ema.safetensors."""
    return Path(folder) / f"{module}{EMA_SUFFIX}.safetensors"


def inference_weights(folder: Path, module: str) -> dict[str, torch.Tensor]:
    """The weights to run `module` with: its EMA when the folder holds one, its raw weights otherwise.

    Raises:
        FileNotFoundError: the folder holds neither file (the message names the folder and the module).
    """
    for path in (ema_file(folder, module), weights_file(folder, module)):
        if path.is_file():
            return load_file(path)
    raise FileNotFoundError(f"{folder} holds no weights of module {module!r} ({weights_file(folder, module).name})")
