"""The fast export mode: module swaps applied to a loaded (exact) model before scripting.

Same weights, same math up to float reassociation (within 1e-4 of the exact mode on every
parity case; measured figures in NOTES.md). Each lever can be switched off on its own so that
bench/levers.py can measure it:

- frames:        (1,3,3) and 1x1x1 Conv3d run as conv2d on the [B*T, C, H, W] frames view;
- onednn:        every CPU conv forced onto oneDNN (small inputs otherwise fall back to the
                 im2col `slow_conv3d` / `slow_conv2d`);
- inplace:       swish as one in-place `silu_` pass after GroupNorm, residual adds in place;
- channels_last: activations kept in channels-last-3d, so the frames view is free (no copy)
                 and oneDNN needs no layout reorders;
- sdpa:          mid-block spatial attention through fused scaled_dot_product_attention
                 (memory-efficient: no [HW, HW] logits per frame).

Only module instances are swapped; parameters are shared with the exact model (the frames
convs keep a [Co, Ci, k, k] view of the stored weight), so the state dict keys stay the same.
"""
import copy
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention import AttnBlock3D, CrossAttention, TemporalAttention
from .layers import Downsample2plus1D, ResnetBlock2plus1D, TemporalConvLayer, Upsample2plus1D
from .spatial import Decoder2plus1D, Encoder2plus1D
from .temporal import SamePadConv3d, TemporalResBlock

LEVERS = ("frames", "onednn", "inplace", "channels_last", "sdpa")
MODES = ("exact", "fast")  # export modes, recorded in the manifest as "mode"


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError("mode must be 'exact' or 'fast', got %r" % (mode,))


def onednn_ok(x: Tensor, onednn: bool) -> bool:
    return onednn and x.is_cpu and (x.dtype == torch.float32 or x.dtype == torch.bfloat16)


def conv2d(x: Tensor, weight: Tensor, bias: Optional[Tensor], stride: List[int], padding: List[int],
           onednn: bool) -> Tensor:
    """conv2d, on CPU in float32/bfloat16 optionally forced onto oneDNN (ATen picks the slower
    im2col kernels for small batch-1 inputs)."""
    if onednn_ok(x, onednn):
        return torch.mkldnn_convolution(x, weight, bias, padding, stride, [1, 1], 1)
    return F.conv2d(x, weight, bias, stride, padding)


def conv3d(x: Tensor, weight: Tensor, bias: Optional[Tensor], stride: List[int], padding: List[int],
           onednn: bool) -> Tensor:
    if onednn_ok(x, onednn):
        return torch.mkldnn_convolution(x, weight, bias, padding, stride, [1, 1, 1], 1)
    return F.conv3d(x, weight, bias, stride, padding)


class NormSwish(nn.Module):
    """swish(GroupNorm(x)) (or the norm alone); the in-place silu_ is one pass and no
    allocation, where x * sigmoid(x) is two passes and two new tensors."""

    def __init__(self, norm: nn.GroupNorm, inplace: bool, swish: bool = True):
        super().__init__()
        self.weight = norm.weight
        self.bias = norm.bias
        self.groups = norm.num_groups
        self.eps = norm.eps
        self.inplace = inplace
        self.swish = swish

    def forward(self, x: Tensor) -> Tensor:
        h = F.group_norm(x, self.groups, self.weight, self.bias, self.eps)
        if not self.swish:
            return h
        if self.inplace:
            return F.silu(h, inplace=True)
        return h * torch.sigmoid(h)


def add(a: Tensor, b: Tensor, inplace: bool) -> Tensor:
    """a + b, written into a when allowed (a must be a temporary we own)."""
    if inplace:
        return a.add_(b)
    return a + b


def channels_last(x: Tensor, enabled: bool = True) -> Tensor:
    """x in channels-last-3d with canonical strides.

    Size-1 dims (B = 1, T = 1) may carry any stride; an odd one makes later ops guess the
    layout wrong (suggest_memory_format) and copy to contiguous, so such strides are reset
    (free: the same elements in the same order).
    """
    if not enabled or x.dim() != 5:
        return x
    if not x.is_contiguous(memory_format=torch.channels_last_3d):
        return x.contiguous(memory_format=torch.channels_last_3d)
    b, c, t, h, w = x.shape
    return x.as_strided([b, c, t, h, w], [c * t * h * w, 1, h * w * c, w * c, c], x.storage_offset())


