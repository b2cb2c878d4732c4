"""The three attention flavours of VideoVAE+.

For bit parity with the official fp32 CPU outputs every attention is an explicit
matmul + softmax (no fused SDPA), scales are applied exactly where the spec puts them, and
extra terms are computed as separate tensors and added afterwards.
"""
import math
from typing import Optional

import torch
from torch import Tensor, nn

from .layers import channels_last, group_norm



class AttnBlock3D(nn.Module):
    """Single-head spatial self-attention over the H*W tokens of each frame (mid blocks).

    query_chunk_elements = 0 selects the exact reference path. A positive value bounds the
    size of the logits slice (frames x query rows x keys) materialised at once; softmax is
    row-wise, so chunking queries changes memory, not the math.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.norm = group_norm(channels)
        self.q = nn.Conv3d(channels, channels, kernel_size=1)
        self.k = nn.Conv3d(channels, channels, kernel_size=1)
        self.v = nn.Conv3d(channels, channels, kernel_size=1)
        self.proj_out = nn.Conv3d(channels, channels, kernel_size=1)
        self.scale = float(channels) ** -0.5
        self.query_chunk_elements = 0

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        hn = self.norm(x)  # 5D GroupNorm: statistics pool over T too
        q = self.q(hn).permute(0, 2, 3, 4, 1).reshape(b * t, h * w, c)  # [BT, HW, C]
        k = self.k(hn).permute(0, 2, 1, 3, 4).reshape(b * t, c, h * w)  # [BT, C, HW]
        v = self.v(hn).permute(0, 2, 1, 3, 4).reshape(b * t, c, h * w)  # [BT, C, HW]
        if self.query_chunk_elements > 0:
            out = self._attend_chunked(q, k, v)
        else:
            out = self._attend(q, k, v)
        out = out.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)
        return x + self.proj_out(out)

    def _attend(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        weights = torch.bmm(q, k) * self.scale  # scale after the product, as the reference
        weights = torch.softmax(weights, dim=2)
        return torch.bmm(v, weights.permute(0, 2, 1))  # [BT, C, HW_query]

    def _attend_chunked(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        frames, tokens, channels = q.shape
        rows = max(1, self.query_chunk_elements // max(1, frames * tokens))
        out = torch.empty((frames, channels, tokens), dtype=q.dtype, device=q.device)
        for start in range(0, tokens, rows):
            end = min(start + rows, tokens)
            out[:, :, start:end] = self._attend(q[:, start:end], k, v)
        return out


class RelativePosition(nn.Module):
    """Learned table of relative offsets clamp(j - i, -64, 64) -> [T, T, units]."""

    def __init__(self, units: int, max_relative_position: int = 64):
        super().__init__()
        self.max_relative_position = max_relative_position
        self.embeddings_table = nn.Parameter(torch.zeros(2 * max_relative_position + 1, units))

    def forward(self, length: int) -> Tensor:
        pos = torch.arange(length, device=self.embeddings_table.device)
        offsets = pos[None, :] - pos[:, None]  # [a][b] = b - a
        idx = torch.clamp(offsets, -self.max_relative_position, self.max_relative_position)
        return self.embeddings_table[idx + self.max_relative_position]


class TemporalAttention(nn.Module):
    """Single-head self-attention along T for every pixel, with relative positions.

    Keeps the official quirk (spec §4.6): the relative-key term pairs the query at key
    position j with table entry i - j, and carries a single factor of the scale.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        # eps 1e-5 (PyTorch default), unlike every other GroupNorm of the model.
        self.norm = group_norm(channels, eps=1e-5)
        self.qkv = nn.Conv1d(channels, 3 * channels, kernel_size=1)
        self.relative_position_k = RelativePosition(channels)
        self.relative_position_v = RelativePosition(channels)
        self.proj_out = nn.Conv1d(channels, channels, kernel_size=1)
        self.scale = 1.0 / math.sqrt(math.sqrt(channels))  # applied to q and k separately
        self.channels_last_out = False  # set by the fast export mode (videovae.fast)

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        seq = x.permute(0, 3, 4, 1, 2).reshape(b * h * w, c, t)  # one sequence per pixel
        q, k, v = self.qkv(self.norm(seq)).split(c, dim=1)  # each [N, C, T]
        qs = q * self.scale
        ks = k * self.scale
        logits = torch.einsum("nci,ncj->nij", qs, ks)
        rel_k = self.relative_position_k(t)  # [T, T, C], rel_k[a][b] = E[b - a]
        logits = logits + torch.einsum("ncj,jic->nij", qs, rel_k)  # the quirky term
        probs = torch.softmax(logits.float(), dim=-1).to(logits.dtype)
        out = torch.einsum("nij,ncj->nci", probs, v)
        rel_v = self.relative_position_v(t)
        out = out + torch.einsum("nij,ijc->nci", probs, rel_v)
        out = seq + self.proj_out(out)
        out = out.reshape(b, h, w, c, t).permute(0, 3, 4, 1, 2)
        if self.channels_last_out:
            out = channels_last(out)
        return out


