"""Trained models for inference: pure-torch loaders, and their MLflow pyfunc wrappers and logging.

A model package is a folder with `config.yaml` and `<module>.safetensors` (the EMA weights when training kept
an EMA). Two model types predict maps: RadioDiff (`denoiser` + `autoencoder`, registered as `radiodiff`) and the
RadioUNet baseline (`radiounet`, registered as `radiounet`); both serve the same inputs and params. MLflow models
are logged "from code": a three-line script (written at log time) builds the wrapper class below, and the package
folder travels as the model's artifact.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import torch
import yaml
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.tracking import MlflowClient
from mlflow.types import ParamSchema, ParamSpec, Schema, TensorSpec
from safetensors.torch import save_file

from radiodiff.config import Config, DataConfig, dump, load
from radiodiff.data.condition import CONDITION_INPUTS
from radiodiff.data.datasets import first_stage_tiling
from radiodiff.data.transforms import denormalize, normalize
from radiodiff.errors import InputError, ModelNotFound
from radiodiff.indoor_predictor import PATTERNS_FILE, IndoorMapPredictor, write_patterns
from radiodiff.models.latent_condition import stage_config_name
from radiodiff.models.tiled_codec import reconstruct
from radiodiff.models.vae import AutoencoderKL
from radiodiff.models.weight_files import inference_weights, weights_file
from radiodiff.prediction_request import SEED_RANGE, STEPS_RANGE
from radiodiff.predictor import MapPredictor, RadioMapPredictor
from radiodiff.radiounet_predictor import RADIOUNET_MODULE, RadioUNetPredictor
from radiodiff.serving_requirements import serving_requirements

VAE_REGISTERED_NAME = "radiodiff-vae"
MODEL_REGISTERED_NAME = "radiodiff"
RADIOUNET_REGISTERED_NAME = "radiounet"
PREDICTORS: dict[str, Callable[..., MapPredictor]] = {
    "radiodiff": lambda package, device: radiodiff_predictor(package, device),
    "radiounet": RadioUNetPredictor,
}
"""Map predictor per model type: (package folder, device) -> predictor."""
PACKAGE_WEIGHTS = {"radiodiff": "denoiser.safetensors", "radiounet": f"{RADIOUNET_MODULE}.safetensors"}
"""The weight file that marks a package of each model type."""
REGISTERED_NAMES = {"radiodiff": MODEL_REGISTERED_NAME, "radiounet": RADIOUNET_REGISTERED_NAME}
"""The registered model name of each model type: a RadioUNet never becomes a `radiodiff` version."""
SAMPLER_PARAMS = ParamSchema([ParamSpec("steps", "integer", 0), ParamSpec("seed", "integer", 0)])
CONDITION_URI_KEYS = {"building": "building_vae_uri", "antenna": "antenna_vae_uri"}
"""The `diffusion` key naming each condition part's first stage (`radiodiff.models.latent_condition`)."""
ICASSP_PREFIX = "radiodiff-icassp"
"""Registered names of the ICASSP layout's models: `radiodiff-icassp` and `radiodiff-icassp-vae-<target>`."""


def vae_registered_name(data: DataConfig) -> str:
    """The registered name of a first stage trained on `data`: `radiodiff-vae` (RadioMapSeer), or one per target
    on the icassp layout (`radiodiff-icassp-vae-building`, `-antenna`, `-radio`)."""
    return f"{ICASSP_PREFIX}-vae-{data.target}" if data.layout == "icassp" else VAE_REGISTERED_NAME


def model_registered_name(model_type: str, data: DataConfig) -> str:
    """The registered name of a map predictor: its type's (`REGISTERED_NAMES`), `radiodiff-icassp` on the icassp
    layout."""
    return ICASSP_PREFIX if data.layout == "icassp" and model_type == "radiodiff" else REGISTERED_NAMES[model_type]


