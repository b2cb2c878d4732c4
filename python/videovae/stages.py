"""The four scriptable stages that make up a bundle, with their input checks.

Each stage wraps (shares, does not copy) submodules of a VideoVAEPlus. The eager model runs
through these same wrappers, so eager and TorchScript execute identical code. Checks raise
RuntimeError with a message naming the stage; TorchScript keeps the message.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor, nn


def split_moments(moments: Tensor) -> Tuple[Tensor, Tensor]:
    """Diagonal-Gaussian parameters: first half of the channels is the mean, second the logvar."""
    mean, logvar = torch.chunk(moments, 2, dim=1)
    logvar = torch.clamp(logvar, -30.0, 20.0)
    return mean.contiguous(), logvar.contiguous()


def check_text(stage: str, caption: bool, text_dim: int, text_emb: Optional[Tensor],
               text_mask: Optional[Tensor], batch: int) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Validates the text inputs of a text model; non-text models ignore (drop) them."""
    if not caption:
        return None, None
    if text_emb is None:
        raise RuntimeError(stage + ": this is a text-conditioned model and text_emb [B, L, " + str(text_dim)
                           + "] is required (for no caption, pass the T5 embedding of the empty caption \"\")")
    if text_emb.dim() != 3 or text_emb.size(2) != text_dim:
        raise RuntimeError(stage + ": text_emb must be [B, L, " + str(text_dim) + "], got "
                           + str(text_emb.shape))
    if text_emb.size(0) != batch:
        raise RuntimeError(stage + ": text_emb batch " + str(text_emb.size(0)) + " does not match input batch "
                           + str(batch))
    if text_mask is not None:
        if text_mask.dim() != 2 or text_mask.size(0) != batch or text_mask.size(1) != text_emb.size(1):
            raise RuntimeError(stage + ": text_mask must be [B, L] = [" + str(batch) + ", "
                               + str(text_emb.size(1)) + "], got " + str(text_mask.shape))
    return text_emb, text_mask


def check_latent(stage: str, z: Tensor, channels: int):
    if z.dim() != 5 or z.size(1) != channels:
        raise RuntimeError(stage + ": expected a latent [B, " + str(channels) + ", T, h, w], got "
                           + str(z.shape))


class SpatialEncoderStage(nn.Module):
    """x [B,3,T,H,W] -> (mean, logvar) [B,zc,T,H/8,W/8]; image=True is the mask_temporal path."""

    def __init__(self, encoder: nn.Module, quant_conv: nn.Module, z_channels: int, caption: bool,
                 text_dim: int, spatial_compression: int):
        super().__init__()
        self.encoder = encoder
        self.quant_conv = quant_conv
        self.z_channels = z_channels
        self.caption = caption
        self.text_dim = text_dim
        self.spatial_compression = spatial_compression

    def forward(self, x: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None,
                image: bool = False) -> Tuple[Tensor, Tensor]:
        if x.dim() != 5 or x.size(1) != 3:
            raise RuntimeError("spatial_encoder: expected a video [B, 3, T, H, W], got " + str(x.shape))
        if x.size(2) < 1:
            raise RuntimeError("spatial_encoder: the video has no frames (T=0)")
        f = self.spatial_compression
        if x.size(3) % f != 0 or x.size(4) % f != 0 or x.size(3) == 0 or x.size(4) == 0:
            raise RuntimeError("spatial_encoder: H and W must be positive multiples of " + str(f) + ", got "
                               + str(x.size(3)) + "x" + str(x.size(4)))
        context, mask = check_text("spatial_encoder", self.caption, self.text_dim, text_emb, text_mask, x.size(0))
        return split_moments(self.quant_conv(self.encoder(x, context, mask, image)))


class TemporalEncoderStage(nn.Module):
    """z [B,zc,T,h,w] -> (mean, logvar) [B,zc,T/4,h,w]; T must be a multiple of 4."""

    def __init__(self, encoder_temporal: nn.Module, z_channels: int, caption: bool, text_dim: int,
                 temporal_compression: int):
        super().__init__()
        self.encoder_temporal = encoder_temporal
        self.z_channels = z_channels
        self.caption = caption
        self.text_dim = text_dim
        self.temporal_compression = temporal_compression

    def forward(self, z: Tensor, text_emb: Optional[Tensor] = None,
                text_mask: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        check_latent("temporal_encoder", z, self.z_channels)
        f = self.temporal_compression
        if z.size(2) < f or z.size(2) % f != 0:
            raise RuntimeError("temporal_encoder: T must be a multiple of " + str(f) + " and at least " + str(f)
                               + ", got T=" + str(z.size(2)))
        context, mask = check_text("temporal_encoder", self.caption, self.text_dim, text_emb, text_mask, z.size(0))
        return split_moments(self.encoder_temporal(z, context, mask))


class TemporalDecoderStage(nn.Module):
    """latent [B,zc,T',h,w] -> [B,zc,4T',h,w], before post_quant_conv."""

    def __init__(self, decoder_temporal: nn.Module, z_channels: int, caption: bool, text_dim: int):
        super().__init__()
        self.decoder_temporal = decoder_temporal
        self.z_channels = z_channels
        self.caption = caption
        self.text_dim = text_dim

    def forward(self, z: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None) -> Tensor:
        check_latent("temporal_decoder", z, self.z_channels)
        if z.size(2) < 1:
            raise RuntimeError("temporal_decoder: the latent has no frames")
        context, mask = check_text("temporal_decoder", self.caption, self.text_dim, text_emb, text_mask, z.size(0))
        return self.decoder_temporal(z, context, mask)


class SpatialDecoderStage(nn.Module):
    """z [B,zc,T,h,w] -> video [B,3,T,8h,8w]: post_quant_conv (4z), then the spatial decoder."""

    def __init__(self, decoder: nn.Module, post_quant_conv: nn.Module, z_channels: int, caption: bool,
                 text_dim: int):
        super().__init__()
        self.decoder = decoder
        self.post_quant_conv = post_quant_conv
        self.z_channels = z_channels
        self.caption = caption
        self.text_dim = text_dim

    def forward(self, z: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None,
                image: bool = False) -> Tensor:
        check_latent("spatial_decoder", z, self.z_channels)
        context, mask = check_text("spatial_decoder", self.caption, self.text_dim, text_emb, text_mask, z.size(0))
        return self.decoder(self.post_quant_conv(z), context, mask, image)
