"""Train the small default VideoVAE+ (16z switches, reduced widths) on synthesized clips.

    PYTHONPATH=python python -m training.train --out DIR --config small [--steps N] [--minutes M]
        [--until HH:MM] [--resume] [--init-bundle assets/default-bundle]

Joint image + video training: each step is either a batch of still images through the image
path (mask_temporal, spatial posterior only) or a batch of clips through the full path (spatial
then temporal posterior). Posteriors are sampled (reparameterised) in training; evaluation uses
the mode. Checkpoints (model + optimizer + step + data position + RNG) are written atomically to
DIR/checkpoint.pt; --resume continues from it, or, when DIR has none, from the weights of a
committed bundle (--init-bundle, fresh optimizer). Logs: DIR/train.csv, DIR/eval.csv.
See TRAINING.md.
"""
import argparse
import csv
import datetime as dt
import json
import math
import os
import signal
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field, replace
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from videovae.config import VideoVAEConfig, config_from_name
from videovae.model import VideoVAEPlus

from .losses import LossWeights, lr_at, psnr, ssim, vae_loss

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_FORMAT = "videovae-train/1"
STOP_MARGIN_S = 20.0  # a deadline stop leaves this long (plus 1.5 steps) to write the checkpoint

# Widths of the trainable configs. Every width is a multiple of 32 (GroupNorm(32)); 4 levels
# keep the spatial compression at 8. "small" is the shipped default (TRAINING.md explains why).
MODEL_WIDTHS: Dict[str, Dict[str, object]] = {
    "small": {"ch": 32, "ch_mult": (1, 1, 2, 2), "num_res_blocks": 1, "hidden_channel": 32},
    "narrow": {"ch": 32, "ch_mult": (1, 1, 1, 1), "num_res_blocks": 1, "hidden_channel": 32},
    # "small" with 4 channels per GroupNorm group (the official ratio) instead of 1 at 32 channels,
    # which erased absolute colour (TRAINING.md). Same weights and shapes as "small".
    "small-gn4": {"ch": 32, "ch_mult": (1, 1, 2, 2), "num_res_blocks": 1, "hidden_channel": 32,
                  "norm_group_channels": 4},
    # "small-gn4" with a 1.5x wider temporal autoencoder (48/96/192 channels), grown from a trained
    # "small-gn4" by training/widen.py; about 15M weights, so it ships with int8 weight storage.
    "small-gn4-t48": {"ch": 32, "ch_mult": (1, 1, 2, 2), "num_res_blocks": 1, "hidden_channel": 48,
                      "norm_group_channels": 4, "norm_group_limit": 0},
}
OVERRIDABLE = ("lr", "warmup", "p_image", "schedule", "total_steps", "decay_from", "video_size", "video_batch",
               "image_size", "image_batch", "p_colour", "mix_video_size", "mix_video_batch", "p_mix_video")


@dataclass
class TrainSettings:
    video_size: Tuple[int, int, int] = (8, 64, 64)  # T, H, W
    video_batch: int = 2  # >= 2 keeps the 3-D convs on oneDNN (batch 1 falls back to slow_conv3d)
    image_size: int = 64
    image_batch: int = 8
    p_image: float = 0.5  # share of steps that are image batches (about 7x cheaper than a video step)
    lr: float = 4e-4
    warmup: int = 50
    schedule: str = "constant"
    total_steps: int = 0  # for the cosine schedule only
    decay_from: int = 0  # the cosine decay runs from this step to total_steps
    p_colour: float = 0.0  # share of training clips/images given a random saturation/hue/gamma change
    # A second clip shape for a share of the video steps, so that training on large crops keeps
    # the short/small clips it learnt before (session 14: 160-px crops alone cost 0.15 dB on 8x64).
    mix_video_size: Tuple[int, ...] = ()  # T, H, W; empty: off
    mix_video_batch: int = 2
    p_mix_video: float = 0.0  # share of video steps that use mix_video_size
    weight_decay: float = 0.01
    betas: Tuple[float, float] = (0.9, 0.99)
    grad_clip: float = 1.0
    seed: int = 0
    weights: LossWeights = field(default_factory=LossWeights)


