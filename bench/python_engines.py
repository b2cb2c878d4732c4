"""Python runners of one checkpoint on one input: eager, torch.compile and the AOTInductor
packages of `export --engine aoti`, in float32 and bfloat16, each in a process of its own (so
that peak RSS is its own), timed like bench/python_eager.py (warm-up, best of N). Not a test.

    PYTHONPATH=python .venv/bin/python bench/python_engines.py CHECKPOINT [--size 16x256x256]
        [--repeat 2] [--threads 2] [--runners eager,compile,aoti] [--dtypes float32,bfloat16]
        [--cpu-isa avx2] [--aoti-bundle DIR]... [--input FILE] [--json]
    PYTHONPATH=python .venv/bin/python bench/python_engines.py CHECKPOINT --export-aoti DIR --dtype D [--device cpu|cuda] [--cpu-isa avx2]

Prints a table (or JSON lines): encode / decode seconds, the one-time cost (torch.compile's
first calls, or the aoti export of the four video packages), peak RSS. The AOTInductor packages are
loaded in Python here (torch._inductor.aoti_load_package, weights through load_constants).
--export-aoti writes the four video packages of CHECKPOINT as a bundle (what bench/engines.ts
times in Node and Python) and prints its export seconds.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import torch

ENCODE = ("spatial_encoder", "temporal_encoder")
DECODE = ("temporal_decoder", "spatial_decoder")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "python"))


def best(fn, repeat):
    out = fn()  # warm-up
    seconds = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        seconds = min(seconds, time.perf_counter() - start)
    return seconds, out


def export_video_packages(args, out: str) -> str:
    """An aoti bundle of the four video-path packages (the image path is not timed)."""
    from videovae.export import export_checkpoint
    torch.set_num_threads(args.threads)
    export_checkpoint(args.checkpoint, out, engine="aoti", aoti={
        "dtype": args.dtype, "device": args.device, "cpu_isa": args.cpu_isa, "packages": ENCODE + DECODE})
    return out


def run_one(args) -> dict:
    """One runner and dtype, in this process."""
    from videovae.checkpoint import load_model, sha256_file
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    if args.input:  # the video of bench/engines.ts's input file (what Node reads too)
        from safetensors.torch import load_file
        x = load_file(args.input)["video"].to(dtype)
        args.size = "x".join(str(v) for v in x.shape[2:])
    else:
        t, h, w = (int(v) for v in args.size.split("x"))
        x = (torch.rand(1, 3, t, h, w, generator=torch.Generator().manual_seed(0)) * 2 - 1).to(dtype)
    model = load_model(args.checkpoint)[0].eval()
    once = 0.0
    if args.runner == "aoti":
        from safetensors.torch import load_file
        out = (args.aoti_bundles or {}).get(args.dtype)
        if out is None:
            out = export_video_packages(args, os.path.join(tempfile.mkdtemp(prefix="aoti-bench-"), "bundle"))
        manifest = json.load(open(os.path.join(out, "manifest.json")))
        assert manifest["aoti"]["dtype"] == args.dtype, (out, manifest["aoti"]["dtype"])
        assert manifest["source_checkpoint_sha256"] == sha256_file(args.checkpoint), "bundle of another checkpoint"
        once = sum(manifest["aoti"]["export_seconds"][n] for n in ENCODE + DECODE)
        run = {}
        for name in ENCODE + DECODE:
            package = torch._inductor.aoti_load_package(os.path.join(out, manifest["files"][name]["path"]))
            weights = load_file(os.path.join(out, manifest["files"][name + ".weights"]["path"]))
            package.load_constants({k: weights[k] for k in package.get_constant_fqns()}, check_full_update=True)
            run[name] = package
        encode = lambda v: run["temporal_encoder"](run["spatial_encoder"](v)[0])[0]  # noqa: E731
        decode = lambda z: run["spatial_decoder"](run["temporal_decoder"](z)[0])[0]  # noqa: E731
    else:
        model = model.to(dtype)
        encode = lambda v: model.encode(v)[0]  # noqa: E731
        decode = lambda z: model.decode(z)  # noqa: E731
        if args.runner == "compile":
            import torch._inductor.config as inductor_config
            inductor_config.freezing = True  # what an expert would turn on for CPU inference
            encode, decode = torch.compile(encode), torch.compile(decode)
    with torch.inference_mode():
        if args.runner == "compile":  # the first calls compile
            start = time.perf_counter()
            latent = encode(x)
            decode(latent)
            once = time.perf_counter() - start
        encode_s, latent = best(lambda: encode(x), args.repeat)
        decode_s, _ = best(lambda: decode(latent), args.repeat)
    return {"runner": args.runner, "dtype": args.dtype, "size": args.size, "threads": args.threads,
            "encode_s": round(encode_s, 3), "decode_s": round(decode_s, 3), "once_s": round(once, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--size", default="16x256x256")
    ap.add_argument("--input", help="a safetensors file whose `video` [1, 3, T, H, W] is the input (instead of --size)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runners", default="eager,compile,aoti")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--cpu-isa", default="avx2")
    ap.add_argument("--aoti-bundle", action="append", default=[], metavar="DIR",
                    help="an `export --engine aoti` bundle of CHECKPOINT to time instead of exporting one (per dtype; "
                         "its manifest's export times are reported)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--export-aoti", metavar="DIR", help="only export the four video packages (--dtype) into DIR")
    ap.add_argument("--device", default="cpu", help="--export-aoti: the device the packages are compiled for (cpu, cuda)")
    ap.add_argument("--runner", help=argparse.SUPPRESS)
    ap.add_argument("--dtype", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.aoti_bundles = {json.load(open(os.path.join(d, "manifest.json")))["aoti"]["dtype"]: d for d in args.aoti_bundle}
    if args.export_aoti:
        manifest = json.load(open(os.path.join(export_video_packages(args, args.export_aoti), "manifest.json")))
        print(json.dumps({"export_s": round(sum(manifest["aoti"]["export_seconds"].values()), 1),
                          "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}), flush=True)
        return
    if args.runner:
        print(json.dumps(run_one(args)), flush=True)
        return
    rows = []
    for dtype in args.dtypes.split(","):
        for runner in args.runners.split(","):
            cmd = [sys.executable, os.path.abspath(__file__), args.checkpoint, "--size", args.size, "--repeat",
                   str(args.repeat), "--threads", str(args.threads), "--cpu-isa", args.cpu_isa,
                   "--runner", runner, "--dtype", dtype]
            cmd += [a for d in args.aoti_bundle for a in ("--aoti-bundle", d)]
            cmd += ["--input", args.input] if args.input else []
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                row = {"runner": runner, "dtype": dtype, "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
            else:
                row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row) if args.json else _line(row), flush=True)


def _line(row):
    if "error" in row:
        return "%-8s %-9s error: %s" % (row["runner"], row["dtype"], row["error"])
    return "%-8s %-9s encode %7.3f s  decode %7.3f s  once %6.1f s  peak RSS %5d MB" % (
        row["runner"], row["dtype"], row["encode_s"], row["decode_s"], row["once_s"], row["peak_rss_mb"])


if __name__ == "__main__":
    main()
