"""The T5 v1.1 encoder (the Flan-T5 family): our own scriptable module, loading Hugging Face
state dicts key for key.

Architecture: token embedding, then per layer a pre-norm self-attention with a bucketed
relative position bias (computed by the first layer, shared by all) and a pre-norm gated-GELU
feed-forward, then a final norm. Norms are RMS-style (scale only, statistics in float32).
Attention logits are not scaled (T5 folds 1/sqrt(d_kv) into the weights).

Reduced precision follows the numerics of the official embedder (transformers 4.25, the whole
encoder in bfloat16): the mask is added to the position bias in the compute dtype, softmax
runs in float32 and is cast back, the norm output is cast to the weights' dtype before scaling.
The output is always float32 (the official inference casts the embedding to the VAE's dtype).
"""
import math
from dataclasses import dataclass
from typing import Any, Dict, List

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class T5Config:
    vocab_size: int
    d_model: int
    d_kv: int
    d_ff: int
    num_layers: int
    num_heads: int
    num_buckets: int = 32
    max_distance: int = 128
    eps: float = 1e-6

    @staticmethod
    def from_hf(cfg: Dict[str, Any]) -> "T5Config":
        """From a Hugging Face config.json; refuses what is not a T5 v1.1 (gated-GELU) encoder."""
        proj = cfg.get("feed_forward_proj", "relu")
        if proj != "gated-gelu":
            raise ValueError("feed_forward_proj is %r: only T5 v1.1 / Flan-T5 encoders (gated-gelu) are supported"
                             % (proj,))
        act = cfg.get("dense_act_fn", "gelu_new")
        if act not in ("gelu_new", "gelu_pytorch_tanh"):  # the same tanh approximation
            raise ValueError("dense_act_fn %r is not supported (expected gelu_new)" % (act,))
        missing = [k for k in ("vocab_size", "d_model", "d_kv", "d_ff", "num_layers", "num_heads") if k not in cfg]
        if missing:
            raise ValueError("config.json lacks %s" % ", ".join(missing))
        return T5Config(vocab_size=int(cfg["vocab_size"]), d_model=int(cfg["d_model"]), d_kv=int(cfg["d_kv"]),
                        d_ff=int(cfg["d_ff"]), num_layers=int(cfg["num_layers"]), num_heads=int(cfg["num_heads"]),
                        num_buckets=int(cfg.get("relative_attention_num_buckets", 32)),
                        max_distance=int(cfg.get("relative_attention_max_distance", 128)),
                        eps=float(cfg.get("layer_norm_epsilon", 1e-6)))


def relative_position_buckets(length: int, num_buckets: int, max_distance: int, device: torch.device) -> Tensor:
    """[L, L] bucket of (key position - query position), bidirectional: half the buckets per
    direction, exact below num_buckets/4, logarithmic up to max_distance."""
    pos = torch.arange(length, dtype=torch.long, device=device)
    rel = pos[None, :] - pos[:, None]
    half = num_buckets // 2
    buckets = (rel > 0).to(torch.long) * half
    rel = torch.abs(rel)
    exact = half // 2
    # log(0) for rel == 0 is masked by the where below; the float math matches the reference.
    large = exact + (torch.log(rel.float() / exact) / math.log(max_distance / exact) * (half - exact)).to(torch.long)
    large = torch.clamp(large, max=half - 1)
    return buckets + torch.where(rel < exact, rel, large)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        variance = x.float().pow(2).mean(-1, keepdim=True)
        y = x * torch.rsqrt(variance + self.eps)  # float32 (type promotion)
        return self.weight * y.to(self.weight.dtype)


class SelfAttention(nn.Module):
    def __init__(self, c: T5Config, has_bias: bool):
        super().__init__()
        inner = c.num_heads * c.d_kv
        self.q = nn.Linear(c.d_model, inner, bias=False)
        self.k = nn.Linear(c.d_model, inner, bias=False)
        self.v = nn.Linear(c.d_model, inner, bias=False)
        self.o = nn.Linear(inner, c.d_model, bias=False)
        if has_bias:
            self.relative_attention_bias = nn.Embedding(c.num_buckets, c.num_heads)
        self.heads = c.num_heads
        self.d_kv = c.d_kv

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        b, n = x.shape[0], x.shape[1]
        q = self.q(x).view(b, n, self.heads, self.d_kv).transpose(1, 2)
        k = self.k(x).view(b, n, self.heads, self.d_kv).transpose(1, 2)
        v = self.v(x).view(b, n, self.heads, self.d_kv).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(3, 2)) + bias
        weights = torch.softmax(scores.float(), dim=-1).to(scores.dtype)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(b, n, self.heads * self.d_kv)
        return self.o(out)


