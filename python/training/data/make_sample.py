"""Render the package's demo clip (assets/sample/) from a CC0 photograph.

    PYTHONPATH=python python -m training.data.make_sample [--out assets/sample/dandelions_256.mp4]

The photo is "seeding" by Clemens Engelhardt (CC0-1.0), shipped in Debian's
lomiri-wallpapers-16.04 package (fetched by scripts/fetch-training-data.sh).
The clip is a slow camera move (pan + zoom-in + a slight roll, eased) with a
gentle brightening, rendered with the same bilinear grid_sample warp as the
training clips; it is fully deterministic.
"""
import argparse
import io
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from .build_pool import find_deb, iter_members
from .pool import default_pool_dir
from .synth import _rot, _smoothstep, _warp
from .__main__ import write_mp4, write_sheet

PACKAGE = "lomiri-wallpapers-16.04"
MEMBER = "*/backgrounds/seeding_by_Clements_Engelhardt.jpg"


def load_photo(deb_dir: str, work_side: int = 1024) -> torch.Tensor:
    from PIL import Image

    deb = find_deb(deb_dir, PACKAGE)
    if deb is None:
        raise SystemExit(f"{PACKAGE} .deb not found in {deb_dir}: run scripts/fetch-training-data.sh")
    data = next(d for _, d in iter_members(deb, [MEMBER], []))
    im = Image.open(io.BytesIO(data)).convert("RGB")
    s = work_side / max(im.size)
    im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
    return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).float() / 255.0


def render(img: torch.Tensor, T: int = 32, H: int = 256, W: int = 256) -> torch.Tensor:
    _, hs, ws = img.shape
    tau = _smoothstep(np.linspace(0.0, 1.0, T))
    # camera centre in source pixels, zoom (source px per output px), roll
    cx = ws * (0.30 + 0.16 * tau)
    cy = hs * (0.42 + 0.04 * tau)
    zoom = 1.55 * np.exp(-0.45 * tau)
    roll = math.radians(4.0) * (tau - 0.5)
    A = _rot(roll) * zoom[:, None, None]
    ys = torch.arange(H, dtype=torch.float32) + 0.5 - H / 2.0
    xs = torch.arange(W, dtype=torch.float32) + 0.5 - W / 2.0
    off = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1)
    norm = np.array([2.0 / ws, 2.0 / hs])
    Mn = torch.from_numpy((A * norm[None, :, None]).astype(np.float32))
    cn = torch.from_numpy((np.stack([cx, cy], -1) * norm[None, :] - 1.0).astype(np.float32))
    grid = torch.einsum("hwj,nij->nhwi", off, Mn) + cn[:, None, None, :]
    # minification is at most 1.55x: pre-blur with an antialiased half-step
    src = F.interpolate(img[None], scale_factor=1 / 1.2, mode="bilinear",
                        align_corners=False, antialias=True)[0]
    x = _warp(src, grid, "reflection")                     # [3,T,H,W]
    gain = torch.from_numpy((1.0 + 0.10 * tau).astype(np.float32))
    x = x * gain[None, :, None, None]
    return (x.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(1, 2, 3, 0).contiguous()


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--debs", default=os.path.join(os.path.dirname(default_pool_dir()), "sources", "deb"))
    ap.add_argument("--out", default=os.path.join(repo, "assets", "sample", "dandelions_256.mp4"))
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--fps", type=int, default=16)
    ap.add_argument("--crf", type=int, default=15)
    ap.add_argument("--sheet", default=None, help="also write all frames tiled into this PNG")
    args = ap.parse_args(argv)
    img = load_photo(args.debs)
    clip = render(img, args.frames, args.size, args.size)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    if not write_mp4(clip, args.out, fps=args.fps, crf=args.crf):
        raise SystemExit("ffmpeg is needed to encode the mp4")
    if args.sheet:
        write_sheet(clip, args.sheet)
    print(args.out, os.path.getsize(args.out), "bytes")


if __name__ == "__main__":
    main()
