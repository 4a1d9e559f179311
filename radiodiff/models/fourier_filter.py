"""A learned filter in the Fourier domain, one per decoder branch of the latent UNet (FACTS §2).

RadioDiff refines the middle features of each of its two branches by multiplying their 2-D spectrum with a
learned complex weight: y = irfft2(rfft2(x) * W). One weight per channel and frequency is a global
convolution with a kernel as large as the feature map, cheap at the coarse middle resolution.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

__all__ = ["FourierFilter"]


class FourierFilter(nn.Module):
    """y = irfft2(rfft2(x) * W) per channel, with W initialised to 1 + 0j (the identity).

    W is stored as real parameters of shape (C, H, W // 2 + 1, 2) (real and imaginary parts), so optimisers,
    EMA and safetensors see ordinary float tensors. The FFT runs in float32 even under bf16/fp16 autocast
    (cuFFT and the CPU FFT do not take bf16, and half-precision spectra lose the small frequencies); the
    output is cast back to the input's dtype.

    Args:
        channels: channels C.
        size: (H, W) of the inputs the filter is built for; other sizes raise a ValueError.
    """

    def __init__(self, channels: int, size: tuple[int, int]) -> None:
        super().__init__()
        height, width = size
        if channels < 1 or height < 1 or width < 1:
            raise ValueError(f"FourierFilter: channels and size must be >= 1, got {channels}, {tuple(size)}")
        self.size = (int(height), int(width))
        weight = torch.zeros(channels, height, width // 2 + 1, 2)
        weight[..., 0] = 1.0  # 1 + 0j everywhere: the filter starts as the identity
        self.weight = nn.Parameter(weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, C, H, W) with (H, W) = `size`. Returns (B, C, H, W) in x's dtype."""
        if tuple(x.shape[1:]) != (self.weight.shape[0], *self.size):
            expected = (self.weight.shape[0], *self.size)
            raise ValueError(f"FourierFilter built for (B, {expected}) inputs; got shape {tuple(x.shape)}")
        with _no_autocast(x.device.type):
            spectrum = torch.fft.rfft2(x.float(), norm="ortho")  # (B, C, H, W // 2 + 1) complex64
            spectrum = spectrum * torch.view_as_complex(self.weight.float())  # per channel and frequency
            y = torch.fft.irfft2(spectrum, s=self.size, norm="ortho")  # (B, C, H, W) float32
        return y.to(x.dtype)


def _no_autocast(device_type: str) -> contextlib.AbstractContextManager:
    """Autocast switched off on `device_type`; a no-op where autocast does not exist (e.g. the meta device)."""
    if torch.amp.is_autocast_available(device_type):
        return torch.autocast(device_type=device_type, enabled=False)
    return contextlib.nullcontext()
