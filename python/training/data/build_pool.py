"""Build the training image pool from downloaded Debian packages.

    python -m training.data.build_pool --debs DIR --out DIR [--max-side 512]

(run with ``PYTHONPATH=python``; scripts/fetch-training-data.sh does all of it.)

For every entry of ``sources.SOURCES`` the matching members are streamed out of
the .deb (``dpkg-deb --fsys-tarfile``, or a small pure-Python ar reader when
dpkg-deb is missing), decoded with Pillow, filtered (size, photo-likeness,
normal maps), deduplicated with a 64-bit difference hash, resized to at most
``--max-side`` pixels and written as

    OUT/scene/*.jpg  OUT/texture/*.jpg  OUT/astro/*.jpg   (RGB, quality 92)
    OUT/object/*.png                                      (RGBA cut-outs)
    OUT/manifest.json                                     (one record per image)

The build is deterministic: the same .debs give the same pool.
"""
import argparse
import fnmatch
import glob
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

try:
    from PIL import Image
except ImportError:  # pragma: no cover
    sys.exit("Pillow is required to build the pool: pip install pillow")

from .sources import SOURCES, Source

Image.MAX_IMAGE_PIXELS = None
POOL_VERSION = 1


# ----------------------------------------------------------------------------
# .deb reading

def find_deb(deb_dir: str, package: str) -> Optional[str]:
    cands = sorted(glob.glob(os.path.join(deb_dir, package + "_*.deb")))
    return cands[-1] if cands else None


def deb_version(deb_path: str) -> str:
    base = os.path.basename(deb_path)
    return base.split("_")[1].replace("%3a", ":")


def _ar_members(path: str) -> Iterator[Tuple[str, bytes]]:
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise ValueError(path + " is not an ar archive")
        while True:
            hdr = f.read(60)
            if len(hdr) < 60:
                return
            name = hdr[:16].decode().strip().rstrip("/")
            size = int(hdr[48:58].decode().strip())
            data = f.read(size)
            if size % 2:
                f.read(1)
            yield name, data


def _data_tar_stream(deb_path: str):
    """Return (fileobj, closer) for the deb's data tarball (uncompressed)."""
    if shutil.which("dpkg-deb"):
        proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb_path],
                                stdout=subprocess.PIPE)
        return proc.stdout, proc
    for name, data in _ar_members(deb_path):
        if name.startswith("data.tar"):
            if name.endswith(".zst"):
                raise RuntimeError("data.tar.zst needs dpkg-deb or zstd")
            return io.BytesIO(data), None
    raise RuntimeError("no data.tar in " + deb_path)


def iter_members(deb_path: str, include: List[str], exclude: List[str]
                 ) -> Iterator[Tuple[str, bytes]]:
    fobj, proc = _data_tar_stream(deb_path)
    try:
        with tarfile.open(fileobj=fobj, mode="r|*") as tar:
            for m in tar:
                if not m.isfile():
                    continue
                name = m.name[2:] if m.name.startswith("./") else m.name
                if not any(fnmatch.fnmatchcase(name, g) for g in include):
                    continue
                if any(fnmatch.fnmatchcase(name, g) for g in exclude):
                    continue
                f = tar.extractfile(m)
                if f is not None:
                    yield name, f.read()
    finally:
        if proc is not None:
            proc.stdout.close()
            proc.wait()


# ----------------------------------------------------------------------------
# image analysis

def photo_stats(im: Image.Image) -> Dict[str, float]:
    """Cheap statistics that separate photographs from clip-art / UI / maps."""
    rgba = im.convert("RGBA")
    t = np.asarray(rgba.resize((96, 96), Image.NEAREST))
    opaque = t[..., 3] > 250
    cols = t[..., :3][opaque]
    n = len(cols)
    if n == 0:
        return dict(uniq=0.0, std=0.0, opaque=0.0, normal_map=0.0)
    gray = bool((cols[:, 0] == cols[:, 1]).all() and (cols[:, 1] == cols[:, 2]).all())
    if gray:
        uniq = len(np.unique(cols[:, 0])) / 256.0
    else:
        packed = (cols[:, 0].astype(np.int32) << 16) | (cols[:, 1].astype(np.int32) << 8) | cols[:, 2]
        uniq = len(np.unique(packed)) / float(n)
    med = np.median(cols, axis=0)
    bluish = (cols[:, 2].astype(np.int16) >= np.maximum(cols[:, 0], cols[:, 1])).mean()
    normal_map = float(med[2] > 170 and 80 < med[0] < 180 and 80 < med[1] < 180
                       and bluish > 0.9)
    return dict(uniq=float(uniq), std=float(cols.std(axis=0).mean()), opaque=float(opaque.mean()),
                normal_map=normal_map, gray=float(gray))


