"""The spatial ("temporal-aware 2+1D") autoencoder: /8 in H and W, T unchanged.

Module names mirror the official state dict (encoder.down.{i}.block.{j}, ...). Cross-attention
layers exist only in the text models; for the others the `attn` lists are empty and add no
keys. TorchScript cannot index a ModuleList with a loop variable, so block j is paired with
attention j by a nested enumerate, and the decoder levels are called with literal indices.
"""
from typing import List, Optional, Sequence

from torch import Tensor, nn

from .attention import AttnBlock3D, CrossAttention, TemporalAttention
from .layers import Downsample2plus1D, ResnetBlock2plus1D, Upsample2plus1D, group_norm, spatial_conv, swish


class ResAttnStack(nn.Module):
    """Res blocks, each optionally followed by a residual cross-attention (h = h + xa(h))."""

    def __init__(self, cin: int, cout: int, num_blocks: int, patch_size: int, caption: bool, context_dim: int):
        super().__init__()
        self.block = nn.ModuleList([ResnetBlock2plus1D(cin if j == 0 else cout, cout) for j in range(num_blocks)])
        self.attn = nn.ModuleList(
            [CrossAttention(cout, patch_size, context_dim) for _ in range(num_blocks)] if caption else [])

    def run_blocks(self, h: Tensor, context: Optional[Tensor], mask: Optional[Tensor], image: bool) -> Tensor:
        for j, block in enumerate(self.block):
            h = block(h, image)
            for jj, xattn in enumerate(self.attn):
                if jj == j:
                    assert context is not None, "text-conditioned model called without text_emb"
                    h = h + xattn(h, context, mask)
        return h


class DownLevel(ResAttnStack):
    """encoder.down.{i}: res blocks (+ cross-attention), then a downsample except at the last level."""

    def __init__(self, cin: int, cout: int, num_blocks: int, patch_size: int, caption: bool,
                 context_dim: int, downsample: bool):
        super().__init__(cin, cout, num_blocks, patch_size, caption, context_dim)
        self.downsample = Downsample2plus1D(cout) if downsample else nn.Identity()

    def forward(self, h: Tensor, context: Optional[Tensor], mask: Optional[Tensor], image: bool) -> Tensor:
        return self.downsample(self.run_blocks(h, context, mask, image))


class UpLevel(ResAttnStack):
    """decoder.up.{i}: res blocks (+ cross-attention), then an upsample except at level 0."""

    def __init__(self, cin: int, cout: int, num_blocks: int, patch_size: int, caption: bool,
                 context_dim: int, upsample: bool):
        super().__init__(cin, cout, num_blocks, patch_size, caption, context_dim)
        self.upsample = Upsample2plus1D(cout) if upsample else nn.Identity()

    def forward(self, h: Tensor, context: Optional[Tensor], mask: Optional[Tensor], image: bool) -> Tensor:
        return self.upsample(self.run_blocks(h, context, mask, image))


class MidBlock2plus1D(nn.Module):
    """Res block, per-frame spatial attention, temporal attention (video path only), res block."""

    def __init__(self, channels: int):
        super().__init__()
        self.block_1 = ResnetBlock2plus1D(channels, channels)
        self.attn_1 = AttnBlock3D(channels)
        self.attn_1_tmp = TemporalAttention(channels)
        self.block_2 = ResnetBlock2plus1D(channels, channels)

    def forward(self, h: Tensor, image: bool) -> Tensor:
        h = self.block_1(h, image)
        h = self.attn_1(h)
        if not image:
            h = self.attn_1_tmp(h)
        return self.block_2(h, image)


def _patch_size(level: int, num_levels: int) -> int:
    # Fixed per level (8, 4, 2, 1 for four levels) so every level attends on the H/8 x W/8 grid.
    return 2 ** (num_levels - 1 - level)


class Encoder2plus1D(nn.Module):
    """[B,3,T,H,W] -> moments [B, 2*z_channels, T, H/8, W/8]."""

    def __init__(self, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_channels: int,
                 caption: bool, context_dim: int = 1024, in_channels: int = 3):
        super().__init__()
        levels = len(ch_mult)
        self.conv_in = spatial_conv(in_channels, ch)
        down: List[nn.Module] = []
        block_in = ch
        for i, mult in enumerate(ch_mult):
            block_out = ch * mult
            down.append(DownLevel(block_in, block_out, num_res_blocks, _patch_size(i, levels), caption,
                                  context_dim, downsample=i != levels - 1))
            block_in = block_out
        self.down = nn.ModuleList(down)
        self.mid = MidBlock2plus1D(block_in)
        self.norm_out = group_norm(block_in)
        self.conv_out = spatial_conv(block_in, 2 * z_channels)

    def forward(self, x: Tensor, context: Optional[Tensor], mask: Optional[Tensor], image: bool) -> Tensor:
        h = self.conv_in(x)
        for level in self.down:
            h = level(h, context, mask, image)
        h = self.mid(h, image)
        return self.conv_out(swish(self.norm_out(h)))


class Decoder2plus1D(nn.Module):
    """[B, z_channels, T, h, w] -> [B, 3, T, 8h, 8w]; no tanh, no clamp.

    `up` is stored with index 0 = full resolution and executed from the last index down.
    """

    def __init__(self, ch: int, ch_mult: Sequence[int], num_res_blocks: int, z_channels: int,
                 caption: bool, context_dim: int = 1024, out_channels: int = 3):
        super().__init__()
        levels = len(ch_mult)
        if levels != 4:
            raise ValueError("Decoder2plus1D supports exactly 4 resolution levels, got ch_mult=%r" % (list(ch_mult),))
        block_in = ch * ch_mult[-1]
        self.conv_in = spatial_conv(z_channels, block_in)
        self.mid = MidBlock2plus1D(block_in)
        up: List[nn.Module] = [nn.Identity()] * levels
        for i in reversed(range(levels)):
            block_out = ch * ch_mult[i]
            up[i] = UpLevel(block_in, block_out, num_res_blocks + 1, _patch_size(i, levels), caption,
                            context_dim, upsample=i != 0)
            block_in = block_out
        self.up = nn.ModuleList(up)
        self.norm_out = group_norm(block_in)
        self.conv_out = spatial_conv(block_in, out_channels)

    def forward(self, z: Tensor, context: Optional[Tensor], mask: Optional[Tensor], image: bool) -> Tensor:
        h = self.conv_in(z)
        h = self.mid(h, image)
        # Literal indices: TorchScript cannot iterate a reversed ModuleList.
        h = self.up[3](h, context, mask, image)
        h = self.up[2](h, context, mask, image)
        h = self.up[1](h, context, mask, image)
        h = self.up[0](h, context, mask, image)
        return self.conv_out(swish(self.norm_out(h)))
