"""The Python side of bench/vae.ts and bench/gpu.ts: our eager PyTorch VideoVAE+ on the same
checkpoint and input, timed the same way (warm-up, then the best of N runs), with peak RSS.

usage: python_eager.py CHECKPOINT INPUT REPEAT THREADS [DEVICE [DTYPE]] [--compile] [--cudnn-benchmark]
       ->  one JSON line
       (INPUT: a safetensors file with a float32 `video` [1,3,T,H,W]; DEVICE cpu or cuda[:N];
       DTYPE float32, bfloat16 or float16: weights and input cast to it, as Node's dtype option;
       --compile: encode and decode through torch.compile (default inductor settings), the
       first call, which compiles, reported as compile_encode_s / compile_decode_s;
       --cudnn-benchmark: torch.backends.cudnn.benchmark = True)
"""
import json
import resource
import sys
import time

import torch
from safetensors.torch import load_file

sys.path.insert(0, __file__.rsplit("/bench/", 1)[0] + "/python")
from videovae.checkpoint import load_model  # noqa: E402

flags = {a for a in sys.argv[1:] if a.startswith("--")}
args = [a for a in sys.argv[1:] if not a.startswith("--")]
checkpoint, input_file, repeat, threads = args[0], args[1], int(args[2]), int(args[3])
device = torch.device(args[4] if len(args) > 4 else "cpu")
dtype = getattr(torch, args[5] if len(args) > 5 else "float32")
compiled = "--compile" in flags
torch.set_num_threads(threads)
torch.backends.cudnn.benchmark = "--cudnn-benchmark" in flags
if device.type == "cuda":  # float32 means IEEE float32, as in the addon
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
model, _ = load_model(checkpoint)
model = model.eval().to(device=device, dtype=dtype)
x = load_file(input_file)["video"].to(device=device, dtype=dtype)


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize(device)


first_s = {}


def best(fn, name):
    start = time.perf_counter()
    out = fn()  # warm-up (cuDNN algorithm choice, oneDNN primitive caches, compilation)
    sync()
    first_s[name] = time.perf_counter() - start
    seconds = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        sync()
        seconds = min(seconds, time.perf_counter() - start)
    return seconds, out


def encode(v):
    return model.encode(v, sample_posterior=False)[0]


decode = model.decode
if compiled:
    encode, decode = torch.compile(encode), torch.compile(decode)

with torch.inference_mode():
    encode_s, latent = best(lambda: encode(x), "encode")
    decode_s, _ = best(lambda: decode(latent), "decode")
result = {
    "encode_s": encode_s,
    "decode_s": decode_s,
    "first_encode_s": first_s["encode"],
    "first_decode_s": first_s["decode"],
    "compiled": compiled,
    "cudnn_benchmark": torch.backends.cudnn.benchmark,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}
if device.type == "cuda":
    result["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2 ** 20
print(json.dumps(result))
