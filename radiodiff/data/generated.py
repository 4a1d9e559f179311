"""Where the embedded generator's data sets live, and making one on first use.

A job given no `data_dir` trains on the data set that its config's `generator` section describes; that data
set is written once to data/generated-<fingerprint> and reused by every later job with the same parameters.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict, fields
from pathlib import Path

from radiodiff.config import Config, GeneratorConfig
from radiodiff.paths import data_home


def fingerprint(generator: GeneratorConfig) -> str:
    """A short hash of every generator parameter that changes the written files."""
    speed_only = {f.name for f in fields(generator) if f.metadata.get("speed_only")}
    params = {k: v for k, v in asdict(generator).items() if k not in speed_only}
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]


def default_data_dir(generator: GeneratorConfig) -> Path:
    """<RADIODIFF_HOME>/data/generated-<fingerprint> (RADIODIFF_HOME defaults to the working directory)."""
    return data_home() / f"generated-{fingerprint(generator)}"


def resolve_data_root(config: Config) -> Path:
    """`data.data_dir` when given; otherwise the generator's data set, generated now if it is not complete."""
    if config.data.data_dir:
        return Path(config.data.data_dir)
    from radiodiff.data.generator import dataset_matches, generate_dataset

    root = default_data_dir(config.generator)
    if not dataset_matches(root, config.generator):
        settings = ", ".join(f"{k}={v}" for k, v in asdict(config.generator).items())
        print(f"radiodiff: generating the data set of generator settings {settings} into {root}", file=sys.stderr)
        generate_dataset(config.generator, root)
    return root
