"""Copy a share of the training pool's images, within a byte budget, into a new pool directory.

    PYTHONPATH=python python -m training.data.subset_pool --out .cache/gpu-pool --budget-mib 31

For a lent GPU machine, where the working tree and everything carried must fit in 64 MiB. The
held-out images (training.train.is_heldout) are left out: evaluation happens where the whole
pool is. The images are drawn in a fixed pseudo-random order (crc32 of the path), so each
category keeps about its share.
"""
import argparse
import json
import os
import shutil
import zlib

from .pool import default_pool_dir


def choose(records, sizes, budget: int):
    chosen, used = [], 0
    for rec in sorted(records, key=lambda r: zlib.crc32(("subset:" + r["path"]).encode("utf-8"))):
        if used + sizes[rec["path"]] <= budget:
            chosen.append(rec)
            used += sizes[rec["path"]]
    return chosen, used


def main(argv=None) -> int:
    from ..train import is_heldout

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pool", default=None, help="source pool (default: the training pool)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-mib", type=float, required=True, help="image bytes to copy, at most")
    args = ap.parse_args(argv)

    src = args.pool or default_pool_dir()
    with open(os.path.join(src, "manifest.json")) as fh:
        manifest = json.load(fh)
    train = [r for r in manifest["images"] if not is_heldout(r["path"])]
    sizes = {r["path"]: os.path.getsize(os.path.join(src, r["path"])) for r in train}
    chosen, used = choose(train, sizes, int(args.budget_mib * 2 ** 20))
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    for rec in chosen:
        dst = os.path.join(args.out, rec["path"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(src, rec["path"]), dst)
    sub = {k: v for k, v in manifest.items() if k not in ("images", "sources")}
    sub.update(images=chosen, count=len(chosen), subset_of=os.path.abspath(src))
    sub["counts"] = {c: sum(r["category"] == c for r in chosen) for c in manifest.get("counts", {})}
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(sub, fh)
    print("%d of %d training images (%.1f MiB) -> %s: %s" % (len(chosen), len(train), used / 2 ** 20, args.out,
                                                             json.dumps(sub["counts"])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
