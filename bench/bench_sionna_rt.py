"""Throughput of the Sionna RT engine on this CPU (maps per minute at the default rays), and a picture of ray-traced
maps beside the fast engine's maps of the same windows and transmitters.

Run from the project root (the rt extra and libLLVM 17+ installed):

    python bench/bench_sionna_rt.py                                 # 4 maps x 4 tx at 128 px (512 m), defaults
    python bench/bench_sionna_rt.py --size 64 --maps 6 --picture docs/img/sionna_vs_fast.png

It prints the scene load time, seconds per map (all its transmitters in one solver call) and maps per minute, with
and without diffraction, and the share of free cells that some path reaches.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from radiodiff.config import GeneratorConfig
from radiodiff.data.gain_scale import db_to_grey
from radiodiff.data.generator import generate_dataset
from radiodiff.data.generator.propagation import FastEngine
from radiodiff.data.generator.sionna_rt.backend import load_sionna
from radiodiff.viz import radio_map_rgb


def measure(config: GeneratorConfig) -> tuple[float, float]:
    """(seconds per map, share of free cells above the grey floor) of `generate_dataset` with engine sionna."""
    with tempfile.TemporaryDirectory() as folder:
        summary = generate_dataset(config, Path(folder), progress=False)
        buildings = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in sorted(Path(folder).glob("png/build*/*.png"))]
        reached = []
        for m, mask in enumerate(buildings):
            for k in range(config.tx_per_map):
                grey = cv2.imread(str(Path(folder) / "gain" / config.rt_simulation / f"{m}_{k}.png"), 0)
                reached.append(float(np.mean(grey[mask == 0] > 0)))
    return summary.seconds / config.maps, float(np.mean(reached))


PICTURE_TILE_PX = 192  # smallest tile side of the picture


def picture(config: GeneratorConfig, out: Path) -> None:
    """Rows of buildings | Sionna RT | fast engine for the first transmitter of each map, on one colour scale."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        generate_dataset(config, root, progress=False)
        rows = []
        for m in range(config.maps):
            buildings = cv2.imread(str(root / "png" / "buildings_complete" / f"{m}.png"), cv2.IMREAD_UNCHANGED)
            antenna = cv2.imread(str(root / "png" / "antennas" / f"{m}_0.png"), cv2.IMREAD_UNCHANGED)
            ray_traced = cv2.imread(str(root / "gain" / config.rt_simulation / f"{m}_0.png"), cv2.IMREAD_UNCHANGED)
            row, col = np.argwhere(antenna == 255)[0]
            fast = FastEngine(buildings, config.frequency_ghz, config.metres_per_pixel)
            fast_grey = db_to_grey(fast.path_gain_db((int(row), int(col))), buildings)
            city = np.repeat(buildings[:, :, None], 3, axis=2)
            cv2.circle(city, (int(col), int(row)), max(2, buildings.shape[0] // 48), (255, 0, 255), -1)
            tiles = [city, radio_map_rgb(ray_traced, scale="grey", buildings=buildings)]
            tiles.append(radio_map_rgb(fast_grey, scale="grey", buildings=buildings))
            zoom = max(1, PICTURE_TILE_PX // buildings.shape[0])  # whole pixels, nearest: the cells stay visible
            tiles = [cv2.resize(t, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST) for t in tiles]
            gap = np.full((tiles[0].shape[0], 4, 3), 96, np.uint8)
            rows.append(np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], axis=1))
        separator = np.full((4, rows[0].shape[1], 3), 96, np.uint8)
        image = np.concatenate([part for r in rows for part in (r, separator)][:-1], axis=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    print(f"wrote {out} ({image.shape[1]} x {image.shape[0]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--maps", type=int, default=4)
    parser.add_argument("--tx_per_map", type=int, default=4)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--scene", default="munich")
    parser.add_argument("--picture", type=Path, default=None, help="also write the comparison picture here")
    args = parser.parse_args()
    started = time.perf_counter()
    load_sionna()
    print(f"import sionna.rt (LLVM backend): {time.perf_counter() - started:.1f} s")
    config = GeneratorConfig(
        engine="sionna", maps=args.maps, tx_per_map=args.tx_per_map, size=args.size, rt_scene=args.scene
    )
    print(f"scene {args.scene}, {args.size} px x {config.metres_per_pixel} m, {args.tx_per_map} tx per map, "
          f"{config.rt_samples_per_tx:.0e} rays per tx, depth {config.rt_max_depth}")  # fmt: skip
    print("| solver | s per map | maps per min | radio maps per min | free cells reached |")
    print("| --- | --- | --- | --- | --- |")
    for label, variant in (
        ("default (diffraction on)", config),
        ("diffraction off", replace(config, rt_diffraction=False)),
    ):
        seconds, reached = measure(variant)
        per_minute = 60.0 / seconds
        print(f"| {label} | {seconds:.1f} | {per_minute:.1f} | {per_minute * args.tx_per_map:.0f} | {reached:.1%} |")
    if args.picture is not None:
        picture(config, args.picture)


if __name__ == "__main__":
    main()
