"""Non-square maps train, and the predictor answers on the input's own grid at any size (no resizing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image
from training_helpers import (
    PROJECT_ROOT,
    TINY_LDM,
    TINY_VAE,
    history,
    run_radiodiff,
    write_model_package,
    write_vae_package,
)

from radiodiff.config import load
from radiodiff.inference import VAEModel, load_vae
from radiodiff.jobs.train_ldm import train_ldm
from radiodiff.jobs.train_vae import train_vae
from radiodiff.predictor import RadioMapPredictor

NON_SQUARE = (
    "data.image_size=[32,48] vae_train.val_every=4 vae_train.checkpoint_every=4 "
    "ldm_train.steps=4 ldm_train.checkpoint_every=4"
)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model_package(tmp_path_factory.mktemp("package"))


def scene(height: int, width: int, tx: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    buildings = np.zeros((1, height, width), np.float32)
    buildings[:, 4:12, 6:20] = 1.0
    tx_map = np.zeros_like(buildings)
    tx_map[:, tx[0], tx[1]] = 1.0
    return buildings, tx_map


@pytest.mark.parametrize("size", [(64, 96), (20, 28), (32, 32)])
def test_predictor_answers_on_the_inputs_own_grid(package: Path, size: tuple[int, int]) -> None:
    predictor = RadioMapPredictor(package)
    buildings, tx = scene(*size, tx=(size[0] - 5, size[1] - 7))
    maps = predictor.predict(buildings, tx, steps=2, seed=1)
    assert maps.shape == (1, *size) and maps.dtype == np.float32 and 0 <= maps.min() <= maps.max() <= 1
    np.testing.assert_array_equal(predictor.predict(buildings, tx, steps=2, seed=1), maps)


def test_served_vae_reconstructs_maps_of_any_size(package: Path) -> None:
    model = VAEModel()
    model.vae, model.config = load_vae(package)
    maps = np.random.default_rng(0).random((2, 30, 45), dtype=np.float32)  # not multiples of the VAE's factor 2
    reconstruction = model.predict(None, {"radio_map": maps})
    assert reconstruction.shape == maps.shape and 0 <= reconstruction.min() <= reconstruction.max() <= 1


@pytest.mark.parametrize("vae_source", ["random", pytest.param("trained", marks=pytest.mark.slow)])
def test_non_square_ldm_trains_and_predicts_through_the_cli(home: Path, vae_source: str) -> None:
    """On a random VAE package in the default suite; on a VAE trained at 32x48 too (slow)."""
    client = MlflowClient()
    if vae_source == "trained":
        config = load(PROJECT_ROOT / "configs/default.yaml", f"{TINY_VAE} {NON_SQUARE} vae_train.steps=4")
        vae_run = client.get_run(train_vae(config))
        assert vae_run.info.status == "FINISHED"
        vae = vae_run.data.tags["radiodiff.vae_uri"]
    else:
        vae = write_vae_package(home / "vae", f"{TINY_LDM} {NON_SQUARE}")
    run_id = train_ldm(load(PROJECT_ROOT / "configs/default.yaml", f"{TINY_LDM} {NON_SQUARE} diffusion.vae_uri={vae}"))
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["cfg.data.image_size"] == "[32, 48]"
    assert [s for s, _ in history(client, run_id, "val/rmse")] == [0, 4]

    buildings = np.zeros((64, 96), np.uint8)
    buildings[8:20, 30:60] = 255
    Image.fromarray(buildings).save(home / "b.png")
    args = ["predict", "--model", run.data.tags["radiodiff.model_uri"], "--buildings", str(home / "b.png")]
    done = run_radiodiff([*args, "--tx", "10,70", "--out", str(home / "o"), "--steps", "2"], home)
    assert done.returncode == 0, done.stderr[-3000:]
    gain_db = np.load(home / "o.npy")
    assert gain_db.shape == (64, 96)
    assert np.isnan(gain_db[buildings > 0]).all() and np.isfinite(gain_db[buildings == 0]).all()
    assert (home / "o.png").is_file()
