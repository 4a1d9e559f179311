"""Make docs/images/icassp_sample.png: R | G | B | path loss of one generated indoor sample (docs/icassp.md).

Run from the project root:

    python bench/icassp_picture.py            # writes docs/images/icassp_sample.png (a few seconds)
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

from PIL import Image

from radiodiff.config_sections import GeneratorConfig
from radiodiff.data.icassp.index import index_icassp
from radiodiff.data.icassp.preview import indoor_preview_panel
from radiodiff.data.icassp.writer import generate_indoor_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images/icassp_sample.png")
    parser.add_argument("--zoom", type=int, default=3)
    args = parser.parse_args()
    config = GeneratorConfig(
        seed=0, workers=1, indoor_buildings=2, indoor_min_side=80, indoor_max_side=120, indoor_tx_per_setting=1
    )
    with tempfile.TemporaryDirectory() as folder:
        generate_indoor_dataset(config, Path(folder), progress=False)
        index = index_icassp(folder)
        chosen = tuple(s for s in index.samples if (s.building, s.antenna, s.frequency) in {(1, 2, 2), (2, 1, 1)})
        panel = indoor_preview_panel(dataclasses.replace(index, samples=chosen), samples=2, zoom=args.zoom)
    Image.fromarray(panel).save(args.out, optimize=True)
    print(f"wrote {args.out}: {panel.shape[1]} x {panel.shape[0]} px, {Path(args.out).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
