"""Write a generated data set in the RadioMapSeer layout, one map per task, over worker processes.

`generator.json` records the parameters that determine the files (not the worker count, which does not); it
is written with `"complete": false` before the first image and rewritten with `"complete": true` after the
last, so `dataset_matches` only accepts a finished data set made with the same parameters.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
from tqdm import tqdm

from radiodiff.config import GeneratorConfig
from radiodiff.data.gain_scale import GAIN_MAX_DB, GAIN_MIN_DB
from radiodiff.data.generator import layout
from radiodiff.data.generator.propagation import ENGINE_VERSION, Materials
from radiodiff.data.generator.simulate import MapSample, simulate_map

__all__ = ["GenerationSummary", "dataset_matches", "generate_dataset", "generator_params", "simulation_of"]


@dataclass(frozen=True)
class GenerationSummary:
    """What `generate_dataset` wrote and how fast."""

    out_dir: Path
    """The data root."""
    maps: int
    """City maps written."""
    radio_maps: int
    """Radio maps written (maps x transmitters per map)."""
    seconds: float
    """Wall-clock time of the generation."""
    maps_per_second: float
    """Throughput in RADIO maps per second (radio_maps / seconds)."""


def simulation_of(config: GeneratorConfig) -> str:
    """The folder under `gain/` that `config`'s engine writes: DPM (fast) or `rt_simulation` (sionna)."""
    return config.rt_simulation if config.engine == "sionna" else layout.FAST_SIMULATION


def generator_params(config: GeneratorConfig) -> dict[str, Any]:
    """The parameters that determine the generated files (the content of generator.json without `complete`).

    Args:
        config: the generator configuration.
    Returns:
        A JSON-serialisable dict: config fields except `workers`, the grey window, the simulation, and the engine's
        own (fast: version and materials; sionna: version, packages, scene, windows and solver settings).
    """
    common = {
        "maps": config.maps,
        "tx_per_map": config.tx_per_map,
        "size": config.size,
        "seed": config.seed,
        "frequency_ghz": config.frequency_ghz,
        "metres_per_pixel": config.metres_per_pixel,
        "engine": config.engine,
        "gain_window_db": [GAIN_MIN_DB, GAIN_MAX_DB],
        "simulation": simulation_of(config),
    }
    if config.engine == "sionna":
        from radiodiff.data.generator.sionna_rt.maps import engine_params

        return {**common, **engine_params(config)}
    return {**common, "engine_version": ENGINE_VERSION, "materials": Materials().as_dict()}


def dataset_matches(out_dir: Path, config: GeneratorConfig) -> bool:
    """Whether `out_dir` holds a complete data set generated with exactly these parameters.

    Args:
        out_dir: data root.
        config: the generator configuration.
    Returns:
        True if `out_dir/generator.json` is complete and its parameters equal `generator_params(config)`.
    """
    try:
        recorded = json.loads((Path(out_dir) / layout.METADATA_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    complete = recorded.pop("complete", False) is True
    return complete and recorded == json.loads(json.dumps(generator_params(config)))


def generate_dataset(config: GeneratorConfig, out_dir: Path, progress: bool = True) -> GenerationSummary:
    """Generate `config.maps` cities with `config.tx_per_map` radio maps each and write them under `out_dir`.

    The output does not depend on `config.workers`. Engine sionna traces the maps one after the other in this
    process (Dr.Jit's own threads use every core; the scene is loaded once) and adds meta.json (windows,
    transmitter positions, solver settings). Layout images of an earlier generated data set in
    `out_dir` that this one does not overwrite are removed; a folder holding RadioMapSeer-layout images but
    no generator.json (real data) is refused.

    Args:
        config: the generator configuration.
        out_dir: data root (created if missing).
        progress: show a tqdm progress bar counting radio maps.
    Returns:
        The GenerationSummary.
    """
    out_dir = Path(out_dir)
    started = time.perf_counter()
    if config.engine == "sionna":
        from radiodiff.data.generator.sionna_rt.backend import check_sionna

        check_sionna()  # a missing extra or LLVM library fails before anything is written
    _prepare(out_dir, config)
    _write_metadata(out_dir, config, complete=False)
    workers = min(config.workers or os.cpu_count() or 1, config.maps)
    tasks = [(config, out_dir, m) for m in range(config.maps)]
    with tqdm(total=config.maps * config.tx_per_map, unit="radio map", disable=not progress) as bar:
        if config.engine == "sionna":
            _write_ray_traced(config, out_dir, bar)
        elif workers == 1:
            for task in tasks:
                bar.update(_write_map(task))
        else:
            with _process_context().Pool(workers, initializer=_init_worker) as pool:
                for written in pool.imap_unordered(_write_map, tasks):
                    bar.update(written)
    _write_metadata(out_dir, config, complete=True)
    seconds = time.perf_counter() - started
    radio_maps = config.maps * config.tx_per_map
    return GenerationSummary(out_dir, config.maps, radio_maps, seconds, radio_maps / max(seconds, 1e-9))


def _prepare(out_dir: Path, config: GeneratorConfig) -> None:
    """Create the layout folders; remove stale generated images, refuse to touch non-generated data."""
    simulation = simulation_of(config)
    folders = [out_dir / layout.BUILDINGS_DIR, out_dir / layout.TX_DIR, layout.gain_dir(out_dir, simulation)]
    existing = [path for folder in folders if folder.is_dir() for path in folder.glob("*.png")]
    if existing and not (out_dir / layout.METADATA_FILE).exists():
        raise FileExistsError(
            f"{out_dir} holds RadioMapSeer-layout images but no {layout.METADATA_FILE}: not a generated data "
            "set, refusing to overwrite it; choose another output folder"
        )
    keep = {layout.buildings_file(out_dir, m) for m in range(config.maps)}
    for m in range(config.maps):
        for k in range(config.tx_per_map):
            keep.update({layout.antenna_file(out_dir, m, k), layout.gain_file(out_dir, m, k, simulation)})
    for path in existing:
        if path not in keep:
            path.unlink()
    (out_dir / layout.RT_META_FILE).unlink(missing_ok=True)  # an earlier ray-traced set's; this run writes its own
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)


def _write_metadata(out_dir: Path, config: GeneratorConfig, complete: bool) -> None:
    """Write generator.json atomically (temporary file + rename)."""
    path = out_dir / layout.METADATA_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({**generator_params(config), "complete": complete}, indent=2) + "\n")
    temporary.replace(path)


