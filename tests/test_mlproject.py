"""The MLproject and the console script agree: every entry point resolves to a script and a CLI command."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from mlflow.projects._project_spec import load_project

from radiodiff.cli import COMMANDS, _drop_empty_values, build_parser

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ["generate_data", "eda", "train_vae", "train_ldm", "train_unet", "evaluate", "report", "main", "sweep"]


def test_mlproject_has_the_contract_entry_points() -> None:
    project = load_project(str(ROOT))
    assert sorted(project._entry_points) == sorted(CONTRACT)
    assert set(CONTRACT) <= set(COMMANDS)  # plus console-only commands (predict, ...)
    assert project.env_config_path.endswith("conda.yaml")


@pytest.mark.parametrize("name", CONTRACT)
def test_every_entry_point_command_parses(name: str) -> None:
    entry = load_project(str(ROOT)).get_entry_point(name)
    argv = shlex.split(entry.compute_command({}, storage_dir=None))
    assert argv[:2] == ["python", f"entrypoints/{name}.py"]
    assert (ROOT / argv[1]).is_file()
    args = build_parser().parse_args([name, *_drop_empty_values(argv[2:])])
    assert args.command == name and args.config == "configs/default.yaml"


def test_cli_params_become_config_overrides() -> None:
    entry = load_project(str(ROOT)).get_entry_point("generate_data")
    argv = shlex.split(entry.compute_command({"maps": "3", "size": "48"}, storage_dir=None))
    args = build_parser().parse_args(["generate_data", *_drop_empty_values(argv[2:])])
    assert (args.maps, args.size, args.tx_per_map) == (3, 48, None)


def test_bad_input_exits_2_with_one_line(project_root: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(project_root / "entrypoints/train_vae.py"),
         "--config", str(project_root / "configs/default.yaml"), "--overrides", "vae.chanels=8"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "unknown config key 'vae.chanels': did you mean 'channels'?" in done.stderr


def test_conda_env_pins_match_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    conda = yaml.safe_load((ROOT / "conda.yaml").read_text())
    pip_section = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    assert sorted(d for d in pip_section if not d.startswith("-e")) == sorted(pyproject)
    assert "python=3.11" in conda["dependencies"]


def test_evaluate_compare_takes_several_uris_in_one_parameter() -> None:
    entry = load_project(str(ROOT)).get_entry_point("evaluate")
    uris = "runs:/a/model models:/radiounet@champion"
    argv = shlex.split(entry.compute_command({"model": "runs:/b/model", "compare": uris}, storage_dir=None))
    args = build_parser().parse_args(["evaluate", *_drop_empty_values(argv[2:])])
    assert (args.model, args.compare) == ("runs:/b/model", uris)
