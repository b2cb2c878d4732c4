"""Each fast-mode lever measured on its own, in Python, on one checkpoint and input.

Variants: the exact model (eager), the fast model with all levers (eager), with all levers
but one, and the fast stages scripted, frozen and frozen + optimize_for_inference (each saved
and reloaded, as a bundle would be). Repeats are interleaved (round-robin) and the minimum is
kept, so that other load on the machine hurts every variant alike. Not a test.

    PYTHONPATH=python .venv/bin/python bench/levers.py CHECKPOINT [--size 8x128x128] [--repeat 3]
        [--threads 2] [--only exact,fast,...] [--json]
"""
import argparse
import io
import json
import os
import sys
import time
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from videovae.checkpoint import load_model  # noqa: E402
from videovae.fast import LEVERS, make_fast  # noqa: E402
from videovae.scripting import compile_stage  # noqa: E402

ENCODE = ("spatial_encoder", "temporal_encoder")
DECODE = ("temporal_decoder", "spatial_decoder")


def reload(module):
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    buf.seek(0)
    return torch.jit.load(buf)


def variants(checkpoint):
    """name -> dict of the four stage callables."""
    out = {"exact": load_model(checkpoint)[0].eval().stages()}
    out["fast"] = make_fast(load_model(checkpoint)[0]).stages()
    for lever in LEVERS:
        out["fast-no-" + lever] = make_fast(load_model(checkpoint)[0], {lever: False}).stages()
    for how in ("script", "freeze", "optimize"):
        stages = make_fast(load_model(checkpoint)[0]).stages()
        try:
            out["fast-" + how] = {name: reload(compile_stage(stage, how)) for name, stage in stages.items()}
        except RuntimeError as e:  # report, keep measuring the rest
            print("fast-%s failed: %s" % (how, str(e).strip().splitlines()[0]), file=sys.stderr)
    return out


def run(stages, x):
    mean, _ = stages["spatial_encoder"](x, None, None, False)
    latent, _ = stages["temporal_encoder"](mean, None, None)
    t0 = time.perf_counter()
    z = stages["temporal_decoder"](latent, None, None)
    stages["spatial_decoder"](z, None, None, False)
    return t0, latent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--size", default="8x128x128")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", help="comma-separated variant names")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    T, H, W = map(int, args.size.split("x"))
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, T, H, W, generator=gen) * 2 - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        all_variants = variants(args.checkpoint)
    if args.only:
        all_variants = {k: v for k, v in all_variants.items() if k in args.only.split(",")}
    best = {name: [float("inf"), float("inf")] for name in all_variants}
    with torch.inference_mode():
        for name, stages in all_variants.items():
            run(stages, x)  # warm-up (TorchScript profiling runs, oneDNN primitive caches)
        for _ in range(args.repeat):
            for name, stages in all_variants.items():
                start = time.perf_counter()
                mid, _ = run(stages, x)
                end = time.perf_counter()
                best[name][0] = min(best[name][0], mid - start)
                best[name][1] = min(best[name][1], end - mid)
    exact = sum(best["exact"]) if "exact" in best else None
    result = {name: {"encode_s": e, "decode_s": d, "speedup_vs_exact": exact / (e + d) if exact else None}
              for name, (e, d) in best.items()}
    if args.json:
        print(json.dumps({"size": args.size, "threads": args.threads, "variants": result}))
        return
    print("%s, %d threads, min of %d interleaved repeats; load average %.2f" %
          (args.size, args.threads, args.repeat, os.getloadavg()[0]))
    print("%-22s %9s %9s %9s" % ("variant", "encode s", "decode s", "vs exact"))
    for name, r in result.items():
        ratio = "%.2fx" % r["speedup_vs_exact"] if r["speedup_vs_exact"] else "-"
        print("%-22s %9.3f %9.3f %9s" % (name, r["encode_s"], r["decode_s"], ratio))


if __name__ == "__main__":
    main()