def _process_context() -> multiprocessing.context.BaseContext:
    """Worker processes that start clean: forking a parent whose OpenCV thread pool already ran deadlocks the
    children, so fork from a fresh server process (which imports the engine once) or spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _init_worker() -> None:
    """One OpenCV thread per worker process: the processes already use every core."""
    cv2.setNumThreads(1)


def _write_map(task: tuple[GeneratorConfig, Path, int]) -> int:
    """Simulate one map with the fast engine and write its images; returns the number of radio maps written."""
    config, out_dir, map_id = task
    _write_sample(out_dir, map_id, simulate_map(config, map_id), simulation_of(config))
    return config.tx_per_map


def _write_ray_traced(config: GeneratorConfig, out_dir: Path, bar: tqdm) -> None:
    """Trace and write every map with Sionna RT in one spawned process (Dr.Jit's threads stay out of this one,
    which may fork DataLoader workers later), then meta.json (the windows and transmitters of every map)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        maps = pool.apply(_trace_and_write, ((config, out_dir),))
    bar.update(config.maps * config.tx_per_map)
    params = generator_params(config)
    meta = {key: params[key] for key in ("scene", "scene_xml_sha256", "window_m", "solver", "packages")}
    meta.update(metres_per_pixel=config.metres_per_pixel, frequency_ghz=config.frequency_ghz, maps=maps)
    temporary = out_dir / (layout.RT_META_FILE.name + ".tmp")
    temporary.write_text(json.dumps(meta, indent=2) + "\n")
    temporary.replace(out_dir / layout.RT_META_FILE)


def _trace_and_write(task: tuple[GeneratorConfig, Path]) -> list[dict[str, Any]]:
    """In the tracing process: trace and write every map; returns their meta.json entries."""
    from radiodiff.data.generator.sionna_rt.maps import ray_traced_maps

    config, out_dir = task
    maps = []
    for traced in ray_traced_maps(config):
        _write_sample(out_dir, traced.map_id, traced.sample, simulation_of(config))
        maps.append(traced.meta())
    return maps


def _write_sample(out_dir: Path, map_id: int, sample: MapSample, simulation: str) -> None:
    """Write one map's building mask, transmitter images and radio maps."""
    _imwrite(layout.buildings_file(out_dir, map_id), sample.buildings)
    for k in range(sample.tx.shape[0]):
        _imwrite(layout.antenna_file(out_dir, map_id, k), sample.antenna_image(k))
        _imwrite(layout.gain_file(out_dir, map_id, k, simulation), sample.gain_grey[k])


def _imwrite(path: Path, image: Any) -> None:
    """Write a single-channel uint8 PNG, raising if OpenCV cannot."""
    if not cv2.imwrite(str(path), image):
        raise OSError(f"could not write {path}")
