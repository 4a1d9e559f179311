"""Both stages trained on 32x32 tx-aware crops of 64x64 maps validate, and draw their samples, on whole maps."""

from __future__ import annotations

import io
from pathlib import Path

from mlflow.tracking import MlflowClient
from PIL import Image
from training_helpers import PROJECT_ROOT, history

from radiodiff.config import load
from radiodiff.jobs.train_ldm import train_ldm
from radiodiff.jobs.train_vae import train_vae

FULL, CROP = 64, 32
CROPS = (
    f"generator.maps=6 generator.tx_per_map=2 generator.size={FULL} generator.workers=1 "
    f"data.image_size=[{FULL},{FULL}] data.crop_size=[{CROP},{CROP}] data.batch_size=4 "
    "vae.channels=8 vae.channel_mult=[1,2] "
    "tracking.log_every=2 tracking.system_metrics=false"
)
VAE = (
    "vae_train.steps=6 vae_train.warmup_steps=2 vae_train.val_every=3 vae_train.sample_every=3 vae_train.val_batches=1"
)
LDM = (
    "ldm.channels=8 ldm.channel_mult=[1,2] ldm.attention_heads=2 ldm.window_size=4 "
    "diffusion.sampling_steps=2 diffusion.scale_factor=0 ldm_train.steps=4 ldm_train.warmup_steps=2 "
    "ldm_train.val_every=2 ldm_train.sample_every=2 ldm_train.val_batches=1"
)


def sample_image_sizes(client: MlflowClient, run_id: str, home: Path) -> set[tuple[int, int]]:
    """(width, height) of every logged `samples` image of the run."""
    paths = [a.path for a in client.list_artifacts(run_id, "images") if a.path.endswith(".png")]
    assert paths, "no sample images logged"
    sizes = set()
    for path in paths:
        local = client.download_artifacts(run_id, path, str(home))
        sizes.add(Image.open(io.BytesIO(Path(local).read_bytes())).size)
    return sizes


def is_whole_map_grid(sizes: set[tuple[int, int]], columns: int) -> bool:
    """Every grid has `columns` whole maps per row (not crops), one row per validation map shown."""
    return all(width == columns * FULL and height % FULL == 0 and height > 0 for width, height in sizes)


def test_crop_trained_vae_and_ldm_validate_on_whole_maps(home: Path) -> None:
    client = MlflowClient()
    vae_run = train_vae(load(PROJECT_ROOT / "configs/default.yaml", f"{CROPS} {VAE}"))
    run = client.get_run(vae_run)
    assert run.info.status == "FINISHED"
    assert [s for s, _ in history(client, vae_run, "val/rmse")] == [0, 3, 6]
    assert "baseline/mean_map_rmse" in run.data.metrics
    assert is_whole_map_grid(sample_image_sizes(client, vae_run, home), columns=3)  # truth | reconstruction | error

    vae_uri = run.data.tags["radiodiff.vae_uri"]
    ldm_run = train_ldm(load(PROJECT_ROOT / "configs/default.yaml", f"{CROPS} {LDM} diffusion.vae_uri={vae_uri}"))
    run = client.get_run(ldm_run)
    assert run.info.status == "FINISHED"
    assert [s for s, _ in history(client, ldm_run, "val/rmse")] == [0, 2, 4]
    assert 0 < run.data.metrics["val/rmse"] < 1
    assert {"baseline/free_space_rmse", "baseline/mean_map_rmse"} <= set(run.data.metrics)
    assert is_whole_map_grid(sample_image_sizes(client, ldm_run, home), columns=5)  # buildings | tx | truth | ...
