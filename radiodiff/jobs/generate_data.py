"""The `generate_data` job: write a generated data set (RadioMapSeer or ICASSP layout), recorded as an MLflow run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from radiodiff.config import Config, GeneratorConfig
from radiodiff.data.generated import default_data_dir, fingerprint
from radiodiff.tracking import start_run


def generate_data(config: Config, out_dir: str = "", nested: bool = False) -> Path:
    """Generate `config.generator`'s data set into `out_dir` (default: data/generated-<fingerprint>).

    `generator.layout` picks the writer: radiomapseer (outdoor cities, docs/generator.md) or icassp (indoor
    floor plans, docs/icassp.md); both log the same metrics and a `preview` image.

    Returns:
        The data root that was written.
    """
    generator = config.generator
    root = Path(out_dir) if out_dir else default_data_dir(generator)
    kind = generator.engine if generator.layout == "radiomapseer" else generator.layout
    name = f"generated-{kind}-{fingerprint(generator)}"
    generate, preview = _writer(generator.layout)
    with start_run("generate_data", config, run_name=name, nested=nested) as tracker:
        tracker.set_tags({"radiodiff.data_dir": str(root.resolve())})
        summary = generate(generator, root)
        tracker.log_metrics(
            {
                "generate/radio_maps": summary.radio_maps,
                "generate/seconds": summary.seconds,
                "generate/maps_per_s": summary.maps_per_second,
            },
            step=0,
        )
        tracker.log_image("preview", preview(root), step=0)
        tracker.log_dataset(root, name=name, digest=fingerprint(generator), context="generated")
    return root


def _writer(layout: str) -> tuple[Callable[[GeneratorConfig, Path], Any], Callable[[Path], np.ndarray]]:
    """The data set writer (config, root -> GenerationSummary) and preview (root -> RGB image) of a layout."""
    if layout == "icassp":
        from radiodiff.data.icassp.preview import indoor_preview_panel
        from radiodiff.data.icassp.writer import generate_indoor_dataset

        return generate_indoor_dataset, indoor_preview_panel
    from radiodiff.data.generator import generate_dataset, preview_panel

    return generate_dataset, preview_panel
