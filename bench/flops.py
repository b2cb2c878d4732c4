"""FLOPs of one encode and one decode (multiply-add = 2 FLOPs), counted on the meta device
(shapes only, nothing computed), for the effective-GFLOP/s figures of bench/vae.ts.

usage: flops.py CHECKPOINT T H W  ->  {"encode_gflop": ..., "decode_gflop": ...}
"""
import json
import os
import sys

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from videovae.checkpoint import read_state_dict, resolve_config  # noqa: E402
from videovae.model import VideoVAEPlus  # noqa: E402


def count(fn) -> float:
    mode = FlopCounterMode(display=False)
    with mode:
        fn()
    return mode.get_total_flops() / 1e9


def main():
    checkpoint, T, H, W = sys.argv[1], *map(int, sys.argv[2:5])
    config = resolve_config(read_state_dict(checkpoint), None)
    with torch.device("meta"):
        model = VideoVAEPlus(config).eval()
        x = torch.empty(1, 3, T, H, W)
    with torch.no_grad():
        st = model.stages()
        latent = {}

        def encode():
            mean, _ = st["spatial_encoder"](x, None, None, False)
            latent["z"] = st["temporal_encoder"](mean, None, None)[0]

        encode_gflop = count(encode)
        decode_gflop = count(lambda: st["spatial_decoder"](st["temporal_decoder"](latent["z"], None, None),
                                                           None, None, False))
    print(json.dumps({"encode_gflop": encode_gflop, "decode_gflop": decode_gflop}))


if __name__ == "__main__":
    main()
