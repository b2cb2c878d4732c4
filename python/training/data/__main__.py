"""Inspect the training data.

    PYTHONPATH=python python -m training.data info
    PYTHONPATH=python python -m training.data dump --out /tmp/clips -n 8 [--kind large]
    PYTHONPATH=python python -m training.data bench [--frames 16 --size 128 --threads 1]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch

from .pool import ImagePool
from .synth import KINDS, ClipSynthesizer


def write_mp4(frames_u8: torch.Tensor, path: str, fps: int = 12, crf: int = 18) -> bool:
    """Encode uint8 [T,H,W,3] as H.264 mp4 with ffmpeg (False when missing)."""
    ff = shutil.which("ffmpeg")
    if ff is None:
        return False
    T, H, W, _ = frames_u8.shape
    cmd = [ff, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{W}x{H}", "-r", str(fps), "-i", "-", "-c:v", "libx264",
           "-preset", "slow", "-crf", str(crf), "-pix_fmt", "yuv420p",
           "-movflags", "+faststart", path]
    subprocess.run(cmd, input=frames_u8.contiguous().numpy().tobytes(), check=True)
    return True


def write_sheet(frames_u8: torch.Tensor, path: str, cols: int = 8) -> None:
    """All frames of a clip tiled into one PNG."""
    from PIL import Image

    T, H, W, _ = frames_u8.shape
    cols = min(cols, T)
    rows = (T + cols - 1) // cols
    sheet = np.zeros((rows * (H + 2), cols * (W + 2), 3), np.uint8)
    for t in range(T):
        r, c = divmod(t, cols)
        sheet[r * (H + 2):r * (H + 2) + H, c * (W + 2):c * (W + 2) + W] = frames_u8[t].numpy()
    Image.fromarray(sheet).save(path)


def cmd_info(args):
    pool = ImagePool(args.pool)
    m = pool.manifest
    print(json.dumps({k: m[k] for k in ("count", "counts", "max_side", "duplicates_removed",
                                         "package_versions")}, indent=1))
    per = {}
    for r in m["images"]:
        per[r["source"] + ":" + r["category"]] = per.get(r["source"] + ":" + r["category"], 0) + 1
    for k in sorted(per):
        print(f"{per[k]:5d}  {k}")


def cmd_dump(args):
    pool = ImagePool(args.pool)
    synth = ClipSynthesizer(pool)
    os.makedirs(args.out, exist_ok=True)
    for i in range(args.n):
        rng = np.random.default_rng([args.seed, i])
        kind = args.kind or KINDS[int(rng.choice(4, p=synth._kind_p))]
        clip = synth.clip(rng, args.frames, args.size, args.size, kind=kind)
        stem = os.path.join(args.out, f"clip{i:03d}_{kind}")
        write_sheet(clip, stem + ".png")
        ok = write_mp4(clip, stem + ".mp4", fps=args.fps)
        print(stem + (".mp4/.png" if ok else ".png (no ffmpeg)"))


def cmd_bench(args):
    torch.set_num_threads(args.threads)
    pool = ImagePool(args.pool)
    t0 = time.perf_counter()
    pool.preload()
    t_load = time.perf_counter() - t0
    synth = ClipSynthesizer(pool)
    for i in range(5):   # warm-up
        synth.clip(np.random.default_rng([99, i]), args.frames, args.size, args.size)
    res = {}
    kinds = [None] + list(KINDS) if args.per_kind else [None]
    for kind in kinds:
        best_wall = best_cpu = 0.0
        for rep in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(args.n):
                synth.clip(np.random.default_rng([args.seed, rep, i]), args.frames, args.size,
                           args.size, kind=kind)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            best_wall, best_cpu = max(best_wall, args.n / dt), max(best_cpu, args.n / dc)
        res[kind or "mix"] = (best_wall, best_cpu)
    print(f"pool: {len(pool)} images decoded in {t_load:.1f}s")
    print(f"{args.frames}x{args.size}x{args.size} clips, torch threads={args.threads}, "
          f"best of {args.repeats} x {args.n}")
    for k, (w, c) in res.items():
        print(f"{k:8s} {w:7.1f} clips/s wall   {c:7.1f} clips per CPU-second")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m training.data")
    ap.add_argument("--pool", default=None, help="pool folder (default: .cache/training-data/pool)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info")
    d = sub.add_parser("dump")
    d.add_argument("--out", required=True)
    d.add_argument("-n", type=int, default=8)
    d.add_argument("--frames", type=int, default=16)
    d.add_argument("--size", type=int, default=128)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--fps", type=int, default=12)
    d.add_argument("--kind", choices=KINDS, default=None)
    b = sub.add_parser("bench")
    b.add_argument("-n", type=int, default=100)
    b.add_argument("--frames", type=int, default=16)
    b.add_argument("--size", type=int, default=128)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--per-kind", action="store_true")
    b.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    {"info": cmd_info, "dump": cmd_dump, "bench": cmd_bench}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