class RequestError(MlflowException):
    """A bad prediction request: INVALID_PARAMETER_VALUE (a 400 answer when served), with the one-line message
    it was raised with.

    MLflow's scoring server (`invocations` in mlflow/pyfunc/scoring_server) rewrites the message of any
    MlflowException out of `predict` to "Failed to predict data '<the parsed request>'. Error: ...", which would
    repeat the request's arrays in the answer; the message of this error is fixed once raised.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)

    @property
    def message(self) -> str:
        return self._message

    @message.setter
    def message(self, value: str) -> None:
        if not hasattr(self, "_message"):  # set once, by MlflowException.__init__
            self._message = value


def map_signature() -> ModelSignature:
    """The served model's signature: its sampler params and its (B, H, W) float32 output.

    The inputs are not declared: MLflow would check them before `predict` and refuse a missing input or a wrong
    shape with a message that repeats the whole request. `RadioDiffModel.predict` checks them instead (with
    `radiodiff.prediction_request`), and the MLmodel's metadata lists them (`map_metadata`).
    """
    return ModelSignature(outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, -1, -1))]), params=SAMPLER_PARAMS)


def radiodiff_predictor(package_dir: str | Path, device: str = "cpu") -> RadioMapPredictor:
    """The RadioDiff predictor of a package: IndoorMapPredictor for the icassp layout, else RadioMapPredictor."""
    if (Path(package_dir) / PATTERNS_FILE).is_file():
        return IndoorMapPredictor(package_dir, device=device)
    return RadioMapPredictor(package_dir, device=device)


def map_metadata(data: DataConfig, model_type: str = "radiodiff") -> dict[str, dict[str, str]]:
    """The MLmodel metadata that says what the served model of `data.setting` takes (its inputs and params)."""
    (steps_low, steps_high), (seed_low, seed_high) = STEPS_RANGE, SEED_RANGE
    inputs = {name: "(B, H, W) numbers, one shape for every input" for name in CONDITION_INPUTS[data.setting]}
    if data.layout == "icassp":
        inputs = {
            "inputs": "(B, 3, H, W) the challenge's image: reflectance, transmittance, distance (grey levels)",
            "antenna": "(B,) pattern ids of the training data's Radiation_Patterns",
            "frequency_mhz": "(B,) carrier frequency in MHz",
            "azimuth_deg": "(B,) antenna azimuth in degrees (optional, 0)",
        }
    params = {"steps": f"0 (the model's default) or {steps_low}..{steps_high}", "seed": f"{seed_low}..{seed_high}"}
    if model_type == "radiounet":  # the same request as RadioDiff's, checked; a deterministic network ignores it
        params = {name: f"{text}; checked, then ignored (deterministic)" for name, text in params.items()}
    return {"radiodiff_inputs": inputs, "radiodiff_params": params, "radiodiff_model_type": {"type": model_type}}


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

    # Requests are checked against the explicit tensor signature each model is logged with, not against type
    # hints of `predict` (MLflow would otherwise warn on every load that the hints are missing).
    _skip_type_hint_validation = True

    def load_context(self, context: Any) -> None:
        self.vae, self.config = load_vae(context.artifacts["package"])

    def predict(self, context, model_input, params=None):
        maps = np.asarray(model_input["radio_map"], dtype=np.float32)
        channels = self.vae.config.in_channels
        if maps.ndim != (3 if channels == 1 else 4) or (maps.ndim == 4 and maps.shape[1] != channels):
            expected = "(B, H, W)" if channels == 1 else f"(B, {channels}, H, W)"
            raise RequestError(f"input 'radio_map' has shape {maps.shape}; expected {expected} in [0, 1]")
        x = torch.from_numpy(normalize(255.0 * maps))  # [0, 1] grey scale -> [-1, 1]
        x = x[:, None] if channels == 1 else x
        with torch.no_grad():  # any (H, W): padded to the VAE's multiple (tiled for a crop-trained VAE)
            reconstruction = reconstruct(self.vae, x, *first_stage_tiling(self.config.data))
        out = denormalize(reconstruction).clamp(0, 1).numpy()
        return out[:, 0] if channels == 1 else out


def log_vae_model(checkpoint_dir: Path, step: int, register: bool = True) -> str:
    """Log the autoencoder of a checkpoint as the pyfunc model `vae` of the active run; register it.

    Returns:
        The model URI (`models:/<vae_registered_name>/<version>` when registered, else the logged model's URI).
    """
    with tempfile.TemporaryDirectory() as tmp:
        package = export_package(checkpoint_dir, ["autoencoder"], Path(tmp) / "package")
        config = load(package / "config.yaml")
        shape = (-1, -1, -1) if config.vae.in_channels == 1 else (-1, config.vae.in_channels, -1, -1)
        signature = ModelSignature(
            inputs=Schema([TensorSpec(np.dtype(np.float32), shape, "radio_map")]),
            outputs=Schema([TensorSpec(np.dtype(np.float32), shape)]),
        )
        name = vae_registered_name(config.data)
        info = _log_package("vae", "VAEModel", package, signature, step, name if register else None)
    if register and info.registered_model_version:
        return f"models:/{name}/{info.registered_model_version}"
    return info.model_uri


class RadioDiffModel(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper of RadioMapPredictor.

    Inputs: `buildings` and `tx` (and `cars` for a model of the dynamic setting), float32 (B, H, W).
    Params: `steps` (0: the model's default) and `seed`, within `radiodiff.prediction_request`'s ranges.
    Output: (B, H, W) float32 path gain on the RadioMapSeer grey scale [0, 1]. A bad request raises RequestError
    (a 400 answer when served) whose message is one line naming the input or param.
    """

    # `predict` checks requests itself (`radiodiff.prediction_request`), not against type hints (MLflow would
    # otherwise warn on every load that the hints are missing).
    _skip_type_hint_validation = True

    def load_context(self, context: Any) -> None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        self.predictor = radiodiff_predictor(context.artifacts["package"], device=device)

    def predict(self, context, model_input, params=None):
        params = params or {}
        try:
            return self.predictor.predict_inputs(model_input, params.get("steps"), params.get("seed"))
        except InputError as err:
            raise RequestError(str(err)) from None


class RadioUNetModel(RadioDiffModel):
    """pyfunc wrapper of RadioUNetPredictor: the inputs, params, output and errors of `RadioDiffModel`.

    `steps` and `seed` are checked against the same limits (a request that RadioDiff refuses is refused here too)
    and do not change the map: the network is deterministic.
    """

    def load_context(self, context: Any) -> None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        self.predictor = RadioUNetPredictor(context.artifacts["package"], device=device)


def log_radiounet_model(checkpoint_dir: Path, step: int) -> str:
    """Log the RadioUNet of a train_unet checkpoint as the pyfunc model `model` of the active run (the signature
    of the RadioDiff model); returns its model URI. `evaluate --register` registers it as `radiounet`."""
    with tempfile.TemporaryDirectory() as tmp:
        package = export_package(checkpoint_dir, [RADIOUNET_MODULE], Path(tmp) / "package")
        metadata = map_metadata(load(package / "config.yaml").data, "radiounet")
        return _log_package("model", "RadioUNetModel", package, map_signature(), step, metadata=metadata).model_uri


def export_radiodiff_package(
    ldm_checkpoint: Path, vae_package: Path, out_dir: Path, condition_packages: dict[str, Path] | None = None
) -> Path:
    """A RadioDiff model package: the LDM config (with the VAE's own `vae` section), VAE and EMA UNet weights, and
    the config of each condition stage of a multi-condition LDM as `condition_<part>.yaml` (their weights are in
    the UNet's)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = load(ldm_checkpoint / "config.yaml")
    vae_config = load(vae_package / "config.yaml").vae
    (out_dir / "config.yaml").write_text(dump(replace(config, vae=vae_config)))
    for part, package in (condition_packages or {}).items():
        shutil.copy(package / "config.yaml", out_dir / stage_config_name(part))
    save_file(inference_weights(vae_package, "autoencoder"), weights_file(out_dir, "autoencoder"))
    save_file(inference_weights(ldm_checkpoint, "denoiser"), weights_file(out_dir, "denoiser"))
    return out_dir


def log_radiodiff_model(
    ldm_checkpoint: Path, vae_uri: str, step: int, patterns: Mapping[int, np.ndarray] | None = None
) -> str:
    """Log the whole map predictor as the pyfunc model `model` of the active run; returns its model URI.

    `patterns` (antenna id -> (360,) dBi, the icassp layout's) make it an IndoorMapPredictor package.
    """
    with tempfile.TemporaryDirectory() as tmp:
        vae_package = resolve_vae_package(vae_uri, Path(tmp) / "vae")
        stage_uris = condition_stage_uris(load(ldm_checkpoint / "config.yaml"))
        stages = {part: resolve_vae_package(uri, Path(tmp) / part) for part, uri in stage_uris.items()}
        package = export_radiodiff_package(ldm_checkpoint, vae_package, Path(tmp) / "package", stages)
        if patterns is not None:
            write_patterns(package, patterns)
        metadata = map_metadata(load(package / "config.yaml").data)
        return _log_package("model", "RadioDiffModel", package, map_signature(), step, metadata=metadata).model_uri


def condition_stage_uris(config: Config) -> dict[str, str]:
    """part -> VAE URI of the condition stages a multi-condition LDM config names (`CONDITION_URI_KEYS`)."""
    uris = {part: getattr(config.diffusion, key) for part, key in CONDITION_URI_KEYS.items()}
    return {part: uri for part, uri in uris.items() if uri}


def resolve_model_package(uri: str, dst: str | Path | None = None) -> Path:
    """Download the package folder of a RadioDiff model (`models:/radiodiff@champion`, `runs:/<id>/model`, ...)."""
    return _find_package(uri, "denoiser.safetensors", dst, "a radiodiff model (VAE + denoiser)")


def load_map_predictor(uri: str, device: str = "cpu") -> MapPredictor:
    """The map predictor of a RadioDiff or RadioUNet model (`runs:/<id>/model`, `models:/radiounet@champion`, a
    LoggedModel URI or a package folder), of the type its package holds (`PACKAGE_WEIGHTS`).

    Raises:
        ModelNotFound: the URI names nothing, or holds neither model type's package.
    """
    local = _download(uri)
    for model_type, weights in PACKAGE_WEIGHTS.items():
        found = _packages(local, weights)
        if found:
            return PREDICTORS[model_type](found[0], device)
    raise ModelNotFound(f"{uri} holds no radiodiff or radiounet model package (config.yaml + denoiser or radiounet)")


def model_run_id(uri: str) -> str:
    """The id of the run that logged the model `uri` (`runs:/<id>/...`, `models:/<name>/<version>`, `models:/<name>@
    <alias>`, `models:/<model_id>`, a local MLflow model folder: its MLmodel's `run_id`); "" where it is unknown."""
    if Path(uri).is_dir():
        found = sorted(Path(uri).rglob("MLmodel"))
        return str(yaml.safe_load(found[0].read_text()).get("run_id") or "") if found else ""
    if uri.startswith("runs:/"):
        return uri.removeprefix("runs:/").strip("/").partition("/")[0]
    name, _, ref = uri.removeprefix("models:/").partition("/")
    client = MlflowClient()
    try:
        if "@" in name:
            return client.get_model_version_by_alias(*name.split("@", 1)).run_id or ""
        if ref:
            return client.get_model_version(name, ref).run_id or ""
        return client.get_logged_model(name).source_run_id or ""
    except MlflowException:
        return ""


def resolve_vae_package(uri: str, dst: str | Path | None = None) -> Path:
    """Download the package folder of a VAE given by `models:/...`, `runs:/...` or a local folder."""
    check_vae_uri(uri)
    return _find_package(uri, "autoencoder.safetensors", dst, "a VAE")


def pin_model_version(uri: str) -> str:
    """`models:/<name>/latest` -> `models:/<name>/<its newest version>`; any other URI unchanged.

    Raises:
        ModelNotFound: no version of `<name>` is registered.
    """
    name, _, ref = uri.removeprefix("models:/").partition("/")
    if not uri.startswith("models:/") or ref != "latest":
        return uri
    versions = MlflowClient().search_model_versions(f"name = '{name}'")
    if not versions:
        raise ModelNotFound(f"{uri}: no version of the registered model {name!r}; train it first")
    return f"models:/{name}/{max(int(v.version) for v in versions)}"


def check_vae_uri(uri: str) -> None:
    """Fail fast, before any download, unless `uri` names a VAE package (not the whole LDM predictor).

    Raises:
        ModelNotFound: the URI is malformed, unknown, holds no VAE, or holds a RadioDiff LDM model.
    """
    names = _package_files(uri)
    if "autoencoder.safetensors" not in names:
        raise ModelNotFound(f"{uri} holds no VAE package (config.yaml + autoencoder.safetensors)")
    if "denoiser.safetensors" in names:
        raise ModelNotFound(
            f"{uri} is a radiodiff LDM model, not a VAE: give the VAE it was trained on "
            "(models:/radiodiff-vae/<version> or runs:/<train_vae run id>/vae)"
        )


def _package_files(uri: str, depth: int = 3) -> set[str]:
    """The file names under a model URI or local folder, `depth` folders deep (a pyfunc model keeps its package
    in artifacts/package/)."""
    local = Path(uri)
    if local.is_dir():
        return {p.name for p in local.rglob("*") if p.is_file() and len(p.relative_to(local).parts) <= depth}
    try:
        repository = get_artifact_repository(_logged_model_uri(uri))  # paths below are relative to the model
        todo, names = [(None, 1)], set()
        while todo:
            folder, level = todo.pop()
            for info in repository.list_artifacts(folder):
                if not info.is_dir:
                    names.add(Path(info.path).name)
                elif level < depth:
                    todo.append((info.path, level + 1))
        return names
    except MlflowException as err:
        raise _not_found(uri, err) from None


def _not_found(uri: str, err: MlflowException) -> ModelNotFound:
    """The one-line error for a URI the tracking store refused (its message's first line)."""
    return ModelNotFound(f"model {uri!r}: {err.message.splitlines()[0]}")


def _logged_model_uri(uri: str) -> str:
    """`runs:/<run>/<name>` of a model logged by that run -> its `models:/<model_id>` (listable as a folder)."""
    if not uri.startswith("runs:/"):
        return uri
    run_id, _, name = uri.removeprefix("runs:/").strip("/").partition("/")
    client = MlflowClient()
    experiment = client.get_run(run_id).info.experiment_id
    for model in client.search_logged_models([experiment], filter_string=f"name = '{name}'"):
        if model.source_run_id == run_id:
            return f"models:/{model.model_id}"
    return uri


def _find_package(uri: str, weights: str, dst: str | Path | None, kind: str) -> Path:
    """The folder under a model URI (or a local folder) holding config.yaml and `weights`.

    Raises:
        ModelNotFound: the URI is malformed, names nothing in the tracking store, or holds no such package.
    """
    matches = _packages(_download(uri, dst), weights)
    if not matches:
        raise ModelNotFound(f"{uri} holds no {kind} package (config.yaml + {weights})")
    return matches[0]


def _download(uri: str, dst: str | Path | None = None) -> Path:
    """The local folder of a model URI (downloaded) or the folder itself.

    Raises:
        ModelNotFound: the URI is malformed or names nothing in the tracking store.
    """
    local = Path(uri)
    if local.is_dir():
        return local
    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dst) if dst else None))
    except MlflowException as err:
        raise _not_found(uri, err) from None


def _packages(folder: Path, weights: str) -> list[Path]:
    """The folders under `folder` holding config.yaml and `weights`."""
    return [p.parent for p in sorted(folder.rglob("config.yaml")) if (p.parent / weights).is_file()]


def _log_package(
    name: str,
    class_name: str,
    package: Path,
    signature: ModelSignature,
    step: int,
    registered_name: str | None = None,
    metadata: dict | None = None,
) -> Any:
    """Log a model package as a models-from-code pyfunc model of the active run (with this package's code)."""
    return mlflow.pyfunc.log_model(
        name=name,
        python_model=_model_script(package.parent, class_name),
        artifacts={"package": str(package)},
        code_paths=[str(Path(__file__).parent)],
        signature=signature,
        pip_requirements=serving_requirements(),
        registered_model_name=registered_name,
        step=step,
        metadata=metadata,
    )


def _model_script(folder: Path, class_name: str) -> str:
    """The models-from-code script that MLflow runs to build the wrapper when the model is loaded."""
    script = folder / f"{class_name.lower()}_script.py"
    script.write_text(
        f"from mlflow.models import set_model\n\nfrom radiodiff.inference import {class_name}\n\n"
        f"set_model({class_name}())\n"
    )
    return str(script)