def model_config(name: str) -> VideoVAEConfig:
    if name not in MODEL_WIDTHS:
        raise ValueError("unknown training config %r; expected one of %s" % (name, ", ".join(MODEL_WIDTHS)))
    return config_from_name("config_16z", **MODEL_WIDTHS[name])


def init_weights(model: VideoVAEPlus, seed: int = 0) -> VideoVAEPlus:
    """Initialisation from scratch, following the official layer definitions (spec §4): the
    temporal conv layers (conv*_tmp) and the temporal attention's qkv / proj_out start at zero
    (so the model starts as a per-frame 2-D VAE), the relative-position tables are Xavier-uniform
    (our port creates them as zeros, which would leave the temporal attention without gradient).
    Everything else keeps PyTorch's default init."""
    gen = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if "relative_position_" in name and name.endswith("embeddings_table"):
            bound = math.sqrt(6.0 / (p.shape[0] + p.shape[1]))  # xavier_uniform
            with torch.no_grad():
                p.copy_(torch.rand(p.shape, generator=gen) * 2 * bound - bound)
        elif "_tmp." in name and ".conv." in name and "attn" not in name:
            nn.init.zeros_(p.data)  # conv{1,2,3}_tmp.conv.{weight,bias}
        elif "attn_1_tmp." in name and (".qkv." in name or ".proj_out." in name):
            nn.init.zeros_(p.data)
    return model


LOGVAR_BIAS_INIT = -4.0


def logvar_biases(model: VideoVAEPlus) -> List[Tensor]:
    """The bias entries of the two posterior heads that produce logvar (second half of the
    moment channels): encoder.conv_out and encoder_temporal.final_block's last conv."""
    zc = model.config.z_channels
    heads = [model.encoder.conv_out, model.encoder_temporal.final_block[2].conv]
    return [h.bias[zc:] for h in heads]


def shift_logvar_bias(model: VideoVAEPlus, delta: float) -> None:
    with torch.no_grad():
        for b in logvar_biases(model):
            b.add_(delta)


def build_model(name: str, seed: int = 0) -> VideoVAEPlus:
    torch.manual_seed(seed)
    model = init_weights(VideoVAEPlus(model_config(name)), seed)
    # Start with a small posterior std (exp(-2) ~ 0.14) instead of ~1: with the tiny KL weight
    # the model would otherwise spend its first thousands of steps learning to shrink the noise.
    with torch.no_grad():
        for b in logvar_biases(model):
            b.fill_(LOGVAR_BIAS_INIT)
    return model


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ------------------------------------------------------------------------------- forward

def train_forward(model: VideoVAEPlus, x: Tensor, image: bool, sample: bool = True):
    """Reconstruction and the list of (mean, logvar) posteriors (spatial[, temporal])."""
    post_s = model.encode_spatial(x, mask_temporal=image)
    z = post_s.sample() if sample else post_s.mode()
    posts = [(post_s.mean, post_s.logvar)]
    if not image:
        post_t = model.encode_temporal(z)
        z = post_t.sample() if sample else post_t.mode()
        posts.append((post_t.mean, post_t.logvar))
    return model.decode(z, mask_temporal=image), posts


def train_step(model: VideoVAEPlus, opt: torch.optim.Optimizer, x: Tensor, image: bool,
               settings: TrainSettings, bf16: bool = False) -> Dict[str, object]:
    """One optimizer step. bf16: mixed precision (bfloat16 autocast for the forward pass, fp32
    weights, loss and optimizer); about 2x faster on CPUs with AVX512-BF16."""
    model.train()
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        recon, posts = train_forward(model, x, image, sample=True)
    recon = recon.float()
    posts = [(mean.float(), logvar.float()) for mean, logvar in posts]
    parts = vae_loss(recon, x, posts, settings.weights)
    opt.zero_grad(set_to_none=True)
    parts["loss"].backward()
    gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
    # A non-finite gradient (rare, seen once on a bf16 image step) would turn every weight into
    # NaN through the clip; the step is skipped instead and the caller counts it.
    finite = bool(torch.isfinite(gnorm))
    if not finite and bf16:
        # oneDNN's AMX kernels (Sapphire Rapids) return NaN weight gradients for some bfloat16
        # convolutions (every image step's encoder.down.0 convs, session 9; video steps agree with
        # the AVX512 kernels to cos 0.9998): the same step again in float32.
        out = train_step(model, opt, x, image, settings, bf16=False)
        out["float32_retry"] = 1.0
        return out
    if finite:
        opt.step()
    out: Dict[str, object] = {k: float(v.detach()) for k, v in parts.items()}
    out["skipped"] = 0.0 if finite else 1.0
    if not finite:  # say where, to find the cause
        out["non_finite"] = [n for n, p in model.named_parameters() if p.grad is not None
                             and not bool(torch.isfinite(p.grad).all())][:4]
    out["psnr"] = float(psnr(recon, x))
    out["grad_norm"] = float(gnorm)
    return out


