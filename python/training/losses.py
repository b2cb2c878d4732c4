"""Training losses for the default VideoVAE+ model: L1 + SSIM + a tiny KL (see TRAINING.md).

No perceptual network and no discriminator: nothing is downloaded. Inputs are in the model's
range [-1, 1] (data range 2). Video tensors are [B, C, T, H, W]; SSIM is computed per frame.
"""
import math
from dataclasses import dataclass
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

DATA_RANGE = 2.0  # [-1, 1]


def gaussian_window(size: int = 11, sigma: float = 1.5, dtype=torch.float32) -> Tensor:
    """Normalised 1-D Gaussian [size]."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    g = torch.exp(-(x * x) / (2.0 * sigma * sigma))
    return (g / g.sum()).to(dtype)


def _to_frames(x: Tensor) -> Tensor:
    """[B,C,T,H,W] -> [B*T,C,H,W]; 4-D input is returned as is."""
    if x.dim() == 5:
        b, c, t, h, w = x.shape
        return x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    if x.dim() != 4:
        raise ValueError("expected [B,C,T,H,W] or [N,C,H,W], got %s" % (tuple(x.shape),))
    return x


def ssim(x: Tensor, y: Tensor, data_range: float = DATA_RANGE, window: int = 11, sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, reduction: str = "mean") -> Tensor:
    """Differentiable SSIM (Wang et al. 2004) with a separable Gaussian window, 'valid' borders.

    Per channel, averaged over channels and positions. Returns the mean over all frames
    (reduction='mean') or one value per frame (reduction='none'). The window shrinks (odd size,
    sigma scaled alike) for frames smaller than 11 pixels.
    """
    if x.shape != y.shape:
        raise ValueError("ssim: shapes differ: %s vs %s" % (tuple(x.shape), tuple(y.shape)))
    x, y = _to_frames(x).float(), _to_frames(y).float()
    n, c, h, w = x.shape
    size = min(window, h, w)
    if size % 2 == 0:
        size -= 1
    g = gaussian_window(size, sigma * size / window, x.dtype).to(x.device)
    gh = g.view(1, 1, size, 1).expand(c, 1, size, 1)
    gw = g.view(1, 1, 1, size).expand(c, 1, 1, size)

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(F.conv2d(t, gh, groups=c), gw, groups=c)

    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x * mu_x
    syy = blur(y * y) - mu_y * mu_y
    sxy = blur(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (sxx + syy + c2)
    per_frame = (num / den).mean(dim=(1, 2, 3))
    return per_frame.mean() if reduction == "mean" else per_frame


def ssim_loss(x: Tensor, y: Tensor, **kw) -> Tensor:
    """1 - SSIM: 0 for identical inputs."""
    return 1.0 - ssim(x, y, **kw)


def psnr(x: Tensor, y: Tensor, data_range: float = DATA_RANGE) -> Tensor:
    """PSNR in dB of the clamped reconstruction x against y (both in [-1, 1]), over the whole tensor."""
    mse = (x.detach().clamp(-1.0, 1.0) - y.detach()).float().pow(2).mean()
    return 10.0 * torch.log10(data_range ** 2 / mse.clamp_min(1e-12))


def gaussian_kl(mean: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mean, exp(logvar)) || N(0, 1)) summed over all latent dims, one value per sample."""
    dims = list(range(1, mean.dim()))
    return 0.5 * torch.sum(mean.pow(2) + torch.exp(logvar) - 1.0 - logvar, dim=dims)


@dataclass
class LossWeights:
    l1: float = 1.0
    ssim: float = 0.2
    # kl_weight of the official training loss (LDM convention: reconstruction summed over pixels,
    # KL summed over latent dims, ratio kl_weight). The released yamls say 0; we use 1e-6 (see
    # TRAINING.md) to keep logvar from drifting without constraining the mean.
    kl: float = 1e-6
    # Squared error: PSNR is an MSE measure, and L1 alone settles on the median; a final phase
    # with an MSE term trades a little SSIM for PSNR. Off by default.
    mse: float = 0.0


def vae_loss(recon: Tensor, target: Tensor, posteriors, weights: Optional[LossWeights] = None
             ) -> Dict[str, Tensor]:
    """Total loss and its parts.

    posteriors: iterable of (mean, logvar) pairs (spatial, and temporal for video batches).
    The KL of each posterior is summed over its latent dims, averaged over the batch, and divided
    by the number of pixel values per sample, which makes `weights.kl` the LDM kl_weight for a
    per-pixel mean reconstruction loss.
    """
    w = weights or LossWeights()
    l1 = (recon - target).abs().mean()
    s = ssim(recon, target)
    per_sample = target[0].numel()
    kl_terms = [gaussian_kl(m, lv).mean() / per_sample for m, lv in posteriors]
    kl = torch.stack(kl_terms).sum() if kl_terms else recon.new_zeros(())
    total = w.l1 * l1 + w.ssim * (1.0 - s) + w.kl * kl
    if w.mse:
        total = total + w.mse * (recon - target).pow(2).mean()
    out = {"loss": total, "l1": l1, "ssim": s, "kl": kl}
    for i, t in enumerate(kl_terms):
        out["kl%d" % i] = t
    return out


def lr_at(step: int, base_lr: float, warmup: int, schedule: str = "constant", total: int = 0,
          min_ratio: float = 0.1, start_step: int = 0, decay_from: int = 0) -> float:
    """Linear warmup (counted from start_step, so a resumed run without optimizer state warms up
    again), then constant or cosine decay to min_ratio * base_lr, from step `decay_from` (a run that
    trained at a constant rate can switch to a decay phase) to step `total`."""
    since = step - start_step
    if warmup > 0 and since < warmup:
        return base_lr * (since + 1) / warmup
    if schedule == "cosine" and total > 0:
        p = min(max((step - decay_from) / float(max(total - decay_from, 1)), 0.0), 1.0)
        return base_lr * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * p)))
    return base_lr
