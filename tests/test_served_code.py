"""What a logged model carries: its code imports nothing of the trainer or the generator, and its pip
requirements are pyproject's own lines for everything that code imports."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from training_helpers import PROJECT_ROOT

from radiodiff.serving_requirements import _canonical, served_imports, serving_requirements

NOT_SERVED = ("radiodiff.training", "radiodiff.data.generator", "radiodiff.jobs", "radiodiff.eda", "evaluation")


def _imported_by_the_model_code() -> list[str]:
    """Every module in sys.modules after importing the model's code in a fresh interpreter."""
    code = "import json, sys, radiodiff.inference; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_the_model_code_imports_neither_trainer_nor_generator() -> None:
    modules = _imported_by_the_model_code()
    assert [m for m in modules if m.startswith(NOT_SERVED)] == []
    own, _ = served_imports()
    assert not [m for m in own if m.startswith(NOT_SERVED)]


def test_requirements_are_pyproject_lines_and_cover_what_the_model_code_imports() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements = serving_requirements()
    assert set(requirements) <= set(pyproject)
    assert {"torch==2.14.1", "torchvision==0.29.1", "mlflow==3.17.2"} <= set(requirements)

    providers = metadata.packages_distributions()
    project = {_canonical(Requirement(line).name) for line in pyproject}
    imported = {_canonical(d) for m in served_imports()[1] for d in providers.get(m, [])}
    assert {"torch", "timm", "safetensors", "opencv-python-headless", "pyyaml", "numpy", "mlflow"} <= imported
    covered = {_canonical(Requirement(line).name) for line in requirements}
    assert sorted((imported & project) - covered) == []
    # What the fresh interpreter imports beyond this (e.g. psutil, optional for OpenTelemetry) belongs to the
    # requirements' own dependencies; tests/test_fresh_venv.py loads a model with nothing else installed.