def make_optimizer(model: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=settings.lr, betas=settings.betas,
                             weight_decay=settings.weight_decay)


# ---------------------------------------------------------------------------------- data

HELDOUT_MODULUS = 20  # images with crc32(path) % 20 == 0 are held out of training


def is_heldout(path: str) -> bool:
    return zlib.crc32(path.encode("utf-8")) % HELDOUT_MODULUS == 0


def split_pool(root: Optional[str] = None):
    """(train_pool, heldout_pool): disjoint image sets from the same pool directory."""
    from .data import ImagePool

    train, held = ImagePool(root), ImagePool(root)
    for cat in list(train.items):
        recs = train.items[cat]
        train.items[cat] = [r for r in recs if not is_heldout(r["path"])]
        held.items[cat] = [r for r in recs if is_heldout(r["path"])]
    return train, held


class _BatchesFrom(torch.utils.data.Dataset):
    """Batch start+i of a BatchStream, for DataLoader workers (order kept, so the batch sequence
    is the same with or without workers)."""

    def __init__(self, stream: "BatchStream", start: int):
        self.stream, self.start = stream, start

    def __len__(self) -> int:
        return 1 << 40

    def __getitem__(self, i: int) -> Tuple[Tensor, bool]:
        return self.stream.batch(self.start + i)


def _one_thread(_worker_id: int) -> None:
    torch.set_num_threads(1)


def batches_from(stream: "BatchStream", start: int, workers: int):
    """Iterator over batches start, start+1, ...: synthesized in `workers` processes ahead of the
    training step (a GPU step is faster than one process can synthesize clips), or inline."""
    if workers <= 0:
        b = start
        while True:
            yield stream.batch(b)
            b += 1
    loader = torch.utils.data.DataLoader(_BatchesFrom(stream, start), batch_size=None, shuffle=False,
                                         num_workers=workers, prefetch_factor=4, worker_init_fn=_one_thread,
                                         # its own seed source: the global one draws the posterior noise
                                         generator=torch.Generator().manual_seed(0))
    yield from loader


class BatchStream:
    """Deterministic joint image/video batches: batch b depends only on (seed, b)."""

    def __init__(self, pool, settings: TrainSettings, seed: int):
        import numpy as np
        from .data import ClipSynthesizer, to_model_input
        from .data.synth import SynthConfig

        self.np = np
        self.synth = ClipSynthesizer(pool, SynthConfig(p_colour=settings.p_colour))
        self.to_input = to_model_input
        self.s = settings
        self.seed = seed

    def batch(self, b: int) -> Tuple[Tensor, bool]:
        np, s = self.np, self.s
        brng = np.random.default_rng([self.seed, b, 0x5EED])
        image = bool(brng.random() < s.p_image)
        items = []
        if image:
            for j in range(s.image_batch):
                items.append(self.synth.image(np.random.default_rng([self.seed, b, j]), s.image_size, s.image_size))
        else:
            (T, H, W), n = s.video_size, s.video_batch
            # drawn only when mixing is on, so runs without it keep their batch sequence
            if s.p_mix_video > 0 and brng.random() < s.p_mix_video:
                (T, H, W), n = s.mix_video_size, s.mix_video_batch
            for j in range(n):
                items.append(self.synth.clip(np.random.default_rng([self.seed, b, j]), T, H, W))
        return self.to_input(torch.stack(items)), image


