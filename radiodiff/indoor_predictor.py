"""The radio-map predictor of the icassp layout: the challenge's 3-channel inputs -> path loss in dB.

A package trained on the icassp layout (`data.layout: icassp`) holds, besides RadioMapPredictor's files,
`patterns.json`: the antennas' radiation patterns of its training data (360 gains in dBi per id). A request gives
the challenge's image (reflectance, transmittance, distance to the transmitter), the antenna id, the frequency and
the azimuth per map (`radiodiff.prediction_request.indoor_request`); the condition is built as the training data's
(`condition_from_inputs`, the transmitter at the distance channel's minimum), the map comes back at the image's
own size, in dB.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from radiodiff.data.icassp.antenna import antenna_channel_db
from radiodiff.data.icassp.axis import distance_minimum
from radiodiff.data.icassp.dataset import antenna_db_of, condition_from_inputs, pathloss_db
from radiodiff.prediction_request import indoor_request, sampler_params
from radiodiff.predictor import RadioMapPredictor

__all__ = ["PATTERNS_FILE", "IndoorMapPredictor", "write_patterns"]

PATTERNS_FILE = "patterns.json"


def write_patterns(package_dir: Path, patterns: Mapping[int, np.ndarray]) -> None:
    """Store the antennas' patterns (id -> (360,) dBi) in a package."""
    table = {str(antenna): [float(g) for g in gains] for antenna, gains in sorted(patterns.items())}
    (Path(package_dir) / PATTERNS_FILE).write_text(json.dumps(table))


class IndoorMapPredictor(RadioMapPredictor):
    """RadioDiff on the icassp layout: `predict_indoor` returns path loss in dB at each input's own size."""

    def __init__(self, package_dir: str | Path, device: str = "cpu") -> None:
        super().__init__(package_dir, device)
        table = json.loads((Path(package_dir) / PATTERNS_FILE).read_text())
        self.patterns = {int(antenna): np.asarray(gains, dtype=np.float64) for antenna, gains in table.items()}

    def predict_indoor(
        self,
        inputs: np.ndarray,
        antenna: np.ndarray | int,
        frequency_mhz: np.ndarray | float,
        azimuth_deg: np.ndarray | float = 0.0,
        steps: int | None = None,
        seed: int = 0,
    ) -> np.ndarray:
        """Path-loss maps (B, H, W) in dB for the challenge's images (B, 3, H, W) (or (B, H, W, 3)).

        Raises:
            InputError: a request outside `indoor_request`'s or `sampler_params`' limits (one line naming it).
        """
        request = {"inputs": inputs, "antenna": antenna, "frequency_mhz": frequency_mhz, "azimuth_deg": azimuth_deg}
        return self.predict_inputs(request, steps, seed)

    def predict_inputs(self, inputs: Mapping[str, object], steps: object = None, seed: object = None) -> np.ndarray:
        """`predict_indoor` for named inputs (`INDOOR_INPUTS`), as a served request holds them."""
        params = sampler_params(steps, seed)
        request = indoor_request(inputs, tuple(sorted(self.patterns)))
        conds = []
        for image, antenna, frequency, azimuth in zip(
            request.inputs, request.antenna, request.frequency_mhz, request.azimuth_deg, strict=True
        ):
            row, col = distance_minimum(image[2])
            channel = antenna_channel_db(image.shape[1:], row, col, azimuth, self.patterns[int(antenna)], frequency)
            conds.append(condition_from_inputs(image[0], image[1], channel))
        cond = torch.from_numpy(np.stack(conds))
        excess = self.predict_conditions(cond, [params.seed + i for i in range(len(cond))], params.steps).cpu()
        return pathloss_db(excess, antenna_db_of(cond))[:, 0].numpy().astype(np.float32)
