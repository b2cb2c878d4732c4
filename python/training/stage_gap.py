"""Where a trained model loses quality: the temporal stage or the spatial one.

Scores the held-out video clips twice: through the whole model (spatial AE, then the 4x temporal
AE) and frame by frame through the image path (spatial AE only, temporal layers masked). The
difference is what the temporal compression costs.

    PYTHONPATH=python python -m training.stage_gap [--checkpoint PT | --bundle DIR] [--config NAME]
"""
import argparse
import json
import os
from typing import Dict, List

import torch

from .export_default import DEFAULT_CHECKPOINT
from .losses import psnr
from .train import build_model, heldout_set, load_checkpoint, split_pool, train_forward, weights_from_bundle

VIDEO_SETS = (("video8x64", 8, 64, 64, 8, False), ("video16x128", 16, 128, 128, 2, False))


@torch.no_grad()
def stage_gap(model, clips: torch.Tensor) -> Dict[str, List[float]]:
    """Per-clip PSNR of the video path and of the per-frame image path. clips: [N, 3, T, H, W]."""
    model.eval()
    video, image = [], []
    for x in clips.split(1):
        recon, _ = train_forward(model, x, image=False, sample=False)
        video.append(float(psnr(recon.clamp(-1, 1), x)))
        frames = x.transpose(1, 2).flatten(0, 1).unsqueeze(2)  # [T, 3, 1, H, W]
        recon, _ = train_forward(model, frames, image=True, sample=False)
        image.append(float(psnr(recon.clamp(-1, 1), frames)))
    return {"video_path": video, "image_path": image}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--checkpoint", default=None, help="training checkpoint (default .cache/train-t48/checkpoint.pt)")
    src.add_argument("--bundle", default=None, help="a bundle written by training.export_default")
    ap.add_argument("--config", default=None,
                    help="training config (default: the checkpoint's, or the bundle's resume.json)")
    ap.add_argument("--pool", default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args.bundle:
        with open(os.path.join(args.bundle, "resume.json")) as fh:
            config = args.config or json.load(fh)["config"]
        model = build_model(config)
        model.load_state_dict(weights_from_bundle(args.bundle), strict=True)
        label = args.bundle
    else:
        path = args.checkpoint or DEFAULT_CHECKPOINT
        ck = load_checkpoint(path)
        model = build_model(args.config or ck["config"])
        model.load_state_dict(ck["model"], strict=True)
        label = "%s (step %d)" % (path, ck["state"]["step"])
    report = {"model": label}
    for name, (clips, _) in heldout_set(split_pool(args.pool)[1], sets=VIDEO_SETS).items():
        scores = stage_gap(model, clips)
        mean = {k: sum(v) / len(v) for k, v in scores.items()}
        report[name] = {**mean, "temporal_cost_db": mean["image_path"] - mean["video_path"]}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