# held-out evaluation set: (name, T, H, W, count, image)
# Sets are seeded by their index: append new ones, never reorder. video16x256 (session 13) matches
# the eval protocol's 256-px tiles, to judge crops larger than 128 px.
EVAL_SETS = (("video8x64", 8, 64, 64, 8, False),
             ("video16x128", 16, 128, 128, 2, False),
             ("image128", 1, 128, 128, 8, True),
             ("video16x256", 16, 256, 256, 4, False))
EVAL_SEED = 20261129


def heldout_set(pool, sets=EVAL_SETS, seed: int = EVAL_SEED) -> Dict[str, Tuple[Tensor, bool]]:
    """Fixed clips/images from held-out photographs (never seen in training)."""
    import numpy as np
    from .data import ClipSynthesizer, to_model_input

    synth = ClipSynthesizer(pool)
    out = {}
    for k, (name, T, H, W, n, image) in enumerate(sets):
        items = []
        for j in range(n):
            rng = np.random.default_rng([seed, k, j])
            items.append(synth.image(rng, H, W) if image else synth.clip(rng, T, H, W))
        out[name] = (to_model_input(torch.stack(items)), image)
    return out


@torch.no_grad()
def evaluate(model: VideoVAEPlus, sets: Dict[str, Tuple[Tensor, bool]], batch: int = 2) -> Dict[str, float]:
    """PSNR / SSIM of the posterior-mode reconstruction on each held-out set (mean over items)."""
    model.eval()
    device = next(model.parameters()).device
    res = {}
    for name, (x, image) in sets.items():
        ps, ss = [], []
        for i in range(0, x.shape[0], batch):
            xb = x[i:i + batch].to(device)
            recon, _ = train_forward(model, xb, image, sample=False)
            recon = recon.clamp(-1, 1)
            for j in range(xb.shape[0]):
                ps.append(float(psnr(recon[j:j + 1], xb[j:j + 1])))
                ss.append(float(ssim(recon[j:j + 1], xb[j:j + 1])))
        res["psnr_" + name] = sum(ps) / len(ps)
        res["ssim_" + name] = sum(ss) / len(ss)
    model.train()
    return res


# ----------------------------------------------------------------------------- checkpoints

def atomic_save(obj, path: str) -> None:
    tmp = "%s.tmp-%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def make_checkpoint(model, opt, config_name: str, settings: TrainSettings, state: Dict[str, object]) -> Dict:
    return {
        "format": CHECKPOINT_FORMAT,
        "config": config_name,
        "widths": model.config.widths(),
        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "optimizer": opt.state_dict() if opt is not None else None,
        "settings": _settings_dict(settings),
        "torch_rng": torch.get_rng_state(),
        "state": dict(state),
    }


def _settings_dict(s: TrainSettings) -> Dict[str, object]:
    d = asdict(s)
    d["video_size"] = list(s.video_size)
    d["mix_video_size"] = list(s.mix_video_size)
    d["betas"] = list(s.betas)
    return d


def settings_from_dict(d: Dict[str, object]) -> TrainSettings:
    d = dict(d)
    d["weights"] = LossWeights(**d.get("weights", {}))
    d["video_size"] = tuple(d["video_size"])
    d["mix_video_size"] = tuple(d.get("mix_video_size", ()))
    d["betas"] = tuple(d["betas"])
    return TrainSettings(**d)


def load_checkpoint(path: str):
    ck = torch.load(path, map_location="cpu", weights_only=True)
    if ck.get("format") != CHECKPOINT_FORMAT:
        raise ValueError("%s: not a training checkpoint (format %r)" % (path, ck.get("format")))
    return ck


def restore(ck, model: VideoVAEPlus, opt: Optional[torch.optim.Optimizer]) -> Dict[str, object]:
    model.load_state_dict(ck["model"], strict=True)
    if opt is not None and ck.get("optimizer") is not None:
        opt.load_state_dict(ck["optimizer"])
    torch.set_rng_state(ck["torch_rng"])
    return dict(ck["state"])


