"""Exponential moving average of a model's weights (used for validation, sampling and export)."""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    """Shadow copies of a module's floating-point parameters and buffers.

    Update: shadow = decay * shadow + (1 - decay) * weight (Polyak averaging), with the decay warmed up as
    min(decay, (1 + n) / (10 + n)) over the first updates so early weights do not dominate.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.shadow = {k: v.detach().clone().float() for k, v in model.state_dict().items()}

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        decay = self.current_decay()
        for key, value in model.state_dict().items():
            shadow = self.shadow[key]
            if value.dtype.is_floating_point:
                shadow.lerp_(value.detach().float(), 1.0 - decay)
            else:
                shadow.copy_(value)
        self.updates += 1

    def copy_to(self, model: nn.Module) -> None:
        """Load the averaged weights into `model` (same architecture)."""
        model.load_state_dict({k: v.to(model.state_dict()[k].dtype) for k, v in self.shadow.items()})

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.shadow)

    def load_state_dict(self, shadow: dict[str, torch.Tensor], updates: int) -> None:
        missing = set(self.shadow) ^ set(shadow)
        if missing:
            raise ValueError(f"EMA state does not match the model: keys differ: {sorted(missing)[:5]}")
        self.shadow = {k: v.float().clone() for k, v in shadow.items()}
        self.updates = updates
