"""VideoVAEPlus: the two-stage (spatial 2+1D, then temporal 1D-CNN) video autoencoder.

Latent [B, zc, T/4, H/8, W/8]; no scaling factor. Inference uses the posterior mode.
Attribute names match the official state dict (encoder, decoder, quant_conv,
post_quant_conv, encoder_temporal, decoder_temporal).
"""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from .config import TEMPORAL_COMPRESSION, VideoVAEConfig
from .spatial import Decoder2plus1D, Encoder2plus1D
from .stages import SpatialDecoderStage, SpatialEncoderStage, TemporalDecoderStage, TemporalEncoderStage
from .temporal import DecoderTemporal1DCNN, EncoderTemporal1DCNN


class DiagonalGaussian:
    """Posterior N(mean, exp(logvar)); logvar already clamped to [-30, 20] by the stages."""

    def __init__(self, mean: Tensor, logvar: Tensor):
        self.mean = mean
        self.logvar = logvar
        self.std = torch.exp(0.5 * logvar)
        self.var = torch.exp(logvar)

    def mode(self) -> Tensor:
        return self.mean

    def sample(self, noise: Optional[Tensor] = None) -> Tensor:
        # Like the reference: noise from the global CPU generator, then moved to the device.
        if noise is None:
            noise = torch.randn(self.mean.shape).to(self.mean.device, self.mean.dtype)
        return self.mean + self.std * noise

    def kl(self) -> Tensor:
        dims = list(range(1, self.mean.dim()))
        return 0.5 * torch.sum(self.mean.pow(2) + self.var - 1.0 - self.logvar, dim=dims)


STAGE_NAMES = ("spatial_encoder", "temporal_encoder", "temporal_decoder", "spatial_decoder")


class VideoVAEPlus(nn.Module):
    def __init__(self, config: VideoVAEConfig):
        super().__init__()
        self.config = config
        zc, cap, dim = config.z_channels, config.caption, config.text_dim
        # Registration order follows the official state dict.
        self.encoder = Encoder2plus1D(config.ch, config.ch_mult, config.num_res_blocks, zc, cap, dim)
        self.decoder = Decoder2plus1D(config.ch, config.ch_mult, config.num_res_blocks, zc, cap, dim)
        if config.use_quant_conv:
            self.quant_conv = nn.Conv3d(2 * zc, 2 * config.embed_dim, kernel_size=1)
            self.post_quant_conv = nn.Conv3d(config.embed_dim, zc, kernel_size=1)
        else:
            self.quant_conv = nn.Identity()
            self.post_quant_conv = nn.Identity()
        self.encoder_temporal = EncoderTemporal1DCNN(zc, config.hidden_channel, cap, dim)
        self.decoder_temporal = DecoderTemporal1DCNN(zc, config.hidden_channel, cap, dim)
        if config.norm_group_channels:
            # Group counts hold no weights: set them after construction instead of threading the
            # config through every block.
            for m in self.modules():
                if isinstance(m, nn.GroupNorm):
                    m.num_groups = config.norm_groups(m.num_channels)

    # -- stages (what a bundle contains) ------------------------------------------------

    def stages(self) -> Dict[str, nn.Module]:
        """Fresh wrappers sharing this model's submodules, in pipeline order."""
        c = self.config
        return {
            "spatial_encoder": SpatialEncoderStage(self.encoder, self.quant_conv, c.z_channels, c.caption,
                                                   c.text_dim, c.spatial_compression),
            "temporal_encoder": TemporalEncoderStage(self.encoder_temporal, c.z_channels, c.caption, c.text_dim,
                                                     TEMPORAL_COMPRESSION),
            "temporal_decoder": TemporalDecoderStage(self.decoder_temporal, c.z_channels, c.caption, c.text_dim),
            "spatial_decoder": SpatialDecoderStage(self.decoder, self.post_quant_conv, c.z_channels, c.caption,
                                                   c.text_dim),
        }

    def set_attention(self, mode: str, chunk_elements: int = 1 << 26) -> None:
        """'exact' (reference bmm + softmax) or 'chunked' (query-chunked mid-block attention)."""
        if mode not in ("exact", "chunked"):
            raise ValueError("attention must be 'exact' or 'chunked', got %r" % (mode,))
        for attn in (self.encoder.mid.attn_1, self.decoder.mid.attn_1):
            attn.query_chunk_elements = chunk_elements if mode == "chunked" else 0

    # -- the official API, mode path by default ----------------------------------------

    def encode_spatial(self, x: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None,
                       mask_temporal: bool = False) -> DiagonalGaussian:
        mean, logvar = self.stages()["spatial_encoder"](x, text_emb, text_mask, mask_temporal)
        return DiagonalGaussian(mean, logvar)

    def encode_temporal(self, z: Tensor, text_emb: Optional[Tensor] = None,
                        text_mask: Optional[Tensor] = None) -> DiagonalGaussian:
        mean, logvar = self.stages()["temporal_encoder"](z, text_emb, text_mask)
        return DiagonalGaussian(mean, logvar)

    def encode(self, x: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None,
               sample_posterior: bool = False, mask_temporal: bool = False) -> Tuple[Tensor, DiagonalGaussian]:
        """Returns (latent, posterior). With mask_temporal the temporal AE is skipped (image path).

        When sampling, the spatial noise is drawn before the temporal noise, as in the reference.
        """
        posterior = self.encode_spatial(x, text_emb, text_mask, mask_temporal)
        z = posterior.sample() if sample_posterior else posterior.mode()
        if mask_temporal:
            return z, posterior
        posterior = self.encode_temporal(z, text_emb, text_mask)
        z = posterior.sample() if sample_posterior else posterior.mode()
        return z, posterior

    def decode_temporal(self, z: Tensor, text_emb: Optional[Tensor] = None,
                        text_mask: Optional[Tensor] = None) -> Tensor:
        return self.stages()["temporal_decoder"](z, text_emb, text_mask)

    def decode(self, z: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None,
               mask_temporal: bool = False) -> Tensor:
        if not mask_temporal:
            z = self.decode_temporal(z, text_emb, text_mask)
        return self.stages()["spatial_decoder"](z, text_emb, text_mask, mask_temporal)

    def forward(self, x: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None,
                sample_posterior: bool = False,
                mask_temporal: bool = False) -> Tuple[Tensor, DiagonalGaussian]:
        # Note: the reference forward() samples by default; ours defaults to the mode (inference).
        z, posterior = self.encode(x, text_emb, text_mask, sample_posterior, mask_temporal)
        return self.decode(z, text_emb, text_mask, mask_temporal), posterior
