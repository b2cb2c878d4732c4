"""The Python side of bench/vae.ts and bench/gpu.ts: our eager PyTorch VideoVAE+ on the same
checkpoint and input, timed the same way (warm-up, then the best of N runs), with peak RSS.

usage: python_eager.py CHECKPOINT INPUT REPEAT THREADS [DEVICE [DTYPE]]  ->  one JSON line
       (INPUT: a safetensors file with a float32 `video` [1,3,T,H,W]; DEVICE cpu or cuda[:N];
       DTYPE float32, bfloat16 or float16: weights and input cast to it, as Node's dtype option)
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
device = torch.device(sys.argv[5] if len(sys.argv) > 5 else "cpu")
dtype = getattr(torch, sys.argv[6] if len(sys.argv) > 6 else "float32")
torch.set_num_threads(threads)
if device.type == "cuda":  # float32 means IEEE float32, as in the addon
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
model, _ = load_model(checkpoint)
model = model.eval().to(device=device, dtype=dtype)
x = load_file(input_file)["video"].to(device=device, dtype=dtype)


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best(fn):
    out = fn()  # warm-up (cuDNN algorithm choice, oneDNN primitive caches)
    sync()
    seconds = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        sync()
        seconds = min(seconds, time.perf_counter() - start)
    return seconds, out


with torch.inference_mode():
    encode_s, latent = best(lambda: model.encode(x, sample_posterior=False)[0])
    decode_s, _ = best(lambda: model.decode(latent))
result = {
    "encode_s": encode_s,
    "decode_s": decode_s,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}
if device.type == "cuda":
    result["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2 ** 20
print(json.dumps(result))