class FrameConv(nn.Module):
    """A Conv3d with a kernel of 1 in time (1x3x3 or 1x1x1) run per frame.

    With frames=True the [B,C,T,H,W] input is viewed as [B*T, C, H, W] (a free view in
    channels-last-3d, a copy otherwise) and convolved in 2D; else the Conv3d runs as is.
    pad_after=True is the downsample's zero padding of 1 at the bottom and right.
    """

    def __init__(self, conv3d: nn.Conv3d, frames: bool, onednn: bool, pad_after: bool = False):
        super().__init__()
        if conv3d.kernel_size[0] != 1 or conv3d.stride[0] != 1 or conv3d.padding[0] != 0:
            raise ValueError("FrameConv needs a Conv3d with kernel, stride and padding 1/1/0 in time")
        self.frames = frames
        self.onednn = onednn
        self.pad_after = pad_after
        weight = conv3d.weight
        self.weight = nn.Parameter(weight[:, :, 0] if frames else weight, requires_grad=False)
        self.bias = conv3d.bias
        self.stride = list(conv3d.stride[1:]) if frames else list(conv3d.stride)
        self.padding = list(conv3d.padding[1:]) if frames else list(conv3d.padding)

    def forward(self, x: Tensor) -> Tensor:
        if not self.frames:
            if self.pad_after:
                x = F.pad(x, [0, 1, 0, 1, 0, 0])
            return conv3d(x, self.weight, self.bias, self.stride, self.padding, self.onednn)
        b, c, t, h, w = x.shape
        y = x.transpose(1, 2).reshape(b * t, c, h, w)
        if self.pad_after:
            y = F.pad(y, [0, 1, 0, 1])
        y = conv2d(y, self.weight, self.bias, self.stride, self.padding, self.onednn)
        return y.reshape(b, t, y.size(1), y.size(2), y.size(3)).transpose(1, 2)


class FastTemporalConv(nn.Module):
    """TemporalConvLayer: conv3x3x3(swish(norm(h)))."""

    def __init__(self, layer: TemporalConvLayer, levers: Dict[str, bool]):
        super().__init__()
        self.norm = NormSwish(layer.norm, levers["inplace"])
        self.conv = layer.conv
        self.onednn = levers["onednn"]
        self.inplace = levers["inplace"]

    def forward(self, h: Tensor) -> Tensor:
        return conv3d(self.norm(h), self.conv.weight, self.conv.bias,
                    [1, 1, 1], [1, 1, 1], self.onednn)


class FastResnetBlock(nn.Module):
    """ResnetBlock2plus1D with frame convs, fused norm+swish and in-place residuals."""

    def __init__(self, block: ResnetBlock2plus1D, levers: Dict[str, bool]):
        super().__init__()
        frames, onednn = levers["frames"], levers["onednn"]
        self.inplace = levers["inplace"]
        self.has_shortcut = block.has_shortcut
        self.norm1 = NormSwish(block.norm1, levers["inplace"])
        self.conv1 = FrameConv(block.conv1, frames, onednn)
        self.conv1_tmp = FastTemporalConv(block.conv1_tmp, levers)
        self.norm2 = NormSwish(block.norm2, levers["inplace"])
        self.conv2 = FrameConv(block.conv2, frames, onednn)
        self.conv2_tmp = FastTemporalConv(block.conv2_tmp, levers)
        self.nin_shortcut = FrameConv(block.nin_shortcut, frames, onednn) if block.has_shortcut else nn.Identity()
        self.conv3_tmp = FastTemporalConv(block.conv3_tmp, levers)

    def forward(self, x: Tensor, image: bool) -> Tensor:
        h = self.conv1(self.norm1(x))
        if not image:
            h = add(self.conv1_tmp(h), h, self.inplace)
        h = self.conv2(self.norm2(h))
        if not image:
            h = add(self.conv2_tmp(h), h, self.inplace)
        if self.has_shortcut:
            x = self.nin_shortcut(x)
            if not image:
                x = add(self.conv3_tmp(x), x, self.inplace)
        return add(h, x, self.inplace)


class FastUpsample(nn.Module):
    """Nearest x2 per frame, then the frame conv."""

    def __init__(self, up: Upsample2plus1D, levers: Dict[str, bool]):
        super().__init__()
        self.frames = levers["frames"]
        self.conv = FrameConv(up.conv, levers["frames"], levers["onednn"])

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        if self.frames:
            # The frames view keeps channels-last (C*T folding would force a copy).
            y = F.interpolate(x.transpose(1, 2).reshape(b * t, c, h, w), scale_factor=2.0, mode="nearest")
            y = y.reshape(b, t, c, 2 * h, 2 * w).transpose(1, 2)
        else:
            y = F.interpolate(x.reshape(b, c * t, h, w), scale_factor=2.0, mode="nearest")
            y = y.reshape(b, c, t, 2 * h, 2 * w)
        return self.conv(y)


