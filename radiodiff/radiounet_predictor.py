"""The RadioUNet baseline's map predictor (pure torch): building maps + transmitter maps -> radio maps in one pass.

It loads a RadioUNet model package, a folder holding
    config.yaml                 the train_unet run's config (its `radiounet` and `data` sections)
    radiounet.safetensors       the network (EMA weights)
Requests are checked and turned into condition images by `MapPredictor`, exactly as for RadioDiff; maps of any
H x W >= 8 x 8 are padded (as open ground) to the network's multiple and cropped back. The network is
deterministic: a request's `steps` and `seed` are checked against the same limits as RadioDiff's (so a client can
send one request to either model) and otherwise ignored.
"""

from __future__ import annotations

from pathlib import Path

import torch

from radiodiff.config import load
from radiodiff.data.condition import condition_channels, outdoor_only
from radiodiff.data.transforms import denormalize
from radiodiff.models.padding import run_padded
from radiodiff.models.radiounet import RadioUNet
from radiodiff.models.weight_files import inference_weights
from radiodiff.predictor import MapPredictor

__all__ = ["RADIOUNET_MODULE", "RadioUNetPredictor", "unet_maps"]

RADIOUNET_MODULE = "radiounet"
"""The network's name in checkpoints and packages (`radiounet.safetensors`)."""
PIXELS_PER_PASS = 8 * 256 * 256
"""Maps x pixels per forward pass: bounds the activations' memory for a large request."""


@torch.no_grad()
def unet_maps(model: RadioUNet, cond: torch.Tensor) -> torch.Tensor:
    """The last stage's radio maps (B, 1, H, W) on the [0, 1] grey scale (0 in buildings, `outdoor_only`) for
    conditions (B, C, H, W) of any size.

    Shared by validation during training and by the predictor, so both predict the same way.
    """
    per_pass = max(1, PIXELS_PER_PASS // (cond.shape[-2] * cond.shape[-1]))
    chunks = [run_padded(lambda c: model(c)[:, -1:], part, model.multiple) for part in cond.split(per_pass)]
    return outdoor_only(denormalize(torch.cat(chunks)).clamp(0, 1), cond)


class RadioUNetPredictor(MapPredictor):
    """Predicts path-gain maps on the RadioMapSeer grey scale [0, 1] (FACTS §1) with the RadioUNet baseline."""

    model_type = "radiounet"

    def __init__(self, package_dir: str | Path, device: str = "cpu") -> None:
        package_dir = Path(package_dir)
        self.config = load(package_dir / "config.yaml")
        self.device = torch.device(device)
        self.network = RadioUNet(self.config.radiounet, condition_channels(self.config.data))
        self.network.load_state_dict(inference_weights(package_dir, RADIOUNET_MODULE))
        self.network.to(self.device).eval().requires_grad_(False)

    def predict_conditions(self, cond: torch.Tensor, seeds: list[int], steps: int | None = None) -> torch.Tensor:
        """Radio maps (B, 1, H, W) in [0, 1] for condition images (B, C, H, W) in [-1, 1] of any size; `seeds`
        and `steps` do not change a deterministic network's maps."""
        return unet_maps(self.network, cond.to(self.device))
