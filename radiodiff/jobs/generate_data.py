"""The `generate_data` job: write a generated data set in `data.layout` and record it as an MLflow run.

radiomapseer: outdoor cities (docs/generator.md); icassp: indoor floor plans in the ICASSP 2025 challenge layout
(docs/icassp.md). Both runs log the same metrics, a `preview` image and the data set as the run's input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from radiodiff.config import Config
from radiodiff.data.generated import default_data_dir, fingerprint
from radiodiff.tracking import start_run


def generate_data(config: Config, out_dir: str = "", nested: bool = False) -> Path:
    """Generate `config.generator`'s data set of `config.data.layout` into `out_dir` (default:
    data/generated-<fingerprint>).

    Returns:
        The data root that was written.
    """
    layout = config.data.layout
    root = Path(out_dir) if out_dir else default_data_dir(config.generator, layout)
    digest = fingerprint(config.generator, layout)
    kind = config.generator.engine if layout == "radiomapseer" else "indoor"
    name = f"generated-{kind}-{digest}"
    generate, preview = _writer(layout)
    if layout == "radiomapseer" and config.generator.engine == "sionna":
        from radiodiff.data.generator.sionna_rt.backend import check_sionna

        check_sionna()  # a missing extra or LLVM library is one line, before a run exists
    with start_run("generate_data", config, run_name=name, nested=nested) as tracker:
        tracker.set_tags({"radiodiff.data_dir": str(root.resolve())})
        summary = generate(config.generator, root)
        tracker.log_metrics(
            {
                "generate/radio_maps": summary.radio_maps,
                "generate/seconds": summary.seconds,
                "generate/maps_per_s": summary.maps_per_second,
            },
            step=0,
        )
        tracker.log_image("preview", preview(root), step=0)
        tracker.log_dataset(root, name=name, digest=digest, context="generated")
    return root


def _writer(layout: str) -> tuple[Callable[[Any, Path], Any], Callable[[Path], np.ndarray]]:
    """(writer: generator config, root -> GenerationSummary; preview: root -> RGB image) of a layout."""
    if layout == "icassp":
        from radiodiff.data.icassp.preview import indoor_preview_panel
        from radiodiff.data.icassp.writer import generate_indoor_dataset

        return generate_indoor_dataset, indoor_preview_panel
    from radiodiff.data.generator import generate_dataset, preview_panel

    return generate_dataset, preview_panel
