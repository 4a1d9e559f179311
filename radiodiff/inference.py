"""Trained models for inference: pure-torch loaders, and their MLflow pyfunc wrappers and logging.

A model package is a folder with `config.yaml` and `<module>.safetensors` (the EMA weights when training kept
an EMA). MLflow models are logged "from code": a three-line script (written at log time) builds the wrapper
class below, and the package folder travels as the model's artifact.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import torch
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types import ParamSchema, ParamSpec, Schema, TensorSpec
from safetensors.torch import save_file

from radiodiff.config import Config, dump, load
from radiodiff.models.vae import AutoencoderKL
from radiodiff.models.weight_files import inference_weights, weights_file
from radiodiff.predictor import InputError, RadioMapPredictor

PIP_REQUIREMENTS = [
    "torch==2.14.1",
    "mlflow==3.17.2",
    "safetensors>=0.4",
    "numpy>=1.26",
    "pyyaml>=6.0",
    "timm>=1.0",
    "einops>=0.8",
]
VAE_REGISTERED_NAME = "radiodiff-vae"
MODEL_REGISTERED_NAME = "radiodiff"
MAP_SIGNATURE = ModelSignature(
    inputs=Schema(
        [
            TensorSpec(np.dtype(np.float32), (-1, -1, -1), "buildings"),
            TensorSpec(np.dtype(np.float32), (-1, -1, -1), "tx"),
        ]
    ),
    outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, -1, -1))]),
    params=ParamSchema([ParamSpec("steps", "integer", 0), ParamSpec("seed", "integer", 0)]),
)


def export_package(checkpoint_dir: Path, modules: list[str], out_dir: Path) -> Path:
    """A model package from a training checkpoint: config + each module's EMA (else raw) weights."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(checkpoint_dir / "config.yaml", out_dir / "config.yaml")
    for name in modules:
        save_file(inference_weights(checkpoint_dir, name), weights_file(out_dir, name))
    return out_dir


def load_vae(package_dir: str | Path, device: str = "cpu") -> tuple[AutoencoderKL, Config]:
    """The autoencoder of a model package (or a training checkpoint folder), in eval mode."""
    package_dir = Path(package_dir)
    config = load(package_dir / "config.yaml")
    vae = AutoencoderKL(config.vae)
    vae.load_state_dict(inference_weights(package_dir, "autoencoder"))
    return vae.to(device).eval().requires_grad_(False), config


