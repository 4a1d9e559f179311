"""Models compared in one evaluation (`evaluate --compare`): scored on the same maps, with the same metric code.

Every compared model predicts the maps of the evaluated split of the main model's data (the same scenes, the same
truth, in the same order), each from its own condition images: a model's condition is built with its own data
settings (`condition_image`: marker radius, physics prior, ...), never with another model's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from radiodiff.config import DataConfig
from radiodiff.data.radiomapseer import RadioMapSeerDataset
from radiodiff.errors import InputError
from radiodiff.inference import load_map_predictor, model_run_id
from radiodiff.predictor import MapPredictor

MAP_FIELDS = ("data_dir", "simulation", "setting", "image_size", "split", "val_fraction", "test_fraction", "split_seed")
"""The data settings that choose the maps and their truth: the main model's, for every compared model."""
MODEL_NAMES = {"radiodiff": "RadioDiff", "radiounet": "RadioUNet"}


@dataclass(frozen=True)
class ComparedModel:
    """A model of the comparison and the split's maps as it sees them."""

    uri: str
    run_id: str
    label: str
    """Unique within the evaluation and safe in a metric key: `compare/<label>/rmse`."""
    predictor: MapPredictor
    dataset: RadioMapSeerDataset
    """The evaluated maps, in the same order, with this model's own condition images."""

    @property
    def seed(self) -> int:
        """The sampler seed of the model's own evaluation (`sample_seeds`): the same maps as its own `evaluate`."""
        return self.predictor.config.ldm_train.seed

    @property
    def title(self) -> str:
        return model_title(self.predictor.model_type, self.run_id)


def model_title(model_type: str, run_id: str) -> str:
    """A table row's name: the model type and its run, e.g. `RadioUNet (run 1a2b3c4d)`."""
    name = MODEL_NAMES.get(model_type, model_type)
    return f"{name} (run {run_id[:8]})" if run_id else f"{name} (local package)"


def compared_models(uris: Sequence[str], dataset: RadioMapSeerDataset, device: str) -> list[ComparedModel]:
    """Load the models to compare and give each the evaluated maps with its own condition images.

    Args:
        uris: model URIs (RadioDiff or RadioUNet: `runs:/<id>/model`, `models:/radiounet@champion`, ...).
        dataset: the evaluated split of the main model's data.
        device: where the models run.
    Raises:
        ModelNotFound: a URI holds no model.
        InputError: a model of another setting (static / dynamic) than the evaluated maps.
    """
    models: list[ComparedModel] = []
    for uri in uris:
        predictor = load_map_predictor(uri, device=device)
        if predictor.config.data.setting != dataset.config.setting:
            raise InputError(
                f"compare model {uri} is of the {predictor.config.data.setting} setting; the evaluated maps are "
                f"{dataset.config.setting}: compare models of one setting"
            )
        run_id = model_run_id(uri)
        label = _unique(f"{predictor.model_type}-{run_id[:8] or 'local'}", {m.label for m in models})
        models.append(ComparedModel(uri, run_id, label, predictor, same_maps(dataset, predictor.config.data)))
    return models


def same_maps(dataset: RadioMapSeerDataset, data: DataConfig) -> RadioMapSeerDataset:
    """`dataset`'s maps, in its order, with the condition images that a model trained with `data` takes."""
    own = replace(data, crop_size=None, **{key: getattr(dataset.config, key) for key in MAP_FIELDS})
    if own == dataset.config:
        return dataset
    return RadioMapSeerDataset(dataset.index.root, own, dataset.split, crop=False, index=dataset.index)


def _unique(label: str, taken: set[str]) -> str:
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", label)
    candidate, n = label, 2
    while candidate in taken:
        candidate, n = f"{label}-{n}", n + 1
    return candidate
