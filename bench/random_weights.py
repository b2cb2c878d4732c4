"""A full-width VideoVAE+ checkpoint with seeded random weights, for timing runs (the FLOPs
are those of the released model; the values are not). Seconds, where the parity fixtures'
synthetic checkpoint takes minutes to generate.

usage: random_weights.py CONFIG OUT [SEED [CH]]   e.g. random_weights.py config_16z /tmp/w.ckpt
       CH: a reduced width (ch and hidden_channel), e.g. 32 for the parity fixtures' ch32 models
"""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0] + "/python")
from videovae.config import config_from_name  # noqa: E402
from videovae.model import VideoVAEPlus  # noqa: E402

name, out = sys.argv[1], sys.argv[2]
torch.manual_seed(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
widths = {"ch": int(sys.argv[4]), "hidden_channel": int(sys.argv[4])} if len(sys.argv) > 4 else {}
model = VideoVAEPlus(config_from_name(name, **widths))  # PyTorch's default init: activations stay O(1)
torch.save({"state_dict": model.state_dict()}, out)
print("wrote %s: %.1fM parameters" % (out, sum(p.numel() for p in model.parameters()) / 1e6))