def accept(src: Source, im: Image.Image, st: Dict[str, float]) -> Tuple[bool, str]:
    w, h = im.size
    if min(w, h) < src.min_side:
        return False, "small"
    if max(w, h) > 6 * min(w, h):
        return False, "aspect"
    cat = src.category
    if cat == "texture" and st["normal_map"]:
        return False, "normal-map"
    if cat == "object":
        if st["opaque"] > 0.97 or st["opaque"] < 0.08:
            return False, "no-alpha-shape"
    elif st["opaque"] < 0.97:
        return False, "transparent"
    if cat == "astro":
        return (st["std"] >= 3.0, "flat")
    if st["std"] < 8.0:
        return False, "flat"
    if not src.photo_filter:
        return True, ""
    thr = {"scene": 0.15, "texture": 0.25, "object": 0.45}[cat]
    if st["uniq"] < thr:
        return False, "clipart"
    return True, ""


def dhash(im: Image.Image) -> int:
    g = np.asarray(im.convert("L").resize((9, 8), Image.BILINEAR), dtype=np.int16)
    bits = (g[:, 1:] > g[:, :-1]).flatten()
    v = 0
    for b in bits:
        v = (v << 1) | int(b)
    return v


def resize_max(im: Image.Image, max_side: int) -> Image.Image:
    w, h = im.size
    s = max_side / float(max(w, h))
    if s >= 1.0:
        return im
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    if im.mode == "RGBA":
        # resize premultiplied to avoid dark fringes, then un-premultiply
        a = np.asarray(im, dtype=np.float32) / 255.0
        a[..., :3] *= a[..., 3:4]
        pm = Image.fromarray((a * 255.0 + 0.5).astype(np.uint8), "RGBA")
        pm = pm.resize((nw, nh), Image.LANCZOS)
        b = np.asarray(pm, dtype=np.float32) / 255.0
        alpha = b[..., 3:4]
        b[..., :3] = np.where(alpha > 1e-3, b[..., :3] / np.maximum(alpha, 1e-3), 0.0)
        return Image.fromarray((np.clip(b, 0, 1) * 255.0 + 0.5).astype(np.uint8), "RGBA")
    return im.resize((nw, nh), Image.LANCZOS)


def crop_to_alpha(im: Image.Image, pad: int = 2) -> Image.Image:
    a = np.asarray(im.getchannel("A"))
    ys, xs = np.nonzero(a > 8)
    if len(xs) == 0:
        return im
    x0, x1 = max(0, xs.min() - pad), min(im.width, xs.max() + 1 + pad)
    y0, y1 = max(0, ys.min() - pad), min(im.height, ys.max() + 1 + pad)
    return im.crop((x0, y0, x1, y1))


# ----------------------------------------------------------------------------