def weights_from_bundle(bundle_dir: str) -> Dict[str, Tensor]:
    """The model state dict (fp32) rebuilt from a bundle's four TorchScript stages."""
    from videovae.bundle import load_bundle

    b = load_bundle(bundle_dir)
    sd: Dict[str, Tensor] = {}
    for name, mod in b.modules.items():
        for k, v in mod.state_dict().items():
            sd[k] = v.detach().float().clone()
    return sd


# ------------------------------------------------------------------------------- logging

TRAIN_FIELDS = ["step", "batch", "time_utc", "elapsed_s", "step_s", "kind", "lr", "loss", "l1", "ssim", "kl",
                "psnr", "psnr_ema_video", "psnr_ema_image", "grad_norm"]


class CsvLog:
    def __init__(self, path: str, fields: List[str]):
        self.path, self.fields = path, fields
        new = not os.path.exists(path) or os.path.getsize(path) == 0
        self.fh = open(path, "a", newline="")
        self.w = csv.DictWriter(self.fh, fieldnames=fields, extrasaction="ignore")
        if new:
            self.w.writeheader()

    def write(self, row: Dict[str, object]) -> None:
        self.w.writerow({k: (("%.6g" % v) if isinstance(v, float) else v) for k, v in row.items()})
        self.fh.flush()

    def close(self):
        self.fh.close()


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def deadline_from_until(until: str) -> float:
    """'HH:MM' (UTC, today or tomorrow if already past) -> epoch seconds."""
    now = dt.datetime.now(dt.timezone.utc)
    h, m = (int(v) for v in until.split(":"))
    t = now.replace(hour=h, minute=m, second=0, microsecond=0)
    if t <= now:
        t += dt.timedelta(days=1)
    return t.timestamp()


# ---------------------------------------------------------------------------------- main

