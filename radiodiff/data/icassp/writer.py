"""Write the indoor data set in the ICASSP challenge layout, one building per task, over worker processes.

Like the RadioMapSeer writer (radiodiff/data/generator/writer.py): `generator.json` records every parameter
that determines the files (not the worker count); it is written with `"complete": false` before the first
file and with `"complete": true` after the last, so `indoor_dataset_matches` accepts only a finished data set
made with the same parameters.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from itertools import product
from pathlib import Path
from typing import Any

from tqdm import tqdm

from radiodiff.config_sections import GeneratorConfig
from radiodiff.data.generator.writer import GenerationSummary
from radiodiff.data.icassp import layout
from radiodiff.data.icassp.axis import GENERATOR_AXIS_ORDER
from radiodiff.data.icassp.materials import MATERIALS
from radiodiff.data.icassp.multiwall import FREQUENCY_EXPONENT, REFERENCE_MHZ
from radiodiff.data.icassp.patterns import ANTENNAS, pattern_gains
from radiodiff.data.icassp.png import write_png
from radiodiff.data.icassp.scale import PATHLOSS_MAX_DB, PATHLOSS_MIN_DB
from radiodiff.data.icassp.simulate import draw_transmitters, generated_task, plan_building, sample_images
from radiodiff.data.icassp.tables import write_pattern, write_positions
from radiodiff.data.png_io import DataError

__all__ = ["INDOOR_ENGINE_VERSION", "generate_indoor_dataset", "indoor_dataset_matches", "indoor_generator_params"]

INDOOR_ENGINE_VERSION = 1
"""Bumped whenever the floor plans or the propagation change the files for the same parameters."""

_FOLDERS = (layout.INPUTS_DIR, layout.OUTPUTS_DIR, layout.POSITIONS_DIR, layout.PATTERNS_DIR)


def indoor_generator_params(config: GeneratorConfig) -> dict[str, Any]:
    """The parameters that determine the files (generator.json without `complete`)."""
    return {
        "layout": "icassp",
        "seed": config.seed,
        **{key: getattr(config, f"indoor_{key}") for key in ("buildings", "min_side", "max_side", "tx_per_setting")},
        "engine": "multiwall",
        "engine_version": INDOOR_ENGINE_VERSION,
        "materials": [m.as_dict() for m in MATERIALS],
        "antennas": {str(a): spec.as_dict() for a, spec in ANTENNAS.items()},
        "frequencies_mhz": {str(f): mhz for f, mhz in layout.FREQUENCIES_MHZ.items()},
        "wall_loss": {"reference_mhz": REFERENCE_MHZ, "frequency_exponent": FREQUENCY_EXPONENT},
        "pathloss_window_db": [PATHLOSS_MIN_DB, PATHLOSS_MAX_DB],
        "metres_per_pixel": layout.METRES_PER_PIXEL,
        "axis_order": GENERATOR_AXIS_ORDER,
    }


def indoor_dataset_matches(out_dir: Path, config: GeneratorConfig) -> bool:
    """Whether `out_dir` holds a complete indoor data set generated with exactly these parameters."""
    try:
        recorded = json.loads((Path(out_dir) / layout.METADATA_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    complete = recorded.pop("complete", False) is True
    return complete and recorded == json.loads(json.dumps(indoor_generator_params(config)))


def generate_indoor_dataset(config: GeneratorConfig, out_dir: Path, progress: bool = True) -> GenerationSummary:
    """Generate the `indoor_*` settings' buildings with every antenna, frequency and transmitter under `out_dir`.

    The output does not depend on `config.workers`. Files of an earlier generated data set that this one does
    not overwrite are removed; a folder holding challenge-layout files but no generator.json (real data) is
    refused.

    Args:
        config: the generator configuration (`seed`, `workers`, `indoor_*`).
        out_dir: data root (created if missing).
        progress: show a tqdm progress bar counting samples.
    Returns:
        The GenerationSummary (`maps` counts buildings, `radio_maps` samples).
    """
    out_dir = Path(out_dir)
    started = time.perf_counter()
    _prepare(out_dir, config)
    _write_metadata(out_dir, config, complete=False)
    for antenna, spec in ANTENNAS.items():
        write_pattern(layout.pattern_file(out_dir, antenna), pattern_gains(spec))
    per_building = len(ANTENNAS) * len(layout.FREQUENCIES_MHZ) * config.indoor_tx_per_setting
    tasks = [(config, out_dir, b) for b in range(1, config.indoor_buildings + 1)]
    workers = min(config.workers or os.cpu_count() or 1, len(tasks))
    with tqdm(total=len(tasks) * per_building, unit="sample", disable=not progress) as bar:
        if workers == 1:
            for task in tasks:
                bar.update(_write_building(task))
        else:
            with _process_context().Pool(workers) as pool:
                for written in pool.imap_unordered(_write_building, tasks):
                    bar.update(written)
    _write_metadata(out_dir, config, complete=True)
    seconds = time.perf_counter() - started
    samples = len(tasks) * per_building
    return GenerationSummary(out_dir, len(tasks), samples, seconds, samples / max(seconds, 1e-9))


def _expected_files(out_dir: Path, config: GeneratorConfig) -> set[Path]:
    keep = {layout.pattern_file(out_dir, a) for a in ANTENNAS}
    for b, a, f in product(range(1, config.indoor_buildings + 1), ANTENNAS, layout.FREQUENCIES_MHZ):
        keep.add(layout.positions_file(out_dir, b, a, f))
        task = generated_task(a, f)
        for s in range(config.indoor_tx_per_setting):
            keep.update({layout.input_file(out_dir, task, b, a, f, s), layout.output_file(out_dir, task, b, a, f, s)})
    return keep


def _prepare(out_dir: Path, config: GeneratorConfig) -> None:
    """Create the layout folders; remove stale generated files, refuse to touch non-generated data."""
    existing = [p for folder in _FOLDERS if (out_dir / folder).is_dir() for p in (out_dir / folder).rglob("*.*")]
    if existing and not (out_dir / layout.METADATA_FILE).exists():
        raise DataError(
            f"{out_dir} holds ICASSP-layout files but no {layout.METADATA_FILE}: not a generated data set, "
            "refusing to overwrite it; choose another output folder"
        )
    keep = _expected_files(out_dir, config)
    for path in existing:
        if path.is_file() and path not in keep:
            path.unlink()
    for folder in (layout.POSITIONS_DIR, layout.PATTERNS_DIR):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    for task in {generated_task(a, f) for a, f in product(ANTENNAS, layout.FREQUENCIES_MHZ)}:
        for folder in (layout.INPUTS_DIR, layout.OUTPUTS_DIR):
            (out_dir / folder / layout.task_dir_name(task)).mkdir(parents=True, exist_ok=True)


def _write_metadata(out_dir: Path, config: GeneratorConfig, complete: bool) -> None:
    """Write generator.json atomically (temporary file + rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / layout.METADATA_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({**indoor_generator_params(config), "complete": complete}, indent=2) + "\n")
    temporary.replace(path)


def _process_context() -> multiprocessing.context.BaseContext:
    """Workers that start clean (forking a parent with running threads can deadlock): a fresh fork server
    that imports this module once, or spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _write_building(task: tuple[GeneratorConfig, Path, int]) -> int:
    """Simulate and write every sample of one building (and its positions files); returns the sample count."""
    config, out_dir, building = task
    plan = plan_building(config.seed, building, config)
    written = 0
    for antenna, frequency in product(ANTENNAS, layout.FREQUENCIES_MHZ):
        positions = draw_transmitters(plan, config.seed, building, antenna, frequency, config.indoor_tx_per_setting)
        write_positions(layout.positions_file(out_dir, building, antenna, frequency), positions)
        pattern = pattern_gains(ANTENNAS[antenna])
        task_id = generated_task(antenna, frequency)
        for s, position in positions.items():
            image, loss = sample_images(plan, position, pattern, layout.FREQUENCIES_MHZ[frequency])
            write_png(layout.input_file(out_dir, task_id, building, antenna, frequency, s), image)
            write_png(layout.output_file(out_dir, task_id, building, antenna, frequency, s), loss)
            written += 1
    return written
