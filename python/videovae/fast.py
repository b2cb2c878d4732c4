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

Only module instances are swapped and parameters are shared with the exact model; every fast
module keeps the exact state-dict keys and shapes, so a fast bundle holds the same state dict
as an exact one (training can resume from either).
"""
import copy
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention import AttnBlock3D, CrossAttention, TemporalAttention
from .layers import (Downsample2plus1D, ResnetBlock2plus1D, TemporalConvLayer, Upsample2plus1D, channels_last,
                     upsample_nearest_2x)
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
        self.weight = conv3d.weight  # [Co, Ci, 1, k, k], as stored
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
        y = conv2d(y, self.weight.squeeze(2), self.bias, self.stride, self.padding, self.onednn)
        return y.reshape(b, t, y.size(1), y.size(2), y.size(3)).transpose(1, 2)


class FastDownsample(nn.Module):
    """Downsample2plus1D: zero pad bottom/right, stride-2 frame conv."""

    def __init__(self, down: Downsample2plus1D, levers: Dict[str, bool]):
        super().__init__()
        self.conv = FrameConv(down.conv, levers["frames"], levers["onednn"], pad_after=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


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
            y = upsample_nearest_2x(x.transpose(1, 2).reshape(b * t, c, h, w))
            y = y.reshape(b, t, c, 2 * h, 2 * w).transpose(1, 2)
        else:
            y = upsample_nearest_2x(x.reshape(b, c * t, h, w))
            y = y.reshape(b, c, t, 2 * h, 2 * w)
        return self.conv(y)


class FastAttnBlock(nn.Module):
    """AttnBlock3D as matmuls on [B*T, HW, C] tokens (a view in channels-last) and fused SDPA.

    The SDPA default scale 1/sqrt(C) is the reference's C ** -0.5.
    """

    def __init__(self, attn: AttnBlock3D, levers: Dict[str, bool]):
        super().__init__()
        self.norm = NormSwish(attn.norm, False, swish=False)
        self.q = attn.q  # 1x1x1 Conv3d modules, used as matmuls on the tokens
        self.k = attn.k
        self.v = attn.v
        self.proj_out = attn.proj_out
        self.channels_last = levers["channels_last"]

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        hn = self.norm(x)
        tokens = hn.permute(0, 2, 3, 4, 1).reshape(b * t, h * w, c)  # a view in channels-last
        q = F.linear(tokens, self.q.weight.view(c, c), self.q.bias).unsqueeze(1)
        k = F.linear(tokens, self.k.weight.view(c, c), self.k.bias).unsqueeze(1)
        v = F.linear(tokens, self.v.weight.view(c, c), self.v.bias).unsqueeze(1)
        out = F.scaled_dot_product_attention(q, k, v).squeeze(1)  # [BT, HW, C]
        out = F.linear(out, self.proj_out.weight.view(c, c), self.proj_out.bias)
        out = out.reshape(b, t, h, w, c).permute(0, 4, 1, 2, 3)
        return channels_last(x + out, self.channels_last)


class FastSamePadConv3d(nn.Module):
    """Replicate pad, then the 3x3x3 conv (on oneDNN)."""

    def __init__(self, layer: SamePadConv3d, levers: Dict[str, bool]):
        super().__init__()
        self.conv = layer.conv
        self.pad = layer.pad
        self.stride = list(layer.conv.stride)
        self.onednn = levers["onednn"]
        # Set on the first and last conv of a temporal AE: channels-last inside the stage,
        # contiguous at its boundaries (the bundle contract).
        self.channels_last_in = False
        self.contiguous_out = False

    def forward(self, x: Tensor) -> Tensor:
        if self.channels_last_in:
            x = channels_last(x)
        y = conv3d(F.pad(x, self.pad, mode="replicate"), self.conv.weight, self.conv.bias, self.stride,
                   [0, 0, 0], self.onednn)
        if self.contiguous_out:
            return y.contiguous()
        return y


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


class FastEncoder(nn.Module):
    """Encoder2plus1D with swapped children (levels and mid block keep their own forward)."""

    def __init__(self, enc: Encoder2plus1D, levers: Dict[str, bool]):
        super().__init__()
        self.conv_in = FrameConv(enc.conv_in, levers["frames"], levers["onednn"])
        self.down = enc.down
        self.mid = enc.mid
        self.norm_out = NormSwish(enc.norm_out, levers["inplace"])
        self.conv_out = FrameConv(enc.conv_out, levers["frames"], levers["onednn"])
        self.channels_last = levers["channels_last"]

    def forward(self, x: Tensor, context: Optional[Tensor], mask: Optional[Tensor], image: bool) -> Tensor:
        h = self.conv_in(channels_last(x, self.channels_last))
        for level in self.down:
            h = level(h, context, mask, image)
        h = self.mid(h, image)
        return self.conv_out(self.norm_out(h))


class FastDecoder(nn.Module):
    def __init__(self, dec: Decoder2plus1D, levers: Dict[str, bool]):
        super().__init__()
        self.conv_in = FrameConv(dec.conv_in, levers["frames"], levers["onednn"])
        self.mid = dec.mid
        self.up = dec.up
        self.norm_out = NormSwish(dec.norm_out, levers["inplace"])
        self.conv_out = FrameConv(dec.conv_out, levers["frames"], levers["onednn"])
        self.channels_last = levers["channels_last"]

    def forward(self, z: Tensor, context: Optional[Tensor], mask: Optional[Tensor], image: bool) -> Tensor:
        h = self.conv_in(channels_last(z, self.channels_last))
        h = self.mid(h, image)
        h = self.up[3](h, context, mask, image)
        h = self.up[2](h, context, mask, image)
        h = self.up[1](h, context, mask, image)
        h = self.up[0](h, context, mask, image)
        return self.conv_out(self.norm_out(h)).contiguous()


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
            setattr(module, name, FastDownsample(child, levers))
        elif isinstance(child, Upsample2plus1D):
            setattr(module, name, FastUpsample(child, levers))
        elif isinstance(child, AttnBlock3D):
            setattr(module, name, FastAttnBlock(child, levers) if levers["sdpa"] else child)
        elif isinstance(child, (TemporalAttention, CrossAttention)):
            child.channels_last_out = levers["channels_last"]
        else:
            _swap_spatial(child, levers)


def _swap_temporal(module: nn.Module, levers: Dict[str, bool]) -> None:
    for name, child in list(module.named_children()):
        if isinstance(child, SamePadConv3d):
            setattr(module, name, FastSamePadConv3d(child, levers))
        elif isinstance(child, TemporalResBlock):
            setattr(module, name, FastTemporalResBlock(child, levers))
        elif isinstance(child, CrossAttention):
            child.channels_last_out = levers["channels_last"]
        elif name == "final_block":  # Sequential(GroupNorm, Swish, SamePadConv3d): keep the indices
            setattr(module, name, nn.Sequential(NormSwish(child[0], levers["inplace"]), nn.Identity(),
                                                FastSamePadConv3d(child[2], levers)))
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
        temporal.conv_in.channels_last_in = chosen["channels_last"]
    model.decoder_temporal.conv_last.contiguous_out = True
    model.fast_levers = chosen
    return model
