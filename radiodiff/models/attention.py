"""Attention layers of the latent UNet (FACTS §2).

- `WindowCrossAttention`: the latent (queries) attends to the condition features (keys and values) of the same
  resolution inside non-overlapping windows, so the cost grows linearly with the map area. A learned relative
  position bias per head (Swin, Liu et al. 2021, eq. 4) tells each query where a key lies in the window: without
  it attention is blind to positions inside a window and the condition's layout is lost below the window size.
- `SelfAttention`: global multi-head self-attention for the coarse middle block.

Both are pre-norm residual layers, x + proj(attention(norm(x), ...)), built on
torch.nn.functional.scaled_dot_product_attention (fused kernels on GPU).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from radiodiff.models.blocks import group_norm

__all__ = ["SelfAttention", "WindowCrossAttention", "relative_position_index"]


def _check_heads(channels: int, heads: int) -> None:
    if heads < 1 or channels % heads != 0:
        raise ValueError(f"attention: channels {channels} must be a multiple of the number of heads {heads}")


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, mask: torch.Tensor | None) -> torch.Tensor:
    """Multi-head scaled dot-product attention over the token axis.

    Args:
        q: (..., N_q, C) queries; k, v: (..., N_k, C).
        heads: number of heads; each works on C / heads channels.
        mask: broadcastable to the scores (..., heads, N_q, N_k): bool, True where a key takes part, or float,
            added to the scores; or None.
    Returns:
        (..., N_q, C).
    """

    def split(t: torch.Tensor) -> torch.Tensor:  # (..., N, C) -> (..., heads, N, C / heads)
        return t.unflatten(-1, (heads, t.shape[-1] // heads)).transpose(-3, -2)

    out = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=mask)  # (..., heads, N_q, d)
    return out.transpose(-3, -2).flatten(-2)  # (..., N_q, C)


def _to_windows(x: torch.Tensor, window: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) -> (B, n_windows, wh * ww, C), zero-padding H and W up to multiples of the window."""
    wh, ww = window
    b, c, h, w = x.shape
    x = F.pad(x, (0, -w % ww, 0, -h % wh))  # (B, C, Hp, Wp): pad right and bottom
    nh, nw = x.shape[2] // wh, x.shape[3] // ww
    x = x.reshape(b, c, nh, wh, nw, ww).permute(0, 2, 4, 3, 5, 1)  # (B, nh, nw, wh, ww, C)
    return x.reshape(b, nh * nw, wh * ww, c)


