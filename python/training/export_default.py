"""Export a training checkpoint as the shipped default bundle (assets/default-bundle/).

    PYTHONPATH=python python -m training.export_default \
        [--checkpoint .cache/train-t48/checkpoint.pt] [--out assets/default-bundle] \
        [--dtype int8|float16|float32] [--mode exact|fast] [--no-eval] [--max-mb 20]

Writes, atomically (temporary sibling directory, then rename):
  - the four TorchScript stages and manifest.json, via videovae.export.write_bundle. With
    --dtype float16: the weights are stored in half precision and manifest "dtype" is
    "float16": loaders convert the modules to float32 after loading (videovae.bundle.load_bundle
    does; all computation is float32). With --dtype int8 (default; the shipped model) the conv and
    linear weights go to an int8 side file with per-channel scales (videovae.quantize; the rest
    stays float16): half the size, for a model twice as wide in the same 20 MB.
  - resume.json: the compact resume point (training config, settings, step, data position,
    running PSNR, held-out evaluation). With the bundle's weights it is all that a later session
    needs to continue training (`python -m training.train --resume --init-bundle DIR`); the
    optimizer state is not kept (see TRAINING.md).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Dict, Optional

import torch

from videovae.checkpoint import sha256_file
from videovae.export import _move_into_place, write_bundle
from videovae.model import STAGE_NAMES
from videovae.quantize import quantize_bundle

from .train import (CHECKPOINT, EVAL_SETS, build_model, count_params, evaluate, heldout_set, load_checkpoint,
                    split_pool)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "assets", "default-bundle")
DEFAULT_CHECKPOINT = os.path.join(ROOT, ".cache", "train-t48", CHECKPOINT)
RESUME_FILE = "resume.json"
RESUME_FORMAT = "videovae-train-resume/1"


def dir_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def export(checkpoint: str, out_dir: str, dtype: str = "int8", eval_sets=None,
           max_bytes: Optional[int] = 20_000_000, overwrite: bool = True, mode: str = "exact") -> Dict[str, object]:
    ck = load_checkpoint(checkpoint)
    model = build_model(ck["config"])
    model.load_state_dict(ck["model"], strict=True)
    model.eval()
    heldout = {}
    if eval_sets:
        heldout["float32"] = evaluate(model, eval_sets)
    if dtype == "float16":
        model.half()
    elif dtype not in ("float32", "int8"):  # int8: quantized from the float32 bundle below
        raise ValueError("dtype must be float16, int8 or float32, got %r" % (dtype,))

    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not overwrite:
        raise FileExistsError(out_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(out_dir) + ".export-", dir=parent)
    try:
        staged = os.path.join(tmp, "bundle")
        # mode "fast" keeps the exact state-dict keys, so resuming from the bundle still works.
        manifest = write_bundle(model, staged, attention="exact", checkpoint_sha256=sha256_file(checkpoint),
                                mode=mode)
        if dtype == "int8":
            manifest = quantize_bundle(staged, STAGE_NAMES)  # weights int8, the rest float16
        else:
            manifest["dtype"] = dtype  # storage dtype; loaders compute in float32
        with open(os.path.join(staged, "manifest.json"), "w") as fh:
            json.dump(manifest, fh, indent=2)
            fh.write("\n")
        if eval_sets and dtype != "float32":
            from videovae.bundle import load_bundle  # noqa: F401  (the bundle as shipped)
            m32 = build_model(ck["config"])
            from .train import weights_from_bundle
            m32.load_state_dict(weights_from_bundle(staged), strict=True)
            heldout[dtype] = evaluate(m32, eval_sets)
        resume = {
            "format": RESUME_FORMAT,
            "config": ck["config"],
            "widths": ck["widths"],
            "params": count_params(model),
            "weights_dtype": dtype,
            "settings": ck["settings"],
            "state": ck["state"],
            "source_checkpoint_sha256": manifest["source_checkpoint_sha256"],
            "heldout_eval": heldout,
            "heldout_sets": [list(s) for s in EVAL_SETS] if eval_sets else None,
        }
        with open(os.path.join(staged, RESUME_FILE), "w") as fh:
            json.dump(resume, fh, indent=1)
            fh.write("\n")
        size = dir_size(staged)
        if max_bytes is not None and size > max_bytes:
            raise RuntimeError("bundle is %.2f MB, over the %.2f MB limit" % (size / 1e6, max_bytes / 1e6))
        os.chmod(staged, 0o755)
        _move_into_place(staged, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"out": out_dir, "bytes": dir_size(out_dir), "step": ck["state"]["step"], "heldout": heldout,
            "manifest": manifest}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m training.export_default", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--dtype", choices=("int8", "float16", "float32"), default="int8")
    ap.add_argument("--mode", choices=("exact", "fast"), default="exact",
                    help="bundle export mode (videovae.fast); fast is within 1e-4 of exact and faster on CPU")
    ap.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    ap.add_argument("--pool", default=None)
    ap.add_argument("--max-mb", type=float, default=20.0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    sets = None if args.no_eval else heldout_set(split_pool(args.pool)[1])
    res = export(args.checkpoint, args.out, args.dtype, sets, int(args.max_mb * 1e6), mode=args.mode)
    print("wrote %s: %.2f MB, step %d" % (res["out"], res["bytes"] / 1e6, res["step"]))
    for k, v in res["heldout"].items():
        print("held-out (%s weights): %s" % (k, " ".join("%s=%.4g" % kv for kv in sorted(v.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
