"""The Sionna RT engine on the CPU (LLVM): a ray-traced root of Munich windows, its orientation, its physics, and the
one-line errors when the extra or LLVM is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image
from training_helpers import PROJECT_ROOT, TINY_LDM, TINY_VAE, write_vae_package

from evaluation.evaluate import evaluate
from radiodiff.cli import main
from radiodiff.config import ConfigError, GeneratorConfig, load
from radiodiff.data.gain_scale import grey_to_db
from radiodiff.data.generator import generate_dataset
from radiodiff.data.generator.sionna_rt import backend, scene
from radiodiff.data.layout import index_radiomapseer
from radiodiff.errors import MissingComponent
from radiodiff.jobs.train_ldm import train_ldm
from radiodiff.jobs.train_vae import train_vae

MAPS, TX, SIZE = 3, 3, 64  # leak_free needs a map per split


@pytest.fixture(scope="module")
def ray_traced_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rt") / "root"
    generate_dataset(_config(MAPS), root, progress=False)
    return root


def _config(maps: int) -> GeneratorConfig:
    """One tracing thread: the maps of a seed are bit-identical (docs/sionna_rt.md, Determinism)."""
    return GeneratorConfig(engine="sionna", maps=maps, tx_per_map=TX, size=SIZE, rt_threads=1)


def _grey(path: Path) -> np.ndarray:
    return np.array(Image.open(path))


def test_root_has_the_radiomapseer_layout_under_gain_irt_and_the_records(ray_traced_root: Path) -> None:
    index = index_radiomapseer(ray_traced_root)  # data.simulation auto: the root's own, IRT
    assert index.simulation == "IRT" and len(index.pairs) == MAPS * TX
    recorded = json.loads((ray_traced_root / "generator.json").read_text())
    assert recorded["complete"] is True and recorded["engine"] == "sionna" and recorded["scene"] == "munich"
    meta = json.loads((ray_traced_root / "meta.json").read_text())
    assert [m["map"] for m in meta["maps"]] == list(range(MAPS)) and meta["solver"]["max_depth"] == 5
    for entry in meta["maps"]:
        assert 0.1 <= entry["building_fraction"] <= 0.6 and len(entry["tx_positions_m"]) == TX


def test_north_up_mask_matches_the_radio_maps_and_the_transmitter_glows_at_its_pixel(ray_traced_root: Path) -> None:
    meta = json.loads((ray_traced_root / "meta.json").read_text())
    for entry in meta["maps"]:
        m = entry["map"]
        buildings = _grey(ray_traced_root / "png" / "buildings_complete" / f"{m}.png") == 255
        (cx, cy), side = entry["window_centre_m"], meta["window_m"]
        for k, (row, col) in enumerate(entry["tx_pixels"]):
            grey = _grey(ray_traced_root / "gain" / "IRT" / f"{m}_{k}.png")
            assert not grey[buildings].any()  # building cells are 0
            assert grey.max() == grey[row, col] or grey[row, col] >= grey.max() - 3  # the strongest cell is the tx's
            x, y, _ = entry["tx_positions_m"][k]
            # row 0 is the window's north edge: y falls with the row, x grows with the column
            assert (
                abs(x - (cx - side / 2 + (col + 0.5) * 4.0)) < 1e-2
                and abs(y - (cy + side / 2 - (row + 0.5) * 4.0)) < 1e-2
            )
            antenna = _grey(ray_traced_root / "png" / "antennas" / f"{m}_{k}.png")
            assert tuple(np.argwhere(antenna == 255)[0]) == (row, col)


def _line_of_sight(buildings: np.ndarray, row: int, col: int) -> np.ndarray:
    """Cells whose straight line to (row, col) crosses no building pixel (the top-down view)."""
    rows, cols = np.mgrid[0 : buildings.shape[0], 0 : buildings.shape[1]]
    clear = np.ones(buildings.shape, dtype=bool)
    for t in np.linspace(0.0, 1.0, 2 * max(buildings.shape)):
        clear &= ~buildings[np.rint(row + (rows - row) * t).astype(int), np.rint(col + (cols - col) * t).astype(int)]
    return clear


def test_physics_los_slope_and_shadowing(ray_traced_root: Path) -> None:
    meta = json.loads((ray_traced_root / "meta.json").read_text())
    distances, gains, shadow_pairs = [], [], []
    for entry in meta["maps"]:
        m = entry["map"]
        buildings = _grey(ray_traced_root / "png" / "buildings_complete" / f"{m}.png") == 255
        for k, (row, col) in enumerate(entry["tx_pixels"]):
            grey = _grey(ray_traced_root / "gain" / "IRT" / f"{m}_{k}.png")
            db = grey_to_db(grey)
            rows, cols = np.mgrid[0:SIZE, 0:SIZE]
            d = 4.0 * np.hypot(rows - row, cols - col)
            los = _line_of_sight(buildings, row, col) & (d >= 12.0) & (grey > 0)
            distances.append(d[los])
            gains.append(db[los])
            nlos = ~_line_of_sight(buildings, row, col) & ~buildings & (d >= 12.0)
            for lo in (20.0, 40.0, 80.0):
                los_band, nlos_band = los & (d >= lo) & (d < 2 * lo), nlos & (d >= lo) & (d < 2 * lo)
                if los_band.sum() >= 5 and nlos_band.sum() >= 5:
                    shadow_pairs.append((np.median(db[los_band]), np.median(db[nlos_band])))
    d, g = np.concatenate(distances), np.concatenate(gains)
    slope = -np.polyfit(np.log10(d), g, 1)[0] / 10.0  # gain = c - 10 n log10(d)
    assert 1.5 <= slope <= 3.5, f"line-of-sight path-loss exponent {slope:.2f}"
    assert len(shadow_pairs) >= 3
    assert all(nlos < los for los, nlos in shadow_pairs), shadow_pairs


def test_same_seed_same_windows_transmitters_and_maps(ray_traced_root: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"  # fewer maps: map m depends on (seed, m) only
    generate_dataset(_config(2), again, progress=False)
    first = json.loads((ray_traced_root / "meta.json").read_text())["maps"][:2]
    assert json.loads((again / "meta.json").read_text())["maps"] == first
    names = ["png/buildings_complete/0.png", "png/buildings_complete/1.png", "png/antennas/1_2.png"]
    for name in names + [f"gain/IRT/{m}_{k}.png" for m in range(2) for k in range(TX)]:
        assert np.array_equal(_grey(again / name), _grey(ray_traced_root / name)), name


def test_missing_extra_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingComponent, match=r"^engine=sionna needs the rt extra .*pip install 'radiodiff\[rt\]'$"):
        backend.sionna_rt_folder()


def test_missing_llvm_is_one_line_naming_the_debian_package(tmp_path: Path) -> None:
    (tmp_path / "libLLVM-14.so.1").write_bytes(b"")
    path, seen = backend.find_libllvm((str(tmp_path),))
    assert path is None and seen == ["14"]
    (tmp_path / "libLLVM.so.19.1").write_bytes(b"")
    assert backend.find_libllvm((str(tmp_path),))[0] == str(tmp_path / "libLLVM.so.19.1")
    env = {k: v for k, v in os.environ.items() if k != "DRJIT_LIBLLVM_PATH"}
    script = (
        "import radiodiff.data.generator.sionna_rt.backend as b; b.LLVM_SEARCH = ({!r},); "
        "from radiodiff.cli import main; import sys; sys.exit(main(['generate_data', '--engine', 'sionna', "
        "'--maps', '1', '--out_dir', {!r}]))"
    ).format(str(tmp_path / "none"), str(tmp_path / "out"))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert "needs LLVM 17+" in last and "apt-get install libllvm19" in last


def test_train_vae_train_ldm_and_evaluate_run_on_a_ray_traced_root(ray_traced_root: Path, home: Path) -> None:
    """The same Dataset, training and evaluation read the ray-traced layout unchanged (tiny steps)."""
    on_root = f"data.data_dir={ray_traced_root} data.image_size=[{SIZE},{SIZE}] data.batch_size=2"  # 3 train maps
    client = MlflowClient()
    vae_run = client.get_run(
        train_vae(load(PROJECT_ROOT / "configs/default.yaml", f"{TINY_VAE} {on_root} vae_train.steps=4"))
    )
    assert vae_run.info.status == "FINISHED" and vae_run.data.params["cfg.data.simulation"] == "auto"
    vae_uri = vae_run.data.tags["radiodiff.vae_uri"]
    ldm_config = load(
        PROJECT_ROOT / "configs/default.yaml", f"{TINY_LDM} {on_root} ldm_train.steps=4 diffusion.vae_uri={vae_uri}"
    )
    ldm_run = client.get_run(train_ldm(ldm_config))
    assert ldm_run.info.status == "FINISHED" and np.isfinite(ldm_run.data.metrics["val/rmse"])
    eval_run = client.get_run(evaluate(ldm_config, ldm_run.data.tags["radiodiff.model_uri"], split="test"))
    assert all(np.isfinite(eval_run.data.metrics[f"test/{name}"]) for name in ("nmse", "rmse", "ssim", "psnr"))


def test_a_model_trained_on_the_fast_engine_is_evaluated_on_the_ray_traced_root(
    ray_traced_root: Path, home: Path
) -> None:
    """The held-out generalisation test of the README: `evaluate --data_dir <ray-traced root>` (4 m pixels both)."""
    fast = f"{TINY_LDM} data.image_size=[{SIZE},{SIZE}] generator.size=0 ldm_train.steps=4"
    vae = write_vae_package(home / "vae", fast)
    config = load(PROJECT_ROOT / "configs/default.yaml", f"{fast} diffusion.vae_uri={vae}")
    client = MlflowClient()
    ldm_run = client.get_run(train_ldm(config))  # on the fast engine's data set, made on the way
    assert ldm_run.info.status == "FINISHED" and ldm_run.data.params["cfg.data.data_dir"] != str(ray_traced_root)
    model = ldm_run.data.tags["radiodiff.model_uri"]
    assert main(["evaluate", "--model", model, "--data_dir", str(ray_traced_root), "--overrides", fast]) == 0
    (eval_run,) = [r for r in client.search_runs([ldm_run.info.experiment_id]) if "test/rmse" in r.data.metrics]
    assert eval_run.data.params["cfg.data.data_dir"] == str(ray_traced_root)
    assert all(np.isfinite(eval_run.data.metrics[f"test/{name}"]) for name in ("nmse", "rmse", "ssim", "psnr"))


@pytest.mark.slow
def test_mlflow_run_generate_data_engine_sionna_records_the_run(mlflow_store: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "ray-traced"
    command = [
        sys.executable, "-m", "mlflow", "run", str(PROJECT_ROOT), "-e", "generate_data", "--env-manager", "local",
        "-P", "engine=sionna", "-P", "maps=12", "-P", "tx_per_map=4", "-P", "size=128", "-P", f"out_dir={out_dir}",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((out_dir / "gain" / "IRT").glob("*.png"))) == 48
    assert Image.open(out_dir / "gain" / "IRT" / "11_3.png").size == (128, 128)
    client = MlflowClient()
    (run,) = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    params = run.data.params
    assert run.info.status == "FINISHED" and params["cfg.generator.engine"] == "sionna"
    assert params["cfg.generator.rt_scene"] == "munich" and params["cfg.generator.rt_max_depth"] == "5"
    assert params["cfg.generator.rt_samples_per_tx"] == "1000000" and params["cfg.generator.rt_diffraction"] == "True"
    assert run.data.metrics["generate/radio_maps"] == 48
    assert any(a.path.startswith("images/preview+step+0") for a in client.list_artifacts(run.info.run_id, "images"))


def test_a_scene_is_a_bundled_name_or_a_mitsuba_xml_path(tmp_path: Path) -> None:
    assert {"munich", "florence", "etoile"} <= set(scene.bundled_scenes())
    munich = scene.scene_path("munich")
    assert munich.is_file() and munich.name == "munich.xml"
    own = tmp_path / "city.xml"
    own.write_text(munich.read_text())
    assert scene.scene_path(str(own)) == own
    with pytest.raises(ConfigError, match=r"generator.rt_scene = 'atlantis' is neither .*munich"):
        scene.scene_path("atlantis")