def run(args) -> Dict[str, object]:
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    ck_path = os.path.join(args.out, CHECKPOINT)
    settings = TrainSettings(seed=args.seed)
    overrides = {k: getattr(args, k) for k in OVERRIDABLE if getattr(args, k) is not None}
    settings = replace(settings, **overrides)

    model = build_model(args.config, settings.seed)
    state: Dict[str, object] = {"step": 0, "batch": 0, "elapsed_s": 0.0, "warmup_from": 0,
                                "psnr_ema_video": None, "psnr_ema_image": None, "runs": 0}
    opt = None
    if args.resume and os.path.exists(ck_path):
        ck = load_checkpoint(ck_path)
        if ck["config"] != args.config:
            raise SystemExit("checkpoint %s is config %r, not %r" % (ck_path, ck["config"], args.config))
        saved = settings_from_dict(ck["settings"])
        settings = replace(saved, **overrides)
        opt = make_optimizer(model, settings)
        state.update(restore(ck, model, opt))
        print("resumed from %s at step %d" % (ck_path, state["step"]), flush=True)
    elif args.resume and args.init_checkpoint:
        # Another run's checkpoint, possibly of another config with the same weight shapes (a
        # change of GroupNorm groups): weights, optimizer and position carry over.
        ck = load_checkpoint(args.init_checkpoint)
        settings = replace(settings_from_dict(ck["settings"]), **overrides)
        opt = make_optimizer(model, settings)
        state.update(restore(ck, model, opt))
        state["warmup_from"] = state["step"]
        state.setdefault("surgery", []).append({"step": state["step"], "from_config": ck["config"],
                                                "to_config": args.config, "from": args.init_checkpoint})
        print("started from %s (config %s) at step %d" % (args.init_checkpoint, ck["config"], state["step"]),
              flush=True)
    elif args.resume and args.init_bundle:
        with open(os.path.join(args.init_bundle, "resume.json")) as fh:
            meta = json.load(fh)
        if meta["config"] != args.config:
            raise SystemExit("bundle %s is training config %r, not %r" % (args.init_bundle, meta["config"],
                                                                          args.config))
        model.load_state_dict(weights_from_bundle(args.init_bundle), strict=True)
        settings = replace(settings_from_dict(meta["settings"]), **overrides)
        state.update(meta["state"])
        state["warmup_from"] = state["step"]  # fresh optimizer: warm up again
        torch.manual_seed(settings.seed * 1000003 + int(state["step"]))
        print("resumed from bundle %s (fp16-rounded weights, fresh optimizer) at step %d"
              % (args.init_bundle, state["step"]), flush=True)
    elif args.resume:
        print("no checkpoint in %s and no --init-bundle: starting from scratch" % args.out, flush=True)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # three input shapes at most: image, clip, mixed clip
    model.to(device)
    if opt is None:
        opt = make_optimizer(model, settings)
    elif device.type != "cpu":
        opt.load_state_dict(opt.state_dict())  # moves the restored moments to the weights' device
    if settings.p_mix_video > 0 and len(settings.mix_video_size) != 3:
        raise SystemExit("--p-mix-video %g needs --mix-video-size T,H,W" % settings.p_mix_video)
    if args.mse_weight is not None:  # nested in the loss weights, so not one of OVERRIDABLE
        settings = replace(settings, weights=replace(settings.weights, mse=args.mse_weight))
    if args.shift_logvar:
        shift_logvar_bias(model, args.shift_logvar)
        state.setdefault("surgery", []).append({"step": state["step"], "shift_logvar_bias": args.shift_logvar})
        print("shifted the logvar biases by %g at step %d" % (args.shift_logvar, state["step"]), flush=True)
    state["runs"] = int(state.get("runs", 0)) + 1
    with open(os.path.join(args.out, "settings.json"), "w") as fh:
        json.dump({"config": args.config, "widths": model.config.widths(), "params": count_params(model),
                   "settings": _settings_dict(settings)}, fh, indent=1)

    train_pool, held_pool = split_pool(args.pool)
    stream = BatchStream(train_pool, settings, settings.seed)
    eval_sets = heldout_set(held_pool) if args.eval_minutes > 0 else {}
    log = CsvLog(os.path.join(args.out, "train.csv"), TRAIN_FIELDS)
    elog = None

    deadline = None
    if args.minutes is not None:
        deadline = time.time() + 60.0 * args.minutes
    if args.until:
        d = deadline_from_until(args.until)
        deadline = d if deadline is None else min(deadline, d)
    stop_step = state["step"] + args.steps if args.steps is not None else None
    print("config %s: %.2fM params, settings %s" % (args.config, count_params(model) / 1e6,
                                                     json.dumps(_settings_dict(settings))), flush=True)

    t_run = time.time()
    elapsed0 = float(state["elapsed_s"])
    last_ck = last_eval = time.time()
    avg_step = None
    warmup_times: List[float] = []
    fit_decay = bool(args.fit_decay_to_deadline)
    if fit_decay and (deadline is None or settings.warmup < 20
                      or int(state["step"]) - int(state.get("warmup_from", 0)) >= settings.warmup):
        raise SystemExit("--fit-decay-to-deadline needs --minutes or --until and a warmup of 20+ steps still "
                         "to run (it fits the decay that follows this run's warmup; a run already past it "
                         "keeps --total-steps)")
    batches = batches_from(stream, int(state["batch"]), args.workers)

    def save():
        state["elapsed_s"] = elapsed0 + time.time() - t_run
        atomic_save(make_checkpoint(model, opt, args.config, settings, state), ck_path)

    def do_eval():
        nonlocal elog
        if not eval_sets:
            return
        t0 = time.time()
        res = evaluate(model, eval_sets)
        if elog is None:
            elog = CsvLog(os.path.join(args.out, "eval.csv"), ["step", "time_utc", "elapsed_s", "eval_s"]
                          + sorted(res))
        elog.write(dict(step=state["step"], time_utc=utc_now(), elapsed_s=elapsed0 + time.time() - t_run,
                        eval_s=time.time() - t0, **res))
        print("eval step %d: %s" % (state["step"], " ".join("%s=%.4g" % kv for kv in sorted(res.items()))),
              flush=True)

    def on_term(signum, frame):
        raise SystemExit("signal %d" % signum)  # runs the finally below: final checkpoint

    previous_term = signal.signal(signal.SIGTERM, on_term)
    if args.eval_at_start:
        do_eval()
    skipped_in_a_row = 0
    try:
        while True:
            if stop_step is not None and state["step"] >= stop_step:
                break
            # stop early enough to write the final checkpoint before the deadline
            if deadline is not None and time.time() + 1.5 * (avg_step or 0.0) + STOP_MARGIN_S > deadline:
                break
            t0 = time.time()
            x, image = next(batches)
            x = x.to(device, non_blocking=True)
            lr = lr_at(int(state["step"]), settings.lr, settings.warmup, settings.schedule, settings.total_steps,
                       start_step=int(state.get("warmup_from", 0)), decay_from=settings.decay_from)
            for gparam in opt.param_groups:
                gparam["lr"] = lr
            out = train_step(model, opt, x, image, settings, bf16=args.bf16)
            if not math.isfinite(out["loss"]):
                raise RuntimeError("non-finite loss at step %d: %r" % (state["step"], out))
            if out.get("float32_retry"):
                state["float32_retries"] = int(state.get("float32_retries", 0)) + 1
            if out["skipped"]:
                skipped_in_a_row += 1
                state["skipped_steps"] = int(state.get("skipped_steps", 0)) + 1
                print("step %d (%s): non-finite gradient in %s, optimizer step skipped"
                      % (state["step"], "image" if image else "video", ", ".join(out["non_finite"])), flush=True)
                if skipped_in_a_row >= 10:
                    raise RuntimeError("non-finite gradients %d steps in a row at step %d" % (skipped_in_a_row,
                                                                                              state["step"]))
            else:
                skipped_in_a_row = 0
            key = "psnr_ema_image" if image else "psnr_ema_video"
            prev = state.get(key)
            state[key] = out["psnr"] if prev is None else 0.95 * prev + 0.05 * out["psnr"]
            state["step"] = int(state["step"]) + 1
            state["batch"] = int(state["batch"]) + 1
            dt_step = time.time() - t0
            avg_step = dt_step if avg_step is None else 0.9 * avg_step + 0.1 * dt_step
            if fit_decay and int(state["step"]) - int(state.get("warmup_from", 0)) >= settings.warmup:
                # The step rate of a new machine is unknown beforehand: end the cosine decay where
                # the deadline falls, at the rate measured over the warmup (its first steps, which
                # include cuDNN's algorithm search, left out).
                rate = typical_step_seconds(warmup_times)
                left = steps_that_fit(deadline - time.time(), rate)
                settings = replace(settings, decay_from=int(state["step"]), total_steps=int(state["step"]) + left)
                fit_decay = False
                print("cosine decay fitted to the deadline: steps %d to %d (%.3f s/step)"
                      % (settings.decay_from, settings.total_steps, rate), flush=True)
            elif fit_decay:
                warmup_times.append(dt_step)
            log.write(dict(step=state["step"], batch=state["batch"], time_utc=utc_now(),
                           elapsed_s=elapsed0 + time.time() - t_run, step_s=dt_step,
                           kind="image" if image else "video", lr=lr, grad_norm=out["grad_norm"],
                           psnr_ema_video=state["psnr_ema_video"] or "", psnr_ema_image=state["psnr_ema_image"] or "",
                           **{k: out[k] for k in ("loss", "l1", "ssim", "kl", "psnr")}))
            if args.print_every and state["step"] % args.print_every == 0:
                print("step %d %s loss %.4f psnr %.2f ema v %.2f i %.2f (%.2fs/step)"
                      % (state["step"], "img" if image else "vid", out["loss"], out["psnr"],
                         state["psnr_ema_video"] or 0, state["psnr_ema_image"] or 0, avg_step), flush=True)
            if time.time() - last_ck > 60.0 * args.checkpoint_minutes:
                save()
                last_ck = time.time()
            if args.eval_minutes > 0 and time.time() - last_eval > 60.0 * args.eval_minutes:
                do_eval()
                last_eval = time.time()
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        save()
        print("checkpoint %s at step %d" % (ck_path, state["step"]), flush=True)
    if args.eval_minutes > 0:
        do_eval()
    log.close()
    if elog is not None:
        elog.close()
    return state


