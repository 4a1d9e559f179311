"""Where the embedded generator's data sets live, and making one on first use.

A job given no `data_dir` trains on the data set that its config's `generator` section describes; that data
set is written once to data/generated-<fingerprint> and reused by every later job with the same parameters.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from radiodiff.config import Config, GeneratorConfig
from radiodiff.paths import data_home

INDOOR_PREFIX = "indoor_"
"""Generator fields of the icassp layout's indoor set; the others are the outdoor (RadioMapSeer) generator's."""
RT_PREFIX = "rt_"
"""Generator fields of the outdoor engine sionna (ray tracing); the fast engine's data sets ignore them."""


def layout_params(generator: GeneratorConfig, layout: str = "radiomapseer") -> dict[str, Any]:
    """The generator parameters that change the files of `layout`'s data set (the worker count does not)."""
    speed_only = {f.name for f in fields(generator) if f.metadata.get("speed_only")}
    params = {k: v for k, v in asdict(generator).items() if k not in speed_only}
    if layout == "icassp":
        return {
            "layout": layout,
            "seed": generator.seed,
            **{k: v for k, v in params.items() if k.startswith(INDOOR_PREFIX)},
        }
    ray_traced = generator.engine == "sionna"
    return {
        k: v
        for k, v in params.items()
        if not k.startswith(INDOOR_PREFIX) and (ray_traced or not k.startswith(RT_PREFIX))
    }


def fingerprint(generator: GeneratorConfig, layout: str = "radiomapseer") -> str:
    """A short hash of every generator parameter that changes the written files of `layout`'s data set."""
    return hashlib.sha256(json.dumps(layout_params(generator, layout), sort_keys=True).encode()).hexdigest()[:12]


def default_data_dir(generator: GeneratorConfig, layout: str = "radiomapseer") -> Path:
    """<RADIODIFF_HOME>/data/generated-<fingerprint> (RADIODIFF_HOME defaults to the working directory)."""
    return data_home() / f"generated-{fingerprint(generator, layout)}"


def resolve_data_root(config: Config) -> Path:
    """`data.data_dir` when given; otherwise the generator's data set of `data.layout`, generated now if it is not
    complete."""
    if config.data.data_dir:
        return Path(config.data.data_dir)
    layout = config.data.layout
    generate, matches = _writer(layout)
    root = default_data_dir(config.generator, layout)
    if not matches(root, config.generator):
        settings = ", ".join(f"{k}={v}" for k, v in layout_params(config.generator, layout).items())
        print(f"radiodiff: generating the data set of generator settings {settings} into {root}", file=sys.stderr)
        generate(config.generator, root)
    return root


def _writer(layout: str) -> tuple[Callable[[GeneratorConfig, Path], Any], Callable[[Path, GeneratorConfig], bool]]:
    """(generate, matches) of a layout's generator: write the data set; does a folder hold it complete."""
    if layout == "icassp":
        from radiodiff.data.icassp.writer import generate_indoor_dataset, indoor_dataset_matches

        return generate_indoor_dataset, indoor_dataset_matches
    from radiodiff.data.generator import dataset_matches, generate_dataset

    return generate_dataset, dataset_matches
