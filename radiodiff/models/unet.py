"""The conditional latent UNet of RadioDiff with two decoupled output branches (FACTS §2; arXiv:2408.08593).

    x_t (B, C_lat, h, w), t_input (B,), cond (B, cond_channels, H, W) with (h, w) = (H, W) / f, f = 4
    time:      TimeEmbedding(t_input)                                  -> temb (B, 4 * channels)
    condition: ConditionEncoder(cond)                                  -> one feature map per level
    encoder:   conv_in on [x_t, condition features of level 0]; per level `num_res_blocks` x ResAttnBlock
               (ResnetBlock(temb), aligned fusion of the level's condition features, window cross-attention to
               them), each output kept as a skip; Downsample between levels
    middle:    ResnetBlock, SelfAttention, ResnetBlock                 -> mid (B, C_mid, h / 2**(L-1), ...)
    branch k:  FourierFilter_k(mid); per level, coarsest first, `num_res_blocks` x ResAttnBlock on
               [h, encoder skip]; Upsample between levels; GN-SiLU-conv -> F_k (B, C_lat, h, w)

The condition enters where it is spatially aligned with the latent (the public code's `init_conv` on
[x_t, condition features] and the concatenation shortcut of its `RelationNet`) and through attention: at t = 1
x_t is pure noise, so these are the network's only view of the buildings and the transmitter.

The two branches share the encoder, the middle block and the condition features, and have their own filters,
decoders and output convs. The UNet only returns (F1, F2); mixing them with x_t by the SDE's coefficients
is the diffusion code's job. Both output convs start at zero (so F1 = F2 = 0 at init), the usual stabiliser
of diffusion networks (the zero_module of Dhariwal & Nichol 2021; DiT's zero-initialised final layer).

One skip per encoder block and as many decoder blocks per level as encoder blocks, as in the RadioDiff code
(the LDM UNet has one more decoder block per level, fed by skips from conv_in and the downsamplers): with the
paper config (channels 128, mult (1, 2, 4, 4), 2 blocks, Swin-B) this gives 236.6 M parameters, next to the
paper's ~225 M.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from radiodiff.config import LDMConfig
from radiodiff.models.attention import SelfAttention, WindowCrossAttention
from radiodiff.models.blocks import Downsample, ResnetBlock, Upsample, group_norm
from radiodiff.models.condition_encoder import LATENT_FACTOR, ConditionEncoder
from radiodiff.models.condition_memo import ConditionMemo
from radiodiff.models.fourier_filter import FourierFilter
from radiodiff.models.latent_condition import LatentCondition
from radiodiff.models.time_embedding import TimeEmbedding

__all__ = ["ConditionalUNet", "count_flops", "count_parameters"]

NUM_BRANCHES = 2


class ResAttnBlock(nn.Module):
    """A time-modulated ResnetBlock, then the condition features of the level, twice.

    h = ResnetBlock(x, temb); h = h + Conv1x1([h, cond]) (aligned fusion: each position sees the condition at
    the same place); h = WindowCrossAttention(h, cond) (each position looks around its window).

    Args:
        in_channels, out_channels: widths C_in -> C_out.
        config: the LDM config (heads, window size, dropout).
        temb_channels: width of the time embedding.
    """

    def __init__(self, in_channels: int, out_channels: int, config: LDMConfig, temb_channels: int) -> None:
        super().__init__()
        self.res = ResnetBlock(in_channels, out_channels, dropout=config.dropout, temb_channels=temb_channels)
        self.fuse = nn.Conv2d(2 * out_channels, out_channels, 1)
        self.attn = WindowCrossAttention(out_channels, config.attention_heads, config.window_size)

    def forward(self, x: torch.Tensor, temb: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Args: x (B, C_in, h, w); temb (B, T); cond (B, C_out, h, w). Returns (B, C_out, h, w)."""
        h = self.res(x, temb)  # (B, C_out, h, w)
        h = h + self.fuse(torch.cat([h, cond], dim=1))  # (B, C_out, h, w)
        return self.attn(h, cond)


