"""The temporal ("1D-CNN") autoencoder: x4 compression of T with 3x3x3 convs.

Unlike the spatial AE these convs pad by replication in all three dims. Text models add a
cross-attention (patch 1) after every res block, applied as h = xa(h) + h.
"""
from typing import List, Optional

import torch.nn.functional as F
from torch import Tensor, nn

from .attention import CrossAttention
from .layers import Swish, group_norm, swish


class SamePadConv3d(nn.Module):
    """Replicate-padded 3x3x3 conv; the padding k - s is split ceil before / floor after.

    Stride 1 pads (1,1) everywhere; stride (2,1,1) pads T by (1,0), so T -> floor(T/2).
    """

    def __init__(self, cin: int, cout: int, temporal_stride: int = 1):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, kernel_size=3, stride=(temporal_stride, 1, 1), padding=0)
        t_total = 3 - temporal_stride
        # F.pad order: W (left, right), H (top, bottom), T (front, back).
        self.pad = [1, 1, 1, 1, t_total - t_total // 2, t_total // 2]

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.pad(x, self.pad, mode="replicate"))


class TemporalResBlock(nn.Module):
    """x + conv2(swish(norm2(conv1(swish(norm1(x)))))); constant width, no shortcut conv."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm1 = group_norm(channels)
        self.conv1 = SamePadConv3d(channels, channels)
        self.norm2 = group_norm(channels)
        self.conv2 = SamePadConv3d(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(swish(self.norm2(h)))
        return x + h


def _cross_attention_list(channels: int, caption: bool, context_dim: int) -> nn.ModuleList:
    # A one-element list keeps the official key names (attn.0, attn1.0, ...); empty without text.
    return nn.ModuleList([CrossAttention(channels, 1, context_dim)] if caption else [])


class TemporalDownBlock(nn.Module):
    """encoder_temporal.mid_blocks.{i}: stride-(2,1,1) conv, res block, optional cross-attention."""

    def __init__(self, cin: int, cout: int, caption: bool, context_dim: int):
        super().__init__()
        self.down = SamePadConv3d(cin, cout, temporal_stride=2)
        self.res = TemporalResBlock(cout)
        self.attn = _cross_attention_list(cout, caption, context_dim)

    def forward(self, h: Tensor, context: Optional[Tensor], mask: Optional[Tensor]) -> Tensor:
        h = self.res(self.down(h))
        for xattn in self.attn:
            assert context is not None, "text-conditioned model called without text_emb"
            h = xattn(h, context, mask) + h
        return h


class TemporalUpBlock(nn.Module):
    """decoder_temporal.mid_blocks.{i}: x2 transposed conv in T, then two res blocks (+ cross-attention)."""

    def __init__(self, cin: int, cout: int, caption: bool, context_dim: int):
        super().__init__()
        self.up = nn.ConvTranspose3d(cin, cout, kernel_size=3, stride=(2, 1, 1), padding=(1, 1, 1),
                                     output_padding=(1, 0, 0))
        self.res1 = TemporalResBlock(cout)
        self.attn1 = _cross_attention_list(cout, caption, context_dim)
        self.res2 = TemporalResBlock(cout)
        self.attn2 = _cross_attention_list(cout, caption, context_dim)

    def forward(self, h: Tensor, context: Optional[Tensor], mask: Optional[Tensor]) -> Tensor:
        h = self.res1(self.up(h))
        for xattn in self.attn1:
            assert context is not None, "text-conditioned model called without text_emb"
            h = xattn(h, context, mask) + h
        h = self.res2(h)
        for xattn in self.attn2:
            assert context is not None, "text-conditioned model called without text_emb"
            h = xattn(h, context, mask) + h
        return h


class EncoderTemporal1DCNN(nn.Module):
    """[B, zc, T, h, w] -> moments [B, 2*zc, T/4, h, w]; widths hidden, 2*hidden, 4*hidden."""

    def __init__(self, z_channels: int, hidden_channel: int, caption: bool, context_dim: int = 1024):
        super().__init__()
        widths = [hidden_channel, 2 * hidden_channel, 4 * hidden_channel]
        self.conv_in = SamePadConv3d(z_channels, widths[0])
        blocks: List[nn.Module] = [TemporalDownBlock(widths[i], widths[i + 1], caption, context_dim) for i in range(2)]
        self.mid_blocks = nn.ModuleList(blocks)
        self.final_block = nn.Sequential(group_norm(widths[-1]), Swish(), SamePadConv3d(widths[-1], 2 * z_channels))

    def forward(self, z: Tensor, context: Optional[Tensor], mask: Optional[Tensor]) -> Tensor:
        h = self.conv_in(z)
        for block in self.mid_blocks:
            h = block(h, context, mask)
        return self.final_block(h)


class DecoderTemporal1DCNN(nn.Module):
    """[B, zc, T', h, w] -> [B, zc, 4T', h, w]; widths 4*hidden, 4*hidden, 2*hidden."""

    def __init__(self, z_channels: int, hidden_channel: int, caption: bool, context_dim: int = 1024):
        super().__init__()
        widths = [4 * hidden_channel, 4 * hidden_channel, 2 * hidden_channel]
        self.conv_in = SamePadConv3d(z_channels, widths[0])
        blocks: List[nn.Module] = [TemporalUpBlock(widths[i], widths[i + 1], caption, context_dim) for i in range(2)]
        self.mid_blocks = nn.ModuleList(blocks)
        self.conv_last = SamePadConv3d(widths[-1], z_channels)

    def forward(self, z: Tensor, context: Optional[Tensor], mask: Optional[Tensor]) -> Tensor:
        h = self.conv_in(z)
        for block in self.mid_blocks:
            h = block(h, context, mask)
        return self.conv_last(h)
