"""The Python side of bench/vae.ts: our eager PyTorch VideoVAE+ on the same checkpoint and
input, timed the same way (warm-up, then the best of N runs), with peak RSS.

usage: python_eager.py CHECKPOINT INPUT REPEAT THREADS  ->  one JSON line on stdout
       (INPUT: a safetensors file with a float32 `video` [1,3,T,H,W])
"""
import json
import resource
import sys
import time

import torch
from safetensors.torch import load_file

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0] + "/python")
from videovae.checkpoint import load_model  # noqa: E402

checkpoint, input_file, repeat, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
model, _ = load_model(checkpoint)
model.eval()
x = load_file(input_file)["video"]


def best(fn):
    out = fn()  # warm-up
    seconds = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        seconds = min(seconds, time.perf_counter() - start)
    return seconds, out


with torch.inference_mode():
    encode_s, latent = best(lambda: model.encode(x, sample_posterior=False)[0])
    decode_s, _ = best(lambda: model.decode(latent))
print(json.dumps({
    "encode_s": encode_s,
    "decode_s": decode_s,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