class AttentionLayer(nn.Module):
    def __init__(self, c: T5Config, has_bias: bool):
        super().__init__()
        self.SelfAttention = SelfAttention(c, has_bias)
        self.layer_norm = RMSNorm(c.d_model, c.eps)

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        return x + self.SelfAttention(self.layer_norm(x), bias)


class GatedGelu(nn.Module):
    def __init__(self, c: T5Config):
        super().__init__()
        self.wi_0 = nn.Linear(c.d_model, c.d_ff, bias=False)
        self.wi_1 = nn.Linear(c.d_model, c.d_ff, bias=False)
        self.wo = nn.Linear(c.d_ff, c.d_model, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        g = self.wi_0(x)
        # gelu_new written out: in bfloat16 every step rounds like the reference does.
        g = 0.5 * g * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (g + 0.044715 * torch.pow(g, 3.0))))
        return self.wo((g * self.wi_1(x)).to(self.wo.weight.dtype))


class FeedForwardLayer(nn.Module):
    def __init__(self, c: T5Config):
        super().__init__()
        self.DenseReluDense = GatedGelu(c)
        self.layer_norm = RMSNorm(c.d_model, c.eps)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.DenseReluDense(self.layer_norm(x))


class Block(nn.Module):
    def __init__(self, c: T5Config, has_bias: bool):
        super().__init__()
        # HF names: layer.0 is self-attention, layer.1 the feed-forward.
        self.layer = nn.ModuleList([AttentionLayer(c, has_bias), FeedForwardLayer(c)])

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        return self.layer[1](self.layer[0](x, bias))


class T5Stack(nn.Module):
    def __init__(self, c: T5Config):
        super().__init__()
        self.block = nn.ModuleList([Block(c, i == 0) for i in range(c.num_layers)])
        self.final_layer_norm = RMSNorm(c.d_model, c.eps)


class T5Encoder(nn.Module):
    """forward(input_ids [B, L] int, attention_mask [B, L] 0/1) -> last hidden state [B, L, d] float32."""

    def __init__(self, c: T5Config):
        super().__init__()
        self.shared = nn.Embedding(c.vocab_size, c.d_model)
        self.encoder = T5Stack(c)
        self.vocab_size = c.vocab_size
        self.num_buckets = c.num_buckets
        self.max_distance = c.max_distance
        # finfo(compute dtype).min: the additive mask of padding (set by to_compute_dtype).
        self.mask_min = float(torch.finfo(torch.float32).min)

    def to_compute_dtype(self, dtype: torch.dtype) -> "T5Encoder":
        self.to(dtype)
        self.mask_min = float(torch.finfo(dtype).min)
        return self

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        if input_ids.dim() != 2:
            raise RuntimeError("t5_encoder: input_ids must be [B, L], got " + str(list(input_ids.shape)))
        if attention_mask.shape != input_ids.shape:
            raise RuntimeError("t5_encoder: attention_mask must match input_ids " + str(list(input_ids.shape))
                               + ", got " + str(list(attention_mask.shape)))
        if input_ids.is_floating_point() or input_ids.dtype == torch.bool:
            raise RuntimeError("t5_encoder: input_ids must be an integer tensor")
        if input_ids.numel() > 0:
            if int(input_ids.min()) < 0 or int(input_ids.max()) >= self.vocab_size:
                raise RuntimeError("t5_encoder: token ids must be in [0, " + str(self.vocab_size) + ")")
        ids = input_ids.long()
        x = self.shared(ids)
        dtype = x.dtype
        n = ids.shape[1]
        first = self.encoder.block[0].layer[0].SelfAttention
        buckets = relative_position_buckets(n, self.num_buckets, self.max_distance, ids.device)
        bias = first.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)  # [1, H, L, L]
        keep = (attention_mask > 0.5).to(dtype)[:, None, None, :]
        bias = bias + (1.0 - keep) * self.mask_min  # [B, H, L, L], in the compute dtype
        for block in self.encoder.block:
            x = block(x, bias)
        return self.encoder.final_layer_norm(x).float()


def encoder_keys(state_dict_keys: List[str]) -> List[str]:
    """The keys of a HF checkpoint that the encoder uses (decoder and LM head are dropped)."""
    return [k for k in state_dict_keys if k == "shared.weight" or k.startswith("encoder.")]