class CrossAttention(nn.Module):
    """Patch-wise cross-attention from video tokens to text tokens (8 heads x 64).

    Each frame is cut into p x p patches (feature index (i*p + j)*C + c), so every level of
    the model attends on the same H/8 x W/8 grid. The caller adds the residual.
    """

    def __init__(self, query_dim: int, patch_size: int, context_dim: int = 1024,
                 heads: int = 8, dim_head: int = 64):
        super().__init__()
        patch_dim = query_dim * patch_size * patch_size
        inner = heads * dim_head
        self.patch_size = patch_size
        self.heads = heads
        self.dim_head = dim_head
        self.scale = float(dim_head) ** -0.5
        self.norm = nn.LayerNorm(patch_dim)
        self.to_q = nn.Linear(patch_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        # Index 1 is a p=0 dropout in the reference: no parameters, no effect.
        self.to_out = nn.Sequential(nn.Linear(inner, patch_dim), nn.Identity())
        self.channels_last_out = False  # set by the fast export mode (videovae.fast)

    def forward(self, x: Tensor, context: Tensor, mask: Optional[Tensor]) -> Tensor:
        b, c, t, h, w = x.shape
        p = self.patch_size
        if h % p != 0 or w % p != 0:
            raise RuntimeError("CrossAttention: H and W must be multiples of the patch size")
        g1 = h // p
        g2 = w // p
        tokens = (x.permute(0, 2, 3, 4, 1).reshape(b, t, g1, p, g2, p, c)
                  .permute(0, 1, 2, 4, 3, 5, 6).reshape(b * t, g1 * g2, p * p * c))
        tokens = self.norm(tokens)
        length = context.size(1)
        # The text of sample b is shared by all its frames.
        ctx = context.unsqueeze(1).expand(b, t, length, context.size(2)).reshape(b * t, length, context.size(2))
        q = self.to_q(tokens)
        k = self.to_k(ctx)
        v = self.to_v(ctx)
        q = self._split_heads(q)
        k = self._split_heads(k)
        v = self._split_heads(v)
        sim = torch.einsum("bid,bjd->bij", q, k) * self.scale
        if mask is not None:
            keep = mask.reshape(b, -1) > 0.5
            keep = keep[:, None, None, :].expand(b, t, self.heads, length).reshape(b * t * self.heads, 1, length)
            # -finfo(float32).max (torch.finfo is not scriptable), not -inf: an all-zero
            # mask then gives a uniform softmax instead of NaN, as in the reference.
            sim = sim.masked_fill(~keep, -3.4028234663852886e38)
        attn = torch.softmax(sim, dim=-1)
        out = torch.einsum("bij,bjd->bid", attn, v)
        n = g1 * g2
        out = out.reshape(b * t, self.heads, n, self.dim_head).permute(0, 2, 1, 3).reshape(b * t, n, self.heads * self.dim_head)
        out = self.to_out(out)
        out = out.reshape(b, t, g1, g2, p, p, c).permute(0, 6, 1, 2, 4, 3, 5).reshape(b, c, t, h, w)
        if self.channels_last_out:
            out = channels_last(out)
        return out

    def _split_heads(self, x: Tensor) -> Tensor:
        bt, n, _ = x.shape
        return x.reshape(bt, n, self.heads, self.dim_head).permute(0, 2, 1, 3).reshape(bt * self.heads, n, self.dim_head)
