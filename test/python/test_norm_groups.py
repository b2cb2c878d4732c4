"""GroupNorm group counts for reduced-width models (config.norm_group_channels).

At 32 channels, the official GroupNorm(32) is a per-channel norm: it removes each channel's
mean and scale over the clip, so absolute colour cannot reach the output conv. These tests pin
the group rule, show that effect, and check that bundles (exact and fast) keep the groups.
"""
import copy
import json
import os

import pytest
import torch
import torch.nn.functional as F

from training import train as T
from videovae.bundle import load_bundle
from videovae.config import config_from_name
from videovae.export import write_bundle
from videovae.model import VideoVAEPlus

NARROW = dict(ch=32, ch_mult=(1, 1, 1, 1), num_res_blocks=1, hidden_channel=32)


def test_group_rule_keeps_official_widths_at_32_groups():
    official = config_from_name("config_16z")
    assert [official.norm_groups(c) for c in (32, 64, 128, 512)] == [32, 32, 32, 32]
    assert "norm_group_channels" not in official.widths()
    four = config_from_name("config_16z", norm_group_channels=4)
    assert [four.norm_groups(c) for c in (32, 64, 96, 128, 256, 512)] == [8, 16, 24, 32, 32, 32]
    assert four.widths()["norm_group_channels"] == 4
    with pytest.raises(ValueError, match="do not split"):
        config_from_name("config_16z", norm_group_channels=3).norm_groups(32)  # 10 groups of 3.2


def test_per_channel_norm_erases_a_flat_colour():
    # Two flat "frames" of different colours, as 32 feature channels each (4 copies per colour
    # component with different gains): one group per channel maps both to the same output.
    torch.manual_seed(0)
    gains = torch.rand(32, 1, 1, 1) + 0.5
    orange = torch.tensor([1.0, -0.06, -1.0]).repeat(11)[:32].view(32, 1, 1, 1)
    grey = torch.full((32, 1, 1, 1), 0.3)
    feats = [(c * gains + torch.randn(32, 1, 1, 1)).expand(32, 2, 8, 8)[None] for c in (orange, grey)]
    per_channel = [F.group_norm(f, 32, eps=1e-6) for f in feats]
    assert torch.equal(per_channel[0], per_channel[1])  # both all zero: the colour is gone
    grouped = [F.group_norm(f, 8, eps=1e-6) for f in feats]
    assert float((grouped[0] - grouped[1]).abs().max()) > 0.5


def test_model_and_bundles_keep_the_groups(tmp_path):
    cfg = config_from_name("config_16z", norm_group_channels=4, **NARROW)
    torch.manual_seed(0)
    model = VideoVAEPlus(cfg).eval()
    groups = {m.num_channels: m.num_groups for m in model.modules() if isinstance(m, torch.nn.GroupNorm)}
    assert groups == {32: 8, 64: 16, 128: 32}
    official = VideoVAEPlus(config_from_name("config_16z", **NARROW)).eval()
    official.load_state_dict(model.state_dict())  # same weights, official groups
    x = torch.rand(1, 3, 4, 16, 16) * 2 - 1
    with torch.no_grad():
        ref = model(x)[0]
        assert float((official(x)[0] - ref).abs().max()) > 1e-3  # the groups matter
    for mode in ("exact", "fast"):
        out = str(tmp_path / mode)
        manifest = write_bundle(copy.deepcopy(model), out, mode=mode)
        assert manifest["widths"]["norm_group_channels"] == 4
        with open(os.path.join(out, "manifest.json")) as fh:
            assert json.load(fh)["widths"]["norm_group_channels"] == 4
        b = load_bundle(out)
        with torch.no_grad():
            got = b.decode(b.encode(x))
        assert float((got - ref).abs().max()) < 1e-4, mode


def test_training_config_small_gn4_matches_small_weights():
    small, gn4 = T.model_config("small"), T.model_config("small-gn4")
    assert gn4.norm_group_channels == 4 and small.norm_group_channels == 0
    shapes = {k: v.shape for k, v in VideoVAEPlus(small).state_dict().items()}
    assert shapes == {k: v.shape for k, v in VideoVAEPlus(gn4).state_dict().items()}