def typical_step_seconds(times: List[float]) -> float:
    """Mean step time without the first quarter (cuDNN's algorithm search, warm caches) and the
    slowest tenth of the rest (the first step of each new input shape)."""
    rest = sorted(times[len(times) // 4:])
    rest = rest[:max(1, len(rest) * 9 // 10)]
    return sum(rest) / len(rest)


def steps_that_fit(seconds_left: float, step_seconds: float) -> int:
    """Steps before the run's deadline stop (run() stops STOP_MARGIN_S + 1.5 steps early), with 3% slack."""
    return max(1, int(0.97 * (seconds_left - STOP_MARGIN_S - 1.5 * step_seconds) / step_seconds))


def _thw(text: str) -> Tuple[int, int, int]:
    t, h, w = (int(v) for v in text.split(","))
    return t, h, w


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run directory (checkpoint.pt, train.csv, eval.csv)")
    ap.add_argument("--config", default="small", choices=sorted(MODEL_WIDTHS))
    ap.add_argument("--steps", type=int, default=None, help="stop after this many steps (this run)")
    ap.add_argument("--minutes", type=float, default=None, help="stop after this many minutes (this run)")
    ap.add_argument("--until", default=None, help="stop before HH:MM UTC")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt (or --init-bundle)")
    ap.add_argument("--init-bundle", default=None,
                    help="with --resume and no checkpoint in OUT: start from this bundle's weights and resume.json")
    ap.add_argument("--init-checkpoint", default=None,
                    help="with --resume and no checkpoint in OUT: start from this training checkpoint "
                         "(any config with the same weight shapes; optimizer state kept, LR warms up again)")
    ap.add_argument("--pool", default=None, help="image pool (default .cache/training-data/pool)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--p-image", dest="p_image", type=float, default=None)
    ap.add_argument("--schedule", choices=("constant", "cosine"), default=None)
    ap.add_argument("--total-steps", dest="total_steps", type=int, default=None)
    ap.add_argument("--decay-from", dest="decay_from", type=int, default=None,
                    help="cosine schedule: start the decay at this step (default 0)")
    ap.add_argument("--p-colour", dest="p_colour", type=float, default=None,
                    help="share of training clips given a random saturation/hue/gamma change (held-out sets: none)")
    ap.add_argument("--video-size", dest="video_size", type=_thw, default=None, help="T,H,W of video clips")
    ap.add_argument("--video-batch", dest="video_batch", type=int, default=None)
    ap.add_argument("--mix-video-size", dest="mix_video_size", type=_thw, default=None,
                    help="T,H,W of a second clip shape, used on a share (--p-mix-video) of the video steps")
    ap.add_argument("--mix-video-batch", dest="mix_video_batch", type=int, default=None)
    ap.add_argument("--p-mix-video", dest="p_mix_video", type=float, default=None)
    ap.add_argument("--image-size", dest="image_size", type=int, default=None)
    ap.add_argument("--image-batch", dest="image_batch", type=int, default=None)
    ap.add_argument("--mse-weight", dest="mse_weight", type=float, default=None,
                    help="weight of a squared-error term added to the loss (default 0: L1 + SSIM only)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:N]; checkpoints are written with CPU tensors")
    ap.add_argument("--workers", type=int, default=0,
                    help="processes that synthesize batches ahead of the step (0: inline; same batch sequence)")
    ap.add_argument("--fit-decay-to-deadline", dest="fit_decay_to_deadline", action="store_true",
                    help="with --schedule cosine and --minutes/--until: after the warmup, end the decay at the "
                         "deadline, at the measured step rate")
    ap.add_argument("--bf16", action="store_true",
                    help="bfloat16 mixed-precision forward (fp32 weights and optimizer); evaluation stays fp32")
    ap.add_argument("--shift-logvar", dest="shift_logvar", type=float, default=0.0,
                    help="one-off: add this to the posterior logvar biases after loading (recorded in state)")
    ap.add_argument("--checkpoint-minutes", type=float, default=5.0)
    ap.add_argument("--eval-minutes", type=float, default=15.0, help="held-out eval period (0: never)")
    ap.add_argument("--eval-at-start", action="store_true")
    ap.add_argument("--print-every", type=int, default=10)
    return ap.parse_args(argv)


def main(argv=None):
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