class FastAttnBlock(nn.Module):
    """AttnBlock3D with q, k, v as one matmul on [B*T, HW, C] tokens and fused SDPA.

    The SDPA default scale 1/sqrt(C) is the reference's C ** -0.5.
    """

    def __init__(self, attn: AttnBlock3D, levers: Dict[str, bool]):
        super().__init__()
        self.norm = NormSwish(attn.norm, False, swish=False)
        c = attn.q.weight.size(0)
        self.qkv_weight = nn.Parameter(torch.cat([m.weight.reshape(c, c) for m in (attn.q, attn.k, attn.v)]),
                                       requires_grad=False)
        self.qkv_bias = nn.Parameter(torch.cat([attn.q.bias, attn.k.bias, attn.v.bias]), requires_grad=False)
        self.proj_weight = nn.Parameter(attn.proj_out.weight.reshape(c, c), requires_grad=False)
        self.proj_bias = attn.proj_out.bias
        self.channels_last = levers["channels_last"]

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        hn = self.norm(x)
        tokens = hn.permute(0, 2, 3, 4, 1).reshape(b * t, h * w, c)  # a view in channels-last
        q, k, v = F.linear(tokens, self.qkv_weight, self.qkv_bias).unsqueeze(1).chunk(3, dim=3)
        out = F.scaled_dot_product_attention(q, k, v).squeeze(1)  # [BT, HW, C]
        out = F.linear(out, self.proj_weight, self.proj_bias).reshape(b, t, h, w, c).permute(0, 4, 1, 2, 3)
        return channels_last(x + out, self.channels_last)


class ChannelsLastTemporalAttention(nn.Module):
    """The exact TemporalAttention, its output put back into channels-last-3d."""

    def __init__(self, attn: TemporalAttention):
        super().__init__()
        self.attn = attn

    def forward(self, x: Tensor) -> Tensor:
        return channels_last(self.attn(x))


class ChannelsLastCrossAttention(nn.Module):
    """The exact CrossAttention, its output put back into channels-last-3d."""

    def __init__(self, attn: CrossAttention):
        super().__init__()
        self.attn = attn

    def forward(self, x: Tensor, context: Tensor, mask: Optional[Tensor]) -> Tensor:
        return channels_last(self.attn(x, context, mask))


class FastSamePadConv3d(nn.Module):
    """Replicate pad, then the 3x3x3 conv (on oneDNN)."""

    def __init__(self, layer: SamePadConv3d, levers: Dict[str, bool]):
        super().__init__()
        self.conv = layer.conv
        self.pad = layer.pad
        self.stride = list(layer.conv.stride)
        self.onednn = levers["onednn"]

    def forward(self, x: Tensor) -> Tensor:
        return conv3d(F.pad(x, self.pad, mode="replicate"), self.conv.weight, self.conv.bias, self.stride,
                    [0, 0, 0], self.onednn)


class FastTemporalResBlock(nn.Module):
    def __init__(self, block: TemporalResBlock, levers: Dict[str, bool]):
        super().__init__()
        self.norm1 = NormSwish(block.norm1, levers["inplace"])
        self.conv1 = FastSamePadConv3d(block.conv1, levers)
        self.norm2 = NormSwish(block.norm2, levers["inplace"])
        self.conv2 = FastSamePadConv3d(block.conv2, levers)
        self.inplace = levers["inplace"]

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(self.norm1(x))
        h = self.conv2(self.norm2(h))
        return add(h, x, self.inplace)


class FastFinalBlock(nn.Module):
    """encoder_temporal.final_block: GroupNorm, swish, SamePadConv3d."""

    def __init__(self, final: nn.Sequential, levers: Dict[str, bool]):
        super().__init__()
        self.norm = NormSwish(final[0], levers["inplace"])
        self.conv = FastSamePadConv3d(final[2], levers)
        self.inplace = levers["inplace"]

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.norm(x))


class FastNormOut(nn.Module):
    """norm_out + swish + conv_out of the spatial encoder/decoder, as one module."""

    def __init__(self, norm: nn.GroupNorm, conv_out: nn.Conv3d, levers: Dict[str, bool]):
        super().__init__()
        self.norm = NormSwish(norm, levers["inplace"])
        self.conv = FrameConv(conv_out, levers["frames"], levers["onednn"])
        self.inplace = levers["inplace"]

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.norm(x))


class FastEncoder(nn.Module):
    """Encoder2plus1D with swapped children (levels and mid block keep their own forward)."""

    def __init__(self, enc: Encoder2plus1D, levers: Dict[str, bool]):
        super().__init__()
        self.conv_in = FrameConv(enc.conv_in, levers["frames"], levers["onednn"])
        self.down = enc.down
        self.mid = enc.mid
        self.out = FastNormOut(enc.norm_out, enc.conv_out, levers)
        self.channels_last = levers["channels_last"]

    def forward(self, x: Tensor, context: Optional[Tensor], mask: Optional[Tensor], image: bool) -> Tensor:
        h = self.conv_in(channels_last(x, self.channels_last))
        for level in self.down:
            h = level(h, context, mask, image)
        h = self.mid(h, image)
        return self.out(h)


