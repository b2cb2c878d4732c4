"""Mid-block spatial attention (AttnBlock3D, C=512) alone at 720p: exact vs query-chunked.

    PYTHONPATH=python .venv/bin/python python/bench_attention.py [--frames 1] [--height 720 --width 1280]

Each mode runs in its own subprocess so that peak RSS (ru_maxrss) is attributable; the
reported "extra" is the peak minus the RSS just before the call (weights + input allocated).
Then both modes run in one process to measure the max deviation of chunked vs exact.
Random weights with the default init; the latent grid is (H/8) x (W/8).
"""
import argparse
import json
import resource
import subprocess
import sys
import time

import torch


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _setup(args):
    from videovae.attention import AttnBlock3D
    torch.manual_seed(0)
    block = AttnBlock3D(512).eval().requires_grad_(False)
    x = torch.randn(1, 512, args.frames, args.height // 8, args.width // 8)
    return block, x


def _run_one(args) -> dict:
    torch.set_num_threads(args.threads)
    block, x = _setup(args)
    if args.mode == "chunked":
        block.query_chunk_elements = args.chunk_elements
    with torch.no_grad():
        block(x[:, :, :, :8, :8])  # warm-up on a tiny input (allocator, kernels)
        before = _rss_mb()
        start = time.perf_counter()
        block(x)
        seconds = time.perf_counter() - start
    peak = _rss_mb()
    return {"mode": args.mode, "seconds": round(seconds, 2), "rss_before_mb": round(before),
            "rss_peak_mb": round(peak), "extra_peak_mb": round(peak - before)}


def _compare(args) -> dict:
    torch.set_num_threads(args.threads)
    block, x = _setup(args)
    with torch.no_grad():
        exact = block(x)
        block.query_chunk_elements = args.chunk_elements
        chunked = block(x)
    diff = (chunked - exact).abs()
    return {"max_abs_diff": diff.max().item(), "max_abs_value": exact.abs().max().item(),
            "bit_identical": bool(torch.equal(chunked, exact))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=1)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunk-elements", type=int, default=1 << 26)
    ap.add_argument("--mode", choices=("exact", "chunked", "compare", "all"), default="all")
    args = ap.parse_args()
    if args.mode == "all":
        results = {"tokens_per_frame": (args.height // 8) * (args.width // 8), "frames": args.frames,
                   "threads": args.threads, "chunk_elements": args.chunk_elements}
        for mode in ("exact", "chunked", "compare"):
            cmd = [sys.executable, __file__, "--mode", mode] + [
                "--frames", str(args.frames), "--height", str(args.height), "--width", str(args.width),
                "--threads", str(args.threads), "--chunk-elements", str(args.chunk_elements)]
            results[mode] = json.loads(subprocess.check_output(cmd).decode().strip().splitlines()[-1])
        print(json.dumps(results, indent=2))
    else:
        print(json.dumps(_run_one(args) if args.mode != "compare" else _compare(args)))


if __name__ == "__main__":
    main()
