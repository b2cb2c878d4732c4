"""Convolutional building blocks of the spatial ("2+1D") autoencoder.

All tensors are [B, C, T, H, W]. Every GroupNorm here sees the whole 5D tensor, so its
statistics pool over time as well (spec §0); that is what makes even the image path
frame-coupled, and it is kept on purpose.
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn


def swish(x: Tensor) -> Tensor:
    # Written as the literal product: F.silu can differ in the last ulp and the parity
    # fixtures were produced with x * sigmoid(x).
    return x * torch.sigmoid(x)


class Swish(nn.Module):
    """Parameter-free swish, for places where the state dict expects a module slot."""

    def forward(self, x: Tensor) -> Tensor:
        return swish(x)


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


def group_norm(channels: int, eps: float = 1e-6) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=32, num_channels=channels, eps=eps, affine=True)


def spatial_conv(cin: int, cout: int) -> nn.Conv3d:
    """A per-frame 3x3 conv expressed as a (1,3,3) Conv3d (what the checkpoint stores)."""
    return nn.Conv3d(cin, cout, kernel_size=(1, 3, 3), stride=1, padding=(0, 1, 1))


class TemporalConvLayer(nn.Module):
    """conv(swish(norm(h))) with a full 3x3x3 kernel (mixes space and time, zero padded).

    The callers add the residual themselves.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.norm = group_norm(channels)
        self.conv = nn.Conv3d(channels, channels, kernel_size=3, stride=1, padding=1)

    def forward(self, h: Tensor) -> Tensor:
        return self.conv(swish(self.norm(h)))


class ResnetBlock2plus1D(nn.Module):
    """SD-style resnet block on (1,3,3) convs, with zero-init temporal conv residuals.

    With image=True (the official mask_temporal) the three temporal layers are skipped.
    conv3_tmp always exists in the checkpoint but only runs when the width changes.
    """

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.has_shortcut = cin != cout
        # Registration order follows the official state dict.
        self.norm1 = group_norm(cin)
        self.conv1 = spatial_conv(cin, cout)
        self.conv1_tmp = TemporalConvLayer(cout)
        self.norm2 = group_norm(cout)
        self.conv2 = spatial_conv(cout, cout)
        self.conv2_tmp = TemporalConvLayer(cout)
        self.nin_shortcut = nn.Conv3d(cin, cout, kernel_size=1) if self.has_shortcut else nn.Identity()
        self.conv3_tmp = TemporalConvLayer(cout)

    def forward(self, x: Tensor, image: bool) -> Tensor:
        h = self.conv1(swish(self.norm1(x)))
        if not image:
            h = self.conv1_tmp(h) + h
        h = self.conv2(swish(self.norm2(h)))  # dropout (p=0) omitted
        if not image:
            h = self.conv2_tmp(h) + h
        if self.has_shortcut:
            x = self.nin_shortcut(x)
            if not image:
                x = self.conv3_tmp(x) + x
        return x + h


class Downsample2plus1D(nn.Module):
    """Halves H and W: zero pad 1 at bottom/right, then a stride-2 (1,3,3) conv. T unchanged."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv3d(channels, channels, kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=0)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(F.pad(x, [0, 1, 0, 1, 0, 0], mode="constant", value=0.0))


def upsample_nearest_2x(x: Tensor) -> Tensor:
    """Nearest x2 in the last two dims (each pixel becomes a 2x2 block), as F.interpolate does it.

    The aten op is called directly: scripting F.interpolate compiles its whole body, and torch
    2.13's body names ops (lanczos) that an older libtorch refuses to load.
    """
    return torch._C._nn.upsample_nearest2d(x, None, [2.0, 2.0])


class Upsample2plus1D(nn.Module):
    """Nearest x2 in H and W (each pixel becomes a 2x2 block), then a (1,3,3) conv."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = spatial_conv(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        # Nearest interpolation on the 4D view, frames folded into channels.
        y = upsample_nearest_2x(x.reshape(b, c * t, h, w))
        return self.conv(y.reshape(b, c, t, 2 * h, 2 * w))