class FastDecoder(nn.Module):
    def __init__(self, dec: Decoder2plus1D, levers: Dict[str, bool]):
        super().__init__()
        self.conv_in = FrameConv(dec.conv_in, levers["frames"], levers["onednn"])
        self.mid = dec.mid
        self.up = dec.up
        self.out = FastNormOut(dec.norm_out, dec.conv_out, levers)
        self.channels_last = levers["channels_last"]

    def forward(self, z: Tensor, context: Optional[Tensor], mask: Optional[Tensor], image: bool) -> Tensor:
        h = self.conv_in(channels_last(z, self.channels_last))
        h = self.mid(h, image)
        h = self.up[3](h, context, mask, image)
        h = self.up[2](h, context, mask, image)
        h = self.up[1](h, context, mask, image)
        h = self.up[0](h, context, mask, image)
        return self.out(h).contiguous()


class ChannelsLastInput(nn.Module):
    """Wraps the temporal AE's first conv so that the whole temporal stage runs channels-last."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(channels_last(x))


class ContiguousOutput(nn.Module):
    """Wraps the temporal decoder's last conv: stage outputs are contiguous by contract."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(x).contiguous()


def resolve_levers(levers: Optional[Dict[str, bool]] = None) -> Dict[str, bool]:
    """All levers on, except those switched off in `levers`."""
    chosen = {name: True for name in LEVERS}
    for name, on in (levers or {}).items():
        if name not in chosen:
            raise ValueError("unknown fast-mode lever %r (known: %s)" % (name, ", ".join(LEVERS)))
        chosen[name] = bool(on)
    return chosen


def _swap_spatial(module: nn.Module, levers: Dict[str, bool]) -> None:
    for name, child in list(module.named_children()):
        if isinstance(child, ResnetBlock2plus1D):
            setattr(module, name, FastResnetBlock(child, levers))
        elif isinstance(child, Downsample2plus1D):
            setattr(module, name, FrameConv(child.conv, levers["frames"], levers["onednn"], pad_after=True))
        elif isinstance(child, Upsample2plus1D):
            setattr(module, name, FastUpsample(child, levers))
        elif isinstance(child, AttnBlock3D):
            setattr(module, name, FastAttnBlock(child, levers) if levers["sdpa"] else child)
        elif isinstance(child, TemporalAttention):
            if levers["channels_last"]:
                setattr(module, name, ChannelsLastTemporalAttention(child))
        elif isinstance(child, CrossAttention):
            if levers["channels_last"]:
                setattr(module, name, ChannelsLastCrossAttention(child))
        else:
            _swap_spatial(child, levers)


def _swap_temporal(module: nn.Module, levers: Dict[str, bool]) -> None:
    for name, child in list(module.named_children()):
        if isinstance(child, SamePadConv3d):
            setattr(module, name, FastSamePadConv3d(child, levers))
        elif isinstance(child, TemporalResBlock):
            setattr(module, name, FastTemporalResBlock(child, levers))
        elif isinstance(child, CrossAttention):
            if levers["channels_last"]:
                setattr(module, name, ChannelsLastCrossAttention(child))
        elif name == "final_block":
            setattr(module, name, FastFinalBlock(child, levers))
        else:
            _swap_temporal(child, levers)


def fast_copy(model: nn.Module, levers: Optional[Dict[str, bool]] = None) -> nn.Module:
    """The fast form of a model, leaving the model itself as it is.

    The module tree is copied, the parameters and buffers are shared (no extra weight memory).
    """
    memo = {id(t): t for t in list(model.parameters()) + list(model.buffers())}
    return make_fast(copy.deepcopy(model, memo), levers)


def make_fast(model: nn.Module, levers: Optional[Dict[str, bool]] = None) -> nn.Module:
    """Turns a loaded VideoVAEPlus into its fast form, in place (returns it for chaining).

    Use it only for export and benchmarks: training code expects the exact modules.
    """
    chosen = resolve_levers(levers)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    _swap_spatial(model.encoder, chosen)
    _swap_spatial(model.decoder, chosen)
    model.encoder = FastEncoder(model.encoder, chosen)
    model.decoder = FastDecoder(model.decoder, chosen)
    for temporal in (model.encoder_temporal, model.decoder_temporal):
        _swap_temporal(temporal, chosen)
        if chosen["channels_last"]:
            temporal.conv_in = ChannelsLastInput(temporal.conv_in)
    if chosen["channels_last"]:
        model.decoder_temporal.conv_last = ContiguousOutput(model.decoder_temporal.conv_last)
    model.fast_levers = chosen
    return model
