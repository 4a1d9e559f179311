"""Throughput of the embedded radio-map generator (radio maps per second, PNG writing included).

Run from the project root:

    python bench/bench_generator.py                       # 8 maps x 8 tx at 256x256, 1 and 2 workers
    python bench/bench_generator.py --size 128 --workers 1 2 4 --stages

`--stages` also times the engine's stages on one map in this process (where the time goes).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from radiodiff.config import GeneratorConfig
from radiodiff.data.gain_scale import db_to_grey
from radiodiff.data.generator import generate_dataset
from radiodiff.data.generator.city import generate_city, place_transmitters
from radiodiff.data.generator.corners import blocked_rays, corner_excess_polar
from radiodiff.data.generator.penetration import building_crossed_px, penetration_loss_polar
from radiodiff.data.generator.polar import PolarFrame
from radiodiff.data.generator.propagation import ANGLES_PER_PIXEL, FastEngine
from radiodiff.data.generator.simulate import map_rng


def throughput(maps: int, tx_per_map: int, size: int, workers: int) -> tuple[float, float]:
    """Radio maps per second of `generate_dataset` writing into a temporary folder: (first call, second call).

    The first call of a process also starts the worker server (imports included); the second shows the
    steady rate of a long generation.
    """
    config = GeneratorConfig(maps=maps, tx_per_map=tx_per_map, size=size, workers=workers)
    rates = []
    for _ in range(2):
        with tempfile.TemporaryDirectory() as out_dir:
            rates.append(generate_dataset(config, Path(out_dir), progress=False).maps_per_second)
    return rates[0], rates[1]


class _Stopwatch:
    """Accumulates the CPU time of named calls (CPU time: robust to other processes on a busy machine)."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    def __call__(self, name: str, function: Callable[..., Any], *args: Any) -> Any:
        start = time.process_time()
        result = function(*args)
        self.ms[name] = self.ms.get(name, 0.0) + (time.process_time() - start) * 1e3
        return result


def stage_times_ms(size: int, tx_count: int = 8) -> dict[str, float]:
    """Mean CPU milliseconds per radio map of each engine stage on one map (single process)."""
    rng = map_rng(0, 0)
    watch = _Stopwatch()
    buildings = watch("city (per map)", generate_city, size, 1.0, rng)
    engine = watch("engine setup (per map)", FastEngine, buildings, 3.5, 1.0)
    solid = (buildings != 0).astype(np.float32)
    for position in place_transmitters(buildings, tx_count, rng):
        tx = (int(position[0]), int(position[1]))
        frame = PolarFrame.around(buildings.shape, tx, ANGLES_PER_PIXEL)
        occupancy = watch("polar warp", frame.to_polar, solid)
        crossed = watch("building crossed", building_crossed_px, occupancy, frame.step_px)
        watch("penetration", penetration_loss_polar, occupancy, crossed, 1.0, 12.0, 1.0)
        coarse = frame.every_other_radius()
        blocked = np.ascontiguousarray(blocked_rays(crossed)[:, ::2])
        watch("corner excess", corner_excess_polar, blocked, coarse)
        watch("inverse warp (each)", frame.to_map, occupancy)
        watch("lattice geodesic", engine.graph.distance_px, tx)
        gain = watch("whole engine", engine.path_gain_db, tx)
        watch("grey + PNG encode", lambda g: cv2.imencode(".png", db_to_grey(g, buildings)), gain)
    return {name: ms / (1 if "per map" in name else tx_count) for name, ms in watch.ms.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--maps", type=int, default=8)
    parser.add_argument("--tx", type=int, default=8, help="transmitters per map")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--stages", action="store_true", help="also time the engine's stages")
    args = parser.parse_args()
    for workers in args.workers:
        first, steady = throughput(args.maps, args.tx, args.size, workers)
        print(
            f"{args.size}x{args.size}, {args.maps} maps x {args.tx} tx, {workers} worker(s): "
            f"{steady:.1f} radio maps/s (first call of the process: {first:.1f})"
        )
    if args.stages:
        for name, ms in stage_times_ms(args.size, args.tx).items():
            print(f"  {name:<24s} {ms:7.2f} ms CPU" + ("" if "per map" in name else " per radio map"))


if __name__ == "__main__":
    main()