class VAEModel(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper of the autoencoder: `radio_map` (B, H, W) in [0, 1] -> its reconstruction (B, H, W)."""

    def load_context(self, context: Any) -> None:
        self.vae, self.config = load_vae(context.artifacts["package"])

    def predict(self, context, model_input, params=None):
        maps = np.asarray(model_input["radio_map"], dtype=np.float32)
        if maps.ndim != 3:
            raise ValueError(f"radio_map must be (B, H, W) in [0, 1]; got shape {maps.shape}")
        x = torch.from_numpy(maps)[:, None] * 2.0 - 1.0  # [0, 1] -> [-1, 1] (FACTS §1)
        with torch.no_grad():
            reconstruction, _ = self.vae(x, sample_posterior=False)
        return ((reconstruction[:, 0] + 1.0) / 2.0).clamp(0, 1).numpy()


def log_vae_model(checkpoint_dir: Path, step: int, register: bool = True) -> str:
    """Log the autoencoder of a checkpoint as the pyfunc model `vae` of the active run; register it.

    Returns:
        The model URI (`models:/radiodiff-vae/<version>` when registered, else the logged model's URI).
    """
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, -1, -1), "radio_map")]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, -1, -1))]),
    )
    with tempfile.TemporaryDirectory() as tmp:
        package = export_package(checkpoint_dir, ["autoencoder"], Path(tmp) / "package")
        registered = VAE_REGISTERED_NAME if register else None
        info = _log_package("vae", "VAEModel", package, signature, step, registered)
    if register and info.registered_model_version:
        return f"models:/{VAE_REGISTERED_NAME}/{info.registered_model_version}"
    return info.model_uri


class RadioDiffModel(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper of RadioMapPredictor.

    Inputs: `buildings` and `tx`, float32 (B, H, W). Params: `steps` (0: the model's default) and `seed`.
    Output: (B, H, W) float32 path gain on the RadioMapSeer grey scale [0, 1]. Bad input is a 400 error.
    """

    def load_context(self, context: Any) -> None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        self.predictor = RadioMapPredictor(context.artifacts["package"], device=device)

    def predict(self, context, model_input, params=None):
        params = params or {}
        missing = [name for name in ("buildings", "tx") if name not in model_input]
        if missing:
            raise MlflowException(f"missing input(s) {missing}: send buildings and tx", INVALID_PARAMETER_VALUE)
        try:
            return self.predictor.predict(
                model_input["buildings"],
                model_input["tx"],
                steps=int(params.get("steps") or 0) or None,
                seed=int(params.get("seed") or 0),
            )
        except InputError as err:
            raise MlflowException(str(err), INVALID_PARAMETER_VALUE) from None


def export_radiodiff_package(ldm_checkpoint: Path, vae_package: Path, out_dir: Path) -> Path:
    """A RadioDiff model package: the LDM config (with the VAE's own `vae` section), VAE and EMA UNet weights."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = load(ldm_checkpoint / "config.yaml")
    vae_config = load(vae_package / "config.yaml").vae
    (out_dir / "config.yaml").write_text(dump(replace(config, vae=vae_config)))
    save_file(inference_weights(vae_package, "autoencoder"), weights_file(out_dir, "autoencoder"))
    save_file(inference_weights(ldm_checkpoint, "denoiser"), weights_file(out_dir, "denoiser"))
    return out_dir


def log_radiodiff_model(ldm_checkpoint: Path, vae_uri: str, step: int) -> str:
    """Log the whole map predictor as the pyfunc model `model` of the active run; returns its model URI."""
    with tempfile.TemporaryDirectory() as tmp:
        vae_package = resolve_vae_package(vae_uri, Path(tmp) / "vae")
        package = export_radiodiff_package(ldm_checkpoint, vae_package, Path(tmp) / "package")
        return _log_package("model", "RadioDiffModel", package, MAP_SIGNATURE, step).model_uri


def resolve_model_package(uri: str, dst: str | Path | None = None) -> Path:
    """Download the package folder of a RadioDiff model (`models:/radiodiff@champion`, `runs:/<id>/model`, ...)."""
    return _find_package(uri, "denoiser.safetensors", dst)


def resolve_vae_package(uri: str, dst: str | Path | None = None) -> Path:
    """Download the package folder of a VAE given by `models:/...`, `runs:/...` or a local folder."""
    return _find_package(uri, "autoencoder.safetensors", dst)


def _find_package(uri: str, weights: str, dst: str | Path | None) -> Path:
    """The folder under a model URI (or a local folder) holding config.yaml and `weights`."""
    local = Path(uri)
    if not local.is_dir():
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dst) if dst else None))
    matches = [p.parent for p in sorted(local.rglob("config.yaml")) if (p.parent / weights).is_file()]
    if not matches:
        raise FileNotFoundError(f"{uri} holds no radiodiff model package (config.yaml + {weights})")
    return matches[0]


def _log_package(
    name: str, class_name: str, package: Path, signature: ModelSignature, step: int, registered_name: str | None = None
) -> Any:
    """Log a model package as a models-from-code pyfunc model of the active run (with this package's code)."""
    return mlflow.pyfunc.log_model(
        name=name,
        python_model=_model_script(package.parent, class_name),
        artifacts={"package": str(package)},
        code_paths=[str(Path(__file__).parent)],
        signature=signature,
        pip_requirements=PIP_REQUIREMENTS,
        registered_model_name=registered_name,
        step=step,
    )


def _model_script(folder: Path, class_name: str) -> str:
    """The models-from-code script that MLflow runs to build the wrapper when the model is loaded."""
    script = folder / f"{class_name.lower()}_script.py"
    script.write_text(
        f"from mlflow.models import set_model\n\nfrom radiodiff.inference import {class_name}\n\n"
        f"set_model({class_name}())\n"
    )
    return str(script)
