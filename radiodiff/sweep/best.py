"""The best trial of a study as files a job takes as they are.

`best_overrides.yaml` holds only the swept keys, as config sections: `--config best_overrides.yaml` runs them on
the built-in defaults, and its header gives the same keys as an `--overrides` string for the sweep's own config.
`best_config.yaml` is the best trial's whole config (the sweep's config, its overrides and the best values):
`--config best_config.yaml` trains that trial again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from radiodiff.config import Config, dump, load

OVERRIDES_FILE = "best_overrides.yaml"
CONFIG_FILE = "best_config.yaml"


@dataclass(frozen=True)
class BestTrial:
    """The best trial of a study, as the sweep reports it."""

    study: str
    number: int
    metric: str
    value: float
    run_id: str
    overrides: dict[str, Any]
    """Swept key -> the value the config holds (typed by the config)."""


def overrides_text(overrides: dict[str, Any]) -> str:
    """`key=value ...` for `--overrides` / `-P overrides=` (lists without spaces, so no quoting is needed)."""
    return " ".join(f"{key}={_flow(value)}" for key, value in overrides.items())


def write_best_files(folder: Path, best: BestTrial, base: Config, entry: str) -> tuple[Path, Path]:
    """Write best_overrides.yaml and best_config.yaml into `folder`; both load with `radiodiff.config.load`.

    Returns: (the overrides file, the whole-config file).
    """
    folder.mkdir(parents=True, exist_ok=True)
    about = (
        f"# The best trial of sweep study {best.study}: trial {best.number}, {best.metric} = {best.value:.6g} "
        f"(run {best.run_id or '?'}).\n"
    )
    overrides_file, config_file = folder / OVERRIDES_FILE, folder / CONFIG_FILE
    overrides_file.write_text(
        about
        + f"# The swept keys on the built-in defaults: radiodiff {entry} --config {OVERRIDES_FILE}\n"
        + f'# On the sweep\'s own config: --overrides "{overrides_text(best.overrides)}"\n'
        + yaml.safe_dump(_nested(best.overrides), sort_keys=False)
    )
    config_file.write_text(
        about
        + f"# Its whole config: radiodiff {entry} --config {CONFIG_FILE} trains it again.\n"
        + dump(base.with_overrides(best.overrides))
    )
    for path in (overrides_file, config_file):
        load(path)  # a file a job cannot load is a bug here, not later in the user's hands
    return overrides_file, config_file


def typed_overrides(base: Config, overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides as the config holds them (e.g. 1e-3 read as text becomes 0.001, tuples become lists)."""
    flat = base.with_overrides(overrides).flat()
    return {key: flat[key] for key in overrides}


def _nested(overrides: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, value in overrides.items():
        *sections, leaf = dotted.split(".")
        node = out
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = value
    return out


def _flow(value: Any) -> str:
    """A value as YAML reads it back: lists and null/true/false as JSON, everything else as written."""
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list | dict | bool | None) else str(value)
