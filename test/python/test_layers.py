"""Small semantic checks of individual layers (cheap; the parity tests cover the numbers)."""
import copy

import pytest
import torch

from videovae.attention import CrossAttention, RelativePosition
from videovae.layers import Upsample2plus1D


def _randomised(module, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return module.eval()


@pytest.fixture()
def xattn():
    return _randomised(CrossAttention(query_dim=32, patch_size=2, context_dim=1024))


def test_cross_attention_mask_dtypes_agree(xattn):
    x, ctx = torch.randn(2, 32, 3, 4, 6), torch.randn(2, 10, 1024)
    mask = torch.zeros(2, 10)
    mask[0, :4] = 1
    mask[1, :7] = 1
    with torch.no_grad():
        out = xattn(x, ctx, mask)
        assert torch.equal(out, xattn(x, ctx, mask.long()))
        assert torch.equal(out, xattn(x, ctx, mask.bool()))


def test_cross_attention_masked_tokens_have_no_effect(xattn):
    x, ctx = torch.randn(1, 32, 2, 4, 4), torch.randn(1, 10, 1024)
    mask = torch.zeros(1, 10)
    mask[0, :3] = 1
    changed = ctx.clone()
    changed[:, 3:] = torch.randn(1, 7, 1024)
    with torch.no_grad():
        assert torch.equal(xattn(x, ctx, mask), xattn(x, changed, mask))


def test_cross_attention_all_zero_mask_is_uniform_not_nan(xattn):
    x, ctx = torch.randn(1, 32, 1, 2, 2), torch.randn(1, 5, 1024)
    with torch.no_grad():
        out = xattn(x, ctx, torch.zeros(1, 5))
    assert torch.isfinite(out).all()
    # Uniform attention over all keys = what zero logits give: zero the query projection.
    zero_q = copy.deepcopy(xattn)
    with torch.no_grad():
        zero_q.to_q.weight.zero_()
        assert torch.allclose(out, zero_q(x, ctx, None), rtol=0, atol=1e-6)


def test_cross_attention_rejects_unaligned_grid(xattn):
    with pytest.raises(RuntimeError, match="multiples of the patch size"):
        xattn(torch.randn(1, 32, 1, 3, 4), torch.randn(1, 5, 1024), None)


def test_relative_position_table_layout():
    rel = RelativePosition(units=1, max_relative_position=2)
    with torch.no_grad():
        rel.embeddings_table.copy_(torch.arange(5.0).reshape(5, 1))  # entry k holds offset k - 2
    table = rel(4)[..., 0]  # [a][b] = clamp(b - a, -2, 2) + 2
    expected = torch.tensor([[2, 3, 4, 4], [1, 2, 3, 4], [0, 1, 2, 3], [0, 0, 1, 2]], dtype=torch.float32)
    assert torch.equal(table, expected)


def test_upsample_is_pixel_duplication():
    up = Upsample2plus1D(1)
    with torch.no_grad():
        up.conv.weight.zero_()
        up.conv.weight[0, 0, 0, 1, 1] = 1.0  # identity kernel
        up.conv.bias.zero_()
        x = torch.arange(12.0).reshape(1, 1, 2, 2, 3)
        expected = x.repeat_interleave(2, dim=3).repeat_interleave(2, dim=4)
        assert torch.equal(up(x), expected)