def build(deb_dir: str, out_dir: str, max_side: int = 512, verbose: bool = True) -> dict:
    candidates = []  # dicts with the image kept in memory until dedup
    stats: Dict[str, Dict[str, int]] = {}
    versions: Dict[str, str] = {}
    for si, src in enumerate(SOURCES):
        deb = find_deb(deb_dir, src.package)
        key = f"{src.package}:{src.category}"
        st_src = stats.setdefault(key, {"matched": 0, "accepted": 0, "kept": 0})
        if deb is None:
            print(f"[pool] missing .deb for {src.package}, skipped", file=sys.stderr)
            continue
        versions[src.package] = deb_version(deb)
        groups: Dict[str, dict] = {}
        for name, data in iter_members(deb, src.include, src.exclude):
            st_src["matched"] += 1
            try:
                im = Image.open(io.BytesIO(data))
                if im.format == "JPEG":
                    # decode big JPEGs at a reduced DCT scale (much faster)
                    im.draft("RGB", (max_side, max_side))
                im.load()
            except Exception:
                st_src["bad"] = st_src.get("bad", 0) + 1
                continue
            if im.mode not in ("RGB", "RGBA", "L", "LA", "P", "PA", "I;16", "I", "CMYK"):
                im = im.convert("RGBA")
            if im.mode in ("P", "PA", "LA"):
                im = im.convert("RGBA")
            elif im.mode in ("I;16", "I"):
                arr = np.asarray(im, dtype=np.float32)
                arr = arr / max(arr.max(), 1.0) * 255.0
                im = Image.fromarray(arr.astype(np.uint8), "L")
            if im.mode == "RGBA" and src.category != "object":
                if np.asarray(im.getchannel("A")).min() == 255:
                    im = im.convert("RGB")
            if src.category == "object" and im.mode == "RGBA":
                im = crop_to_alpha(im)
            st = photo_stats(im)
            ok, why = accept(src, im, st)
            if not ok:
                st_src["rej_" + why] = st_src.get("rej_" + why, 0) + 1
                continue
            if src.category == "object":
                im = im.convert("RGBA")
            else:
                im = im.convert("RGB")
            st_src["accepted"] += 1
            rec = dict(source=src.package, category=src.category, member=name,
                       licence=src.licence, orig_w=im.width, orig_h=im.height,
                       gray=bool(st.get("gray", 0)), src_index=si)
            if src.group_regex:
                m = re.search(src.group_regex, name)
                g = m.group(1) if m else name
                old = groups.get(g)
                if old is None or im.width * im.height > old["orig_w"] * old["orig_h"]:
                    rec["_im"] = resize_max(im, max_side)
                    groups[g] = rec
                continue
            rec["_im"] = resize_max(im, max_side)
            candidates.append(rec)
        candidates.extend(groups[g] for g in sorted(groups))
        if verbose:
            print(f"[pool] {key:40s} {st_src}", file=sys.stderr)

    # dedup (near-identical images, e.g. the same wallpaper at several sizes)
    for rec in candidates:
        rec["_h"] = dhash(rec["_im"])
        rec["_m"] = np.asarray(rec["_im"].convert("RGB").resize((4, 4), Image.BILINEAR),
                               dtype=np.int16).reshape(-1)
    order = sorted(range(len(candidates)),
                   key=lambda i: (-candidates[i]["orig_w"] * candidates[i]["orig_h"], i))
    kept: List[dict] = []
    kept_h: Dict[str, List[int]] = {}
    kept_m: Dict[str, List[np.ndarray]] = {}
    for i in order:
        rec = candidates[i]
        cat = rec["category"]
        hs, ms = kept_h.setdefault(cat, []), kept_m.setdefault(cat, [])
        if hs:
            x = np.bitwise_xor(np.array(hs, dtype=np.uint64), np.uint64(rec["_h"]))
            ham = np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(1)
            near = np.nonzero(ham <= 5)[0]
            if any(np.abs(ms[j] - rec["_m"]).mean() < 12 for j in near):
                continue
        hs.append(rec["_h"])
        ms.append(rec["_m"])
        kept.append(rec)
    kept.sort(key=lambda r: (r["src_index"], r["member"]))
    n_dup = len(candidates) - len(kept)

    # write
    if os.path.isdir(out_dir):
        for sub in ("scene", "object", "texture", "astro"):
            shutil.rmtree(os.path.join(out_dir, sub), ignore_errors=True)
    os.makedirs(out_dir, exist_ok=True)
    manifest = []
    used = set()
    for rec in kept:
        im = rec.pop("_im")
        rec.pop("_h"); rec.pop("_m"); rec.pop("src_index")
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.splitext(os.path.basename(rec["member"]))[0])
        tag = hashlib.sha1(rec["member"].encode()).hexdigest()[:6]
        ext = ".png" if rec["category"] == "object" else ".jpg"
        rel = f"{rec['category']}/{rec['source']}__{stem}_{tag}{ext}"
        assert rel not in used
        used.add(rel)
        os.makedirs(os.path.join(out_dir, rec["category"]), exist_ok=True)
        path = os.path.join(out_dir, rel)
        if ext == ".png":
            im.save(path, optimize=False, compress_level=6)
        else:
            im.save(path, quality=92, subsampling=0)
        rec.update(path=rel, w=im.width, h=im.height,
                   version=versions.get(rec["source"], ""))
        stats[f"{rec['source']}:{rec['category']}"]["kept"] += 1
        manifest.append(rec)
    counts: Dict[str, int] = {}
    for r in manifest:
        counts[r["category"]] = counts.get(r["category"], 0) + 1
    info = dict(pool_version=POOL_VERSION, max_side=max_side, count=len(manifest),
                counts=counts, duplicates_removed=n_dup, sources=stats,
                package_versions=versions, images=manifest)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(info, f, indent=1)
    if verbose:
        for key, st_src in stats.items():
            print(f"[pool] {key:40s} kept {st_src['kept']}", file=sys.stderr)
        print(f"[pool] kept {len(manifest)} images {counts}, removed {n_dup} duplicates",
              file=sys.stderr)
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--debs", required=True, help="folder with the downloaded .deb files")
    ap.add_argument("--out", required=True, help="pool folder to (re)create")
    ap.add_argument("--max-side", type=int, default=512)
    args = ap.parse_args(argv)
    build(args.debs, args.out, args.max_side)


if __name__ == "__main__":
    main()