def _from_windows(t: torch.Tensor, window: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """Inverse of `_to_windows`: (B, n_windows, wh * ww, C) -> (B, C, H, W), cropping the padding."""
    wh, ww = window
    h, w = size
    nh, nw = math.ceil(h / wh), math.ceil(w / ww)
    b, c = t.shape[0], t.shape[-1]
    x = t.reshape(b, nh, nw, wh, ww, c).permute(0, 5, 1, 3, 2, 4)  # (B, C, nh, wh, nw, ww)
    return x.reshape(b, c, nh * wh, nw * ww)[:, :, :h, :w]


def _key_mask(size: tuple[int, int], window: tuple[int, int], device: torch.device) -> torch.Tensor | None:
    """Bool (n_windows, 1, 1, wh * ww): True for real tokens, False for padding; None when nothing is padded."""
    h, w = size
    if h % window[0] == 0 and w % window[1] == 0:
        return None
    valid = torch.ones(1, 1, h, w, device=device)
    mask = _to_windows(valid, window)[0, :, :, 0] > 0  # (n_windows, wh * ww)
    return mask[:, None, None, :]


@functools.lru_cache(maxsize=32)
def relative_position_index(window: tuple[int, int], max_window: int) -> torch.Tensor:
    """(wh * ww, wh * ww) indices into a ((2 M - 1)^2)-row bias table, M = `max_window`, for every query-key pair.

    The pair (query at (y1, x1), key at (y2, x2)) reads row (y1 - y2 + M - 1) * (2 M - 1) + (x1 - x2 + M - 1), so
    a window smaller than M (a small map at inference) reuses the rows of its offsets. Cached per window (every
    attention layer asks on every call); the returned CPU tensor is shared, never modify it.
    """
    ys, xs = torch.meshgrid(torch.arange(window[0]), torch.arange(window[1]), indexing="ij")
    coords = torch.stack([ys.flatten(), xs.flatten()])  # (2, N)
    offsets = coords[:, :, None] - coords[:, None, :] + (max_window - 1)  # (2, N, N), each in [0, 2 M - 2]
    return offsets[0] * (2 * max_window - 1) + offsets[1]


class WindowCrossAttention(nn.Module):
    """Window cross-attention from a latent feature map to condition features of the same shape.

    Both maps are cut into the same non-overlapping windows of `window_size` x `window_size` tokens; each
    latent token attends to the condition tokens of its window. A side shorter than the window uses one
    window along that side; a side that is not a multiple of the window is zero-padded and the padded keys
    are masked out. Output: x + proj(attention(GN(x) -> q, GN(cond) -> k, v; + relative position bias)).

    Args:
        channels: channels C of both the latent features and the condition features.
        heads: attention heads (C must be a multiple).
        window_size: window side in tokens.
    """

    def __init__(self, channels: int, heads: int, window_size: int) -> None:
        super().__init__()
        _check_heads(channels, heads)
        if window_size < 1:
            raise ValueError(f"WindowCrossAttention: window_size must be >= 1, got {window_size}")
        self.heads = heads
        self.window_size = window_size
        self.norm_x = group_norm(channels)
        self.norm_cond = group_norm(channels)
        self.to_q = nn.Linear(channels, channels)
        self.to_kv = nn.Linear(channels, 2 * channels)
        self.proj = nn.Linear(channels, channels)
        self.position_bias = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, heads))  # Swin's B-hat table
        nn.init.trunc_normal_(self.position_bias, std=0.02)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Args: x (B, C, H, W) latent features; cond (B, C, H, W) condition features. Returns (B, C, H, W)."""
        if x.shape != cond.shape:
            raise ValueError(f"WindowCrossAttention: x {tuple(x.shape)} and cond {tuple(cond.shape)} differ")
        size = (x.shape[2], x.shape[3])
        window = (min(self.window_size, size[0]), min(self.window_size, size[1]))
        q = self.to_q(_to_windows(self.norm_x(x), window))  # (B, nW, N, C)
        k, v = self.to_kv(_to_windows(self.norm_cond(cond), window)).chunk(2, dim=-1)  # 2 x (B, nW, N, C)
        out = _attend(q, k, v, self.heads, self._scores_bias(size, window, x))  # (B, nW, N, C)
        return x + _from_windows(self.proj(out), window, size)  # (B, C, H, W)

    def _scores_bias(self, size: tuple[int, int], window: tuple[int, int], x: torch.Tensor) -> torch.Tensor:
        """Float (n_windows or 1, heads, N, N): the relative position bias, -inf on padded keys."""
        index = relative_position_index(window, self.window_size).to(x.device)  # (N, N)
        bias = self.position_bias[index].permute(2, 0, 1).to(x.dtype)  # (heads, N, N)
        valid = _key_mask(size, window, x.device)  # (nW, 1, 1, N) or None
        if valid is None:
            return bias[None]
        return torch.where(valid, bias[None], float("-inf"))


class SelfAttention(nn.Module):
    """Global multi-head self-attention over all H * W tokens: x + proj(attention(GN(x))).

    Args:
        channels: channels C.
        heads: attention heads (C must be a multiple).
    """

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        _check_heads(channels, heads)
        self.heads = heads
        self.norm = group_norm(channels)
        self.to_qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x (B, C, H, W). Returns (B, C, H, W)."""
        b, c, h, w = x.shape
        tokens = self.norm(x).flatten(2).transpose(1, 2)  # (B, H * W, C)
        q, k, v = self.to_qkv(tokens).chunk(3, dim=-1)  # 3 x (B, H * W, C)
        out = self.proj(_attend(q, k, v, self.heads, None))  # (B, H * W, C)
        return x + out.transpose(1, 2).reshape(b, c, h, w)