class UNetEncoder(nn.Module):
    """conv_in, the encoder levels and the middle block; keeps every block's output as a skip for the decoders.

    Args:
        config: the LDM config.
        latent_channels: C_lat of x_t.
        temb_channels: width of the time embedding.
    """

    def __init__(self, config: LDMConfig, latent_channels: int, temb_channels: int) -> None:
        super().__init__()
        widths = [config.channels * m for m in config.channel_mult]
        self.conv_in = nn.Conv2d(latent_channels + widths[0], config.channels, 3, padding=1)  # [x_t, cond level 0]
        self.levels = nn.ModuleList()
        self.downs = nn.ModuleList()
        c = config.channels
        for i, width in enumerate(widths):
            blocks = nn.ModuleList()
            for _ in range(config.num_res_blocks):
                blocks.append(ResAttnBlock(c, width, config, temb_channels))
                c = width
            self.levels.append(blocks)
            if i < len(widths) - 1:
                self.downs.append(Downsample(width))
        self.mid_res1 = ResnetBlock(c, c, dropout=config.dropout, temb_channels=temb_channels)
        self.mid_attn = SelfAttention(c, config.attention_heads)
        self.mid_res2 = ResnetBlock(c, c, dropout=config.dropout, temb_channels=temb_channels)

    def forward(
        self, x: torch.Tensor, temb: torch.Tensor, cond: list[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Args: x (B, C_lat, h, w); temb (B, T); cond: level i (B, widths[i], h / 2**i, w / 2**i).

        Returns:
            mid (B, widths[-1], h / 2**(L-1), w / 2**(L-1)) and the skips (one per block), finest first.
        """
        h = self.conv_in(torch.cat([x, cond[0]], dim=1))  # (B, channels, h, w)
        skips = []
        for i, blocks in enumerate(self.levels):
            for block in blocks:
                h = block(h, temb, cond[i])  # (B, widths[i], h / 2**i, w / 2**i)
                skips.append(h)
            if i < len(self.downs):
                h = self.downs[i](h)  # halves the resolution
        h = self.mid_res2(self.mid_attn(self.mid_res1(h, temb)), temb)  # (B, widths[-1], h_mid, w_mid)
        return h, skips


class UNetDecoder(nn.Module):
    """One decoupled branch: Fourier filter on the middle features, a full decoder and a zero-init output conv.

    Args:
        config: the LDM config.
        latent_channels: C_lat of the output.
        temb_channels: width of the time embedding.
        mid_size: (h_mid, w_mid) of the middle features (the Fourier filter is built for it).
    """

    def __init__(self, config: LDMConfig, latent_channels: int, temb_channels: int, mid_size: tuple[int, int]) -> None:
        super().__init__()
        widths = [config.channels * m for m in config.channel_mult]
        c = widths[-1]
        self.filter = FourierFilter(c, mid_size)
        self.levels = nn.ModuleList()  # coarsest first
        self.ups = nn.ModuleList()
        for i in reversed(range(len(widths))):
            blocks = nn.ModuleList()
            for _ in range(config.num_res_blocks):
                blocks.append(ResAttnBlock(c + widths[i], widths[i], config, temb_channels))  # [h, skip] -> w_i
                c = widths[i]
            self.levels.append(blocks)
            if i > 0:
                self.ups.append(Upsample(c))
        self.norm_out = group_norm(c)
        self.conv_out = nn.Conv2d(c, latent_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # F_k = 0 at init (see the module docstring)
        nn.init.zeros_(self.conv_out.bias)

    def forward(
        self, mid: torch.Tensor, skips: list[torch.Tensor], temb: torch.Tensor, cond: list[torch.Tensor]
    ) -> torch.Tensor:
        """Args: mid (B, C_mid, h_mid, w_mid); skips from `UNetEncoder`; temb (B, T); cond per level.

        Returns:
            (B, C_lat, h, w).
        """
        skips = list(skips)  # popped here; the other branch needs them too
        h = self.filter(mid)  # (B, C_mid, h_mid, w_mid)
        for depth, blocks in enumerate(self.levels):
            level = len(self.levels) - 1 - depth
            for block in blocks:
                h = block(torch.cat([h, skips.pop()], dim=1), temb, cond[level])  # (B, widths[level], ...)
            if depth < len(self.ups):
                h = self.ups[depth](h)  # doubles the resolution
        return self.conv_out(F.silu(self.norm_out(h)))  # (B, C_lat, h, w)


class ConditionalUNet(nn.Module):
    """RadioDiff's denoiser: (x_t, t_input, cond) -> (F1, F2), both shaped like x_t.

    Args:
        config: the LDM config (widths, levels, res blocks, attention, condition backbone).
        latent_channels: C_lat of the VAE latent.
        map_size: (H, W) of the radio map and the condition image; the latent is (H / f, W / f), f = 4, and
            must be divisible by 2**(levels - 1). The network is built for this size (Swin, Fourier filters).
        latent_factor: the VAE's downsampling factor f.
    """

    def __init__(
        self,
        config: LDMConfig,
        latent_channels: int,
        map_size: tuple[int, int],
        *,
        latent_factor: int = LATENT_FACTOR,
        latent_condition: LatentCondition | None = None,
    ) -> None:
        super().__init__()
        self.levels = len(config.channel_mult)
        coarsest = latent_factor * 2 ** (self.levels - 1)
        if any(side % coarsest for side in map_size):
            raise ValueError(
                f"ConditionalUNet: map size {tuple(map_size)} must be divisible by {coarsest}: the latent "
                f"(map / {latent_factor}) must be divisible by 2**(levels - 1) = {2 ** (self.levels - 1)}"
            )
        self.latent_channels = latent_channels
        self.cond_channels = config.cond_channels
        self.map_size = (int(map_size[0]), int(map_size[1]))
        self.latent_size = (self.map_size[0] // latent_factor, self.map_size[1] // latent_factor)
        mid_size = (self.latent_size[0] // 2 ** (self.levels - 1), self.latent_size[1] // 2 ** (self.levels - 1))
        temb_channels = 4 * config.channels
        widths = [config.channels * m for m in config.channel_mult]
        self.time_embed = TimeEmbedding(config.channels // 2, temb_channels)
        self.cond_encoder = ConditionEncoder(config, self.map_size, widths, latent_factor=latent_factor)
        self.latent_condition = latent_condition  # multi-condition LDM: frozen stages' latents join x_t
        extra = latent_condition.channels if latent_condition is not None else 0
        self.encoder = UNetEncoder(config, latent_channels + extra, temb_channels)
        self.decoders = nn.ModuleList(
            UNetDecoder(config, latent_channels, temb_channels, mid_size) for _ in range(NUM_BRANCHES)
        )
        self._condition_memo: ConditionMemo | None = None

    @contextlib.contextmanager
    def reusing_condition(self) -> Iterator[None]:
        """Inside, calls without autograd reuse the condition features of an equal condition (the sampler's N + 1
        calls share one): radiodiff/models/condition_memo.py. Exact; the features are dropped on exit."""
        outer, self._condition_memo = self._condition_memo, ConditionMemo()
        try:
            yield
        finally:
            self._condition_memo = outer

    def forward(
        self, x_t: torch.Tensor, t_input: torch.Tensor, cond: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Args:
            x_t: (B, C_lat, h, w) noisy latent, (h, w) = latent_size.
            t_input: (B,) time input (log(t) / 4 in RadioDiff).
            cond: (B, cond_channels, H, W) condition image, (H, W) = map_size.
        Returns:
            (F1, F2), each (B, C_lat, h, w).
        """
        self._check_inputs(x_t, t_input, cond)
        temb = self.time_embed(t_input)  # (B, 4 * channels)
        cond_feats, cond_latents = self._condition(cond)  # level i: (B, widths[i], h / 2**i, w / 2**i)
        if cond_latents is not None:  # [x_t, condition latents] (radiodiff/models/latent_condition.py)
            x_t = torch.cat([x_t, cond_latents], dim=1)
        mid, skips = self.encoder(x_t, temb, cond_feats)  # (B, widths[-1], h_mid, w_mid), skips
        f1, f2 = (decoder(mid, skips, temb, cond_feats) for decoder in self.decoders)
        return f1, f2

    def _condition(self, cond: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor | None]:
        """The condition encoder's features per level and the frozen stages' condition latents (or None)."""

        def encode(c: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor | None]:
            latents = self.latent_condition(c) if self.latent_condition is not None else None
            return self.cond_encoder(c), latents

        if self._condition_memo is None or torch.is_grad_enabled():
            return encode(cond)
        return self._condition_memo.features(cond, encode)

    def _check_inputs(self, x_t: torch.Tensor, t_input: torch.Tensor, cond: torch.Tensor) -> None:
        factor = 2 ** (self.levels - 1)
        if x_t.dim() != 4 or x_t.shape[2] % factor or x_t.shape[3] % factor:
            raise ValueError(
                f"ConditionalUNet: latent x_t of shape {tuple(x_t.shape)} must be (B, C, h, w) with h and w "
                f"divisible by 2**(levels - 1) = {factor}"
            )
        if tuple(x_t.shape[1:]) != (self.latent_channels, *self.latent_size):
            expected = (self.latent_channels, *self.latent_size)
            raise ValueError(f"ConditionalUNet built for latents (B, {expected}); got x_t {tuple(x_t.shape)}")
        b = x_t.shape[0]
        if tuple(cond.shape) != (b, self.cond_channels, *self.map_size):
            expected = (b, self.cond_channels, *self.map_size)
            raise ValueError(f"ConditionalUNet: cond must have shape {expected}; got {tuple(cond.shape)}")
        if tuple(t_input.shape) != (b,):
            raise ValueError(f"ConditionalUNet: t_input must have shape ({b},); got {tuple(t_input.shape)}")


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of `module` (works on the meta device)."""
    return sum(p.numel() for p in module.parameters())


def count_flops(model: ConditionalUNet, batch_size: int = 1) -> int:
    """FLOPs of one forward pass at the model's map size, counted by torch's FlopCounterMode.

    A multiply-add counts as 2 FLOPs (convolutions, linear layers, attention matmuls); normalisation,
    activations and FFTs are not counted. On a model built on the meta device this costs no compute. The pass
    runs in eval mode (BatchNorm statistics of a ResNet backbone stay untouched).

    Args:
        model: the UNet (on any device, including meta).
        batch_size: B of the dummy inputs.
    Returns:
        Total FLOPs of the forward pass.
    """
    device = next(model.parameters()).device
    x_t = torch.zeros(batch_size, model.latent_channels, *model.latent_size, device=device)
    t_input = torch.zeros(batch_size, device=device)
    cond = torch.zeros(batch_size, model.cond_channels, *model.map_size, device=device)
    counter = FlopCounterMode(display=False)
    was_training = model.training
    model.eval()
    try:
        with counter, torch.no_grad():
            model(x_t, t_input, cond)
    finally:
        model.train(was_training)
    return counter.get_total_flops()
