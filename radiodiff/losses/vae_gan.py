"""Two-phase VAE-GAN loss of the first stage (FACTS §2; Esser et al. 2021, Taming Transformers, Sec. 3.1).

Phase "vae" (step < disc_start): L1 + L2 reconstruction + weighted KL; the discriminator is not evaluated.
Phase "vae_gan" (step >= disc_start): adds the hinge generator loss with the adaptive weight of Taming eq. 7,
and the discriminator is trained with the hinge loss.

The trainer alternates two updates per step:
    loss, logs = vae_gan.generator_loss(x, rec, posterior, step, vae.last_layer)  # autoencoder optimiser
    loss_d, logs_d = vae_gan.discriminator_loss(x, rec, step)  # discriminator optimiser, phase vae_gan only
Backpropagating the generator loss also writes gradients into the discriminator's parameters (the path
through D(reconstruction)); zero them before the discriminator's backward, as with any two-optimiser GAN.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from radiodiff.config import VAELossConfig
from radiodiff.distributed import mean_over_processes
from radiodiff.models.discriminator import NLayerDiscriminator
from radiodiff.models.vae import DiagonalGaussian

__all__ = ["DISCRIMINATOR_LOG_KEYS", "GENERATOR_LOG_KEYS", "Phase", "VAEGANLoss"]

Phase = Literal["vae", "vae_gan"]

GENERATOR_LOG_KEYS = ("loss", "loss_rec", "loss_kl", "loss_g", "d_weight")
DISCRIMINATOR_LOG_KEYS = ("loss_d", "logits_real", "logits_fake")
GRAD_NORM_EPS = 1e-4  # Taming eq. 7: |grad rec| / (|grad gan| + delta), delta = 1e-4


class VAEGANLoss(nn.Module):
    """Reconstruction + KL (+ adaptive hinge GAN term) for the autoencoder, hinge loss for the discriminator.

    Args:
        config: weights, the phase switch `disc_start` and the discriminator's shape.
        in_channels: channels of the maps (the discriminator's input).
    """

    def __init__(self, config: VAELossConfig, in_channels: int) -> None:
        super().__init__()
        self.config = config
        self.discriminator = NLayerDiscriminator(config, in_channels)

    def phase(self, step: int) -> Phase:
        """The training phase at `step`: "vae" before `disc_start`, "vae_gan" from it on."""
        return "vae_gan" if step >= self.config.disc_start else "vae"

    def generator_loss(
        self,
        inputs: torch.Tensor,
        reconstruction: torch.Tensor,
        posterior: DiagonalGaussian,
        step: int,
        last_layer: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss of the autoencoder: rec + KL (+ d_weight * GAN term from `disc_start` on).

        Args:
            inputs: real maps (B, C, H, W).
            reconstruction: the autoencoder's output (B, C, H, W), attached to the graph.
            posterior: the encoder's posterior over (B, embed_dim, h, w).
            step: the optimisation step (selects the phase).
            last_layer: the decoder's final weight (AutoencoderKL.last_layer), for the adaptive weight.
        Returns:
            (scalar loss, logs) with logs `loss`, `loss_rec`, `loss_kl` (weighted, so that
            loss = loss_rec + loss_kl + d_weight * loss_g), `loss_g` (0 before disc_start) and `d_weight`,
            all detached 0-dim float tensors.
        """
        cfg = self.config
        # Reconstruction: L1 + L2 (FACTS §2; RadioDiff's first-stage loss without LPIPS), means over pixels.
        diff = inputs - reconstruction
        rec_loss = cfg.l1_weight * diff.abs().mean() + cfg.l2_weight * diff.pow(2).mean()
        # KL to N(0, I), summed per sample and averaged over the batch (LDM Sec. 3.1, weight 1e-6).
        kl_loss = cfg.kl_weight * posterior.kl().mean()
        zero = rec_loss.new_zeros(())
        g_loss, d_weight = zero, zero
        if self.phase(step) == "vae_gan":
            # Hinge generator loss -E[D(G(z))] (Lim & Ye 2017; Taming Sec. 3.1); disc_factor is 1 from
            # disc_start on (Taming's adopt_weight), so it does not appear.
            g_loss = -self.discriminator(reconstruction).mean()
            d_weight = self.adaptive_weight(rec_loss, g_loss, last_layer)
        loss = rec_loss + kl_loss + d_weight * g_loss
        values = (loss, rec_loss, kl_loss, g_loss, d_weight)
        return loss, {key: v.detach().float() for key, v in zip(GENERATOR_LOG_KEYS, values, strict=True)}

    def adaptive_weight(self, rec_loss: torch.Tensor, g_loss: torch.Tensor, last_layer: torch.Tensor) -> torch.Tensor:
        """Taming eq. 7: lambda = |grad_L rec| / (|grad_L gan| + 1e-4), L = the decoder's last layer.

        Clamped to [0, d_weight_max], detached, times `disc_weight` (FACTS §2). It balances the two
        gradients where they meet the decoder's output, whatever the scale of each loss.

        Args:
            rec_loss: scalar reconstruction loss, attached to the graph.
            g_loss: scalar generator GAN loss, attached to the graph.
            last_layer: the parameter both gradients are taken against.
        Returns:
            A detached 0-dim tensor; 0 when autograd cannot differentiate (see below).
        """
        # Under torch.no_grad / inference_mode (validation) or with a frozen last layer there is no graph
        # to differentiate: autograd.grad would raise. The GAN term is then irrelevant to any update, so
        # it is left out (weight 0) rather than failing the evaluation.
        differentiable = torch.is_grad_enabled() and last_layer.requires_grad
        if not (differentiable and rec_loss.requires_grad and g_loss.requires_grad):
            return rec_loss.new_zeros(()).detach()
        # retain_graph: the trainer backpropagates the total loss through the same graph afterwards.
        (rec_grad,) = torch.autograd.grad(rec_loss, last_layer, retain_graph=True)
        (g_grad,) = torch.autograd.grad(g_loss, last_layer, retain_graph=True)
        # Under N data-parallel processes: the gradients of the global batch's losses (equal shares).
        rec_grad, g_grad = mean_over_processes(rec_grad), mean_over_processes(g_grad)
        weight = rec_grad.norm() / (g_grad.norm() + GRAD_NORM_EPS)
        weight = weight.clamp(0.0, self.config.d_weight_max).detach()
        return weight * self.config.disc_weight

    def discriminator_loss(
        self, inputs: torch.Tensor, reconstruction: torch.Tensor, step: int, discriminator: nn.Module | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Hinge loss of the discriminator (Lim & Ye 2017; Taming Sec. 3.1), from `disc_start` on.

        loss_d = 0.5 * (mean(relu(1 - D(x))) + mean(relu(1 + D(x_rec))))

        Args:
            inputs: real maps (B, C, H, W).
            reconstruction: the autoencoder's output (B, C, H, W); detached here, so the autoencoder
                gets no gradient from this loss.
            step: the optimisation step; before `disc_start` nothing is evaluated.
            discriminator: the module to run, e.g. the trainer's data-parallel wrapper of `self.discriminator`
                (its backward all-reduces the gradients); None runs `self.discriminator`.
        Returns:
            (scalar loss, logs `loss_d`, `logits_real`, `logits_fake` (mean logits), detached floats).
            Before `disc_start` the loss is a constant 0 that needs no backward (check `phase(step)`).
        """
        if self.phase(step) == "vae":
            logs = {key: inputs.new_zeros((), dtype=torch.float32) for key in DISCRIMINATOR_LOG_KEYS}
            return logs["loss_d"].clone(), logs
        # One call on real and fake together (2B, C, H, W): a single forward per backward suits DDP, and
        # GroupNorm is per sample, so batching them together changes no logit.
        both = torch.cat([inputs.detach(), reconstruction.detach()])
        logits_real, logits_fake = (discriminator or self.discriminator)(both).chunk(2)  # 2x (B, 1, H', W')
        loss = 0.5 * (F.relu(1.0 - logits_real).mean() + F.relu(1.0 + logits_fake).mean())
        values = (loss, logits_real.mean(), logits_fake.mean())
        return loss, {key: v.detach().float() for key, v in zip(DISCRIMINATOR_LOG_KEYS, values, strict=True)}
