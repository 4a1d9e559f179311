"""The `generate_data` job: write a RadioMapSeer-layout data set and record it as an MLflow run."""

from __future__ import annotations

from pathlib import Path

from radiodiff.config import Config
from radiodiff.data.generated import default_data_dir, fingerprint
from radiodiff.data.generator import generate_dataset, preview_panel
from radiodiff.tracking import start_run


def generate_data(config: Config, out_dir: str = "", nested: bool = False) -> Path:
    """Generate `config.generator`'s data set into `out_dir` (default: data/generated-<fingerprint>).

    Returns:
        The data root that was written.
    """
    root = Path(out_dir) if out_dir else default_data_dir(config.generator)
    name = f"generated-{config.generator.engine}-{fingerprint(config.generator)}"
    with start_run("generate_data", config, run_name=name, nested=nested) as tracker:
        tracker.set_tags({"radiodiff.data_dir": str(root.resolve())})
        summary = generate_dataset(config.generator, root)
        tracker.log_metrics(
            {
                "generate/radio_maps": summary.radio_maps,
                "generate/seconds": summary.seconds,
                "generate/maps_per_s": summary.maps_per_second,
            },
            step=0,
        )
        tracker.log_image("preview", preview_panel(root), step=0)
        tracker.log_dataset(root, name=name, digest=fingerprint(config.generator), context="generated")
    return root
