"""The Python side of bench/vae.ts: our eager PyTorch VideoVAE+ on the same checkpoint and
input size, timed the same way (warm-up, then the mean of N runs), with peak RSS.

usage: python_eager.py CHECKPOINT T H W REPEAT THREADS  ->  one JSON line on stdout
"""
import json
import resource
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0] + "/python")
from videovae.checkpoint import load_model  # noqa: E402

checkpoint, T, H, W, repeat, threads = sys.argv[1], *map(int, sys.argv[2:7])
torch.set_num_threads(threads)
model, _ = load_model(checkpoint)
model.eval()
x = torch.rand(1, 3, T, H, W) * 2 - 1


def timed(fn):
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn()
    return (time.perf_counter() - start) / repeat, out


with torch.inference_mode():
    encode_s, latent = timed(lambda: model.encode(x, sample_posterior=False)[0])
    decode_s, _ = timed(lambda: model.decode(latent))
print(json.dumps({
    "encode_s": encode_s,
    "decode_s": decode_s,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
