"""Every entry point ends bad input with exit status 2 and one line naming the culprit, never a traceback
(the command line in-process for each case; real processes, also under `mlflow run`, for a sample)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures_radiomapseer import write_png
from mlflow.tracking import MlflowClient
from training_helpers import (
    PROJECT_ROOT,
    TINY_LDM,
    TINY_VAE,
    error_lines,
    run_mlflow,
    run_radiodiff,
    write_vae_package,
)

from radiodiff.cli import main
from radiodiff.config import load
from radiodiff.data.generator import generate_dataset


@pytest.fixture
def home(mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RADIODIFF_HOME", str(tmp_path))
    MlflowClient().search_experiments()  # the store exists (a new one makes MLflow log its creation)
    write_png(tmp_path / "buildings.png", np.pad(np.full((8, 8), 255), 28))  # 64 x 64, one building
    ldm = write_vae_package(tmp_path / "ldm")  # an LDM package holds the VAE's weights and the denoiser's
    (ldm / "denoiser.safetensors").write_bytes(b"")
    return tmp_path


def _predict(*extra: str) -> list[str]:
    return ["predict", "--buildings", "buildings.png", "--out", "out", *extra]


CASES = {
    "generate_data maps": (["generate_data", "--maps", "0"], "generator.maps = 0"),
    "eda missing data_dir": (["eda", "--data_dir", "no/such/folder"], "no/such/folder"),
    "train_vae key typo": (["train_vae", "--overrides", "data.bach_size=4"], "data.bach_size"),
    "train_vae unknown run": (["train_vae", "--resume", "nope"], "'nope'"),
    "train_ldm unknown VAE": (["train_ldm", "--overrides", TINY_LDM, "--vae", "models:/nope@champion"], "nope"),
    "train_ldm malformed VAE": (["train_ldm", "--overrides", TINY_LDM, "--vae", "runs:/x"], "runs:/x"),
    "train_ldm LDM as VAE": (["train_ldm", "--overrides", TINY_LDM, "--vae", "ldm"], "not a VAE"),
    "evaluate unknown alias": (["evaluate", "--model", "models:/nope@champion"], "nope"),
    "evaluate malformed URI": (["evaluate", "--model", "runs:/x"], "runs:/x"),
    "evaluate no such model": (["evaluate", "--model", "nope"], "'nope'"),
    "evaluate no model": (["evaluate"], "--model"),
    "report unknown run": (["report", "--run_id", "nope"], "nope"),
    "main bad value": (["main", "--overrides", "vae.channels=7"], "vae.channels = 7"),
    "predict tx outside": (_predict("--tx", "500,500"), "--tx 500,500 lies outside"),
    "predict tx malformed": (_predict("--tx", "a,b"), "--tx 'a,b'"),
    "predict unknown model": (_predict("--tx", "10,10", "--model", "models:/nope@champion"), "nope"),
    "predict missing png": (["predict", "--buildings", "no.png", "--tx", "1,1", "--out", "o"], "no.png"),
    "derive_edges method": (["derive_edges", "--out_dir", "edges", "--method", "foo"], "foo"),
    "runs unknown experiment": (["runs", "--experiment", "nope"], "nope"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_one_line_and_exit_2(case: str, home: Path, capsys: pytest.CaptureFixture) -> None:
    argv, culprit = CASES[case]
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"radiodiff {argv[0]}: error: "), lines[0]
    assert culprit in lines[0]


def test_a_real_process_and_mlflow_run_print_the_same_line(home: Path) -> None:
    done = run_radiodiff(["evaluate", "--model", "models:/nope@champion"], home)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    launched = run_mlflow("evaluate", home, {"model": "models:/nope@champion"})
    assert launched.returncode != 0  # `mlflow run` reports a failed job with its own status 1
    assert error_lines(launched.stdout + launched.stderr) == [line]
    assert "Traceback" not in launched.stdout + launched.stderr + done.stderr


def test_every_kind_of_vae_uri_is_accepted(home: Path) -> None:
    import mlflow

    from radiodiff.inference import check_vae_uri, log_vae_model

    package = write_vae_package(home / "vae")
    with mlflow.start_run() as run:
        logged = log_vae_model(package, step=0, register=False)  # models:/m-<id>, as train_vae tags it
    with mlflow.start_run():
        registered = log_vae_model(package, step=0, register=True)  # models:/radiodiff-vae/1
    assert logged.startswith("models:/m-") and registered == "models:/radiodiff-vae/1"
    for uri in (logged, registered, f"runs:/{run.info.run_id}/vae", str(package)):
        check_vae_uri(uri)


def test_a_bad_input_under_two_processes_is_one_line(home: Path) -> None:
    done = run_radiodiff(
        ["train_ldm", "--processes", "2", "--vae", "models:/nope@champion", "--overrides", TINY_LDM], home
    )
    assert done.returncode == 2, done.stderr[-3000:]
    (line,) = error_lines(done.stderr)
    assert "models:/nope@champion" in line
    assert "Traceback" not in done.stderr + done.stdout


def test_a_training_split_smaller_than_one_batch_is_one_line(home: Path, capsys: pytest.CaptureFixture) -> None:
    """drop_last would leave every epoch without a batch, and the step loop would wait for one forever."""
    overrides = f"{TINY_VAE} generator.maps=3 generator.tx_per_map=1 data.batch_size=4"
    generate_dataset(load(PROJECT_ROOT / "configs/default.yaml", overrides).generator, home / "small")
    assert main(["train_vae", "--data-dir", str(home / "small"), "--overrides", overrides]) == 2
    (line,) = error_lines(capsys.readouterr().err)
    assert "fewer than one batch of 4" in line and "training split has 1 radio maps" in line, line
