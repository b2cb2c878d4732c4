"""Synthetic-motion video clips made from real photographs.

A clip is rendered by warping a photo with a smooth, per-frame affine camera
(pan / zoom / rotation / shear, with velocity, acceleration and hand-held
wobble), compositing moving overlays on top (photographic cut-outs with their
own alpha, or patches of another photo with feathered edges), and applying
time-varying lighting (exposure, contrast, white balance, a moving light
spot, rare fades).  Optional motion blur averages sub-frame renders.  Cuts
are never produced: every frame of a clip shows the same scene.

All warps are ``torch.nn.functional.grid_sample`` (bilinear,
``align_corners=False``) on CPU; sources are pre-shrunk with an antialiased
resize so that the warp never minifies by more than ~1.3x.

Everything random comes from the ``numpy.random.Generator`` passed in, so a
clip is a pure function of (pool, config, rng state).
"""
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .pool import ImagePool


@dataclass
class SynthConfig:
    # clip kinds (normalised internally)
    p_static: float = 0.08      # one photo, no change at all
    p_camera: float = 0.40      # camera motion only
    p_overlay: float = 0.37     # camera motion (often small) + moving overlays
    p_large: float = 0.15       # fast pans / zooms / spins, fast overlays
    # background category weights
    bg_weights: Dict[str, float] = field(default_factory=lambda: {
        "scene": 0.74, "texture": 0.14, "astro": 0.07, "object": 0.05})
    p_lighting: float = 0.35     # time-varying exposure/contrast/colour/spot
    p_fade: float = 0.02         # fade from/to black (part of lighting)
    p_motion_blur: float = 0.12  # sub-frame averaging (x3 render cost)
    p_handheld: float = 0.30     # small random wobble on top of the motion
    p_flip: float = 0.5          # mirror the source photo
    max_overlays: int = 3
    p_cutout: float = 0.6        # overlay is a photo cut-out (else a feathered patch)
    min_src_per_out: float = 0.55  # max upsampling of the source (1/0.55 = 1.8x)
    blur_substeps: int = 3
    # static colour change of the whole clip (saturation, hue, gamma): the photo pool is mostly muted,
    # real footage is not. 0 keeps the original stream (the held-out sets use 0).
    p_colour: float = 0.0


KINDS = ("static", "camera", "overlay", "large")


def _smoothstep(x):
    return x * x * (3.0 - 2.0 * x)


def _profile(rng: np.random.Generator, tau: np.ndarray, amp: float) -> np.ndarray:
    """A smooth 1-D motion profile over normalised time tau in [0,1], 0 at
    tau=0 and about ``amp`` in total extent."""
    kind = rng.choice(5, p=[0.3, 0.2, 0.2, 0.2, 0.1])
    if kind == 0:                                   # constant velocity
        y = tau
    elif kind == 1:                                 # accelerate from rest
        y = tau ** 2
    elif kind == 2:                                 # decelerate to rest
        y = 1.0 - (1.0 - tau) ** 2
    elif kind == 3:                                 # start-stop (ease in/out)
        y = _smoothstep(tau)
    else:                                           # go and come back
        y = np.sin(math.pi * tau * rng.uniform(0.6, 1.0))
    return amp * y


def _wobble(rng: np.random.Generator, tau: np.ndarray, amp: float) -> np.ndarray:
    y = np.zeros_like(tau)
    for _ in range(3):
        f = rng.uniform(0.4, 3.0)
        y += rng.normal() * np.sin(2 * math.pi * f * tau + rng.uniform(0, 2 * math.pi))
    return amp * y / 3.0


def _warp(src: torch.Tensor, grid: torch.Tensor, padding_mode: str) -> torch.Tensor:
    """Sample one image ``src`` [C,h,w] at ``grid`` [N,H,W,2] -> [C,N,H,W].

    The N frames are stacked into one tall grid so the source is not
    replicated per frame (noticeably faster on CPU than an expanded batch).
    """
    N, H, W, _ = grid.shape
    out = F.grid_sample(src[None], grid.reshape(1, N * H, W, 2), mode="bilinear",
                        padding_mode=padding_mode, align_corners=False)
    return out.view(src.shape[0], N, H, W)


def _rot(theta: np.ndarray) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # [...,2,2]


class ClipSynthesizer:
    def __init__(self, pool: ImagePool, config: Optional[SynthConfig] = None):
        self.pool = pool
        self.cfg = config or SynthConfig()
        self._grids: Dict[Tuple[int, int], torch.Tensor] = {}
        cats = [c for c, w in self.cfg.bg_weights.items() if w > 0 and pool.count(c) > 0]
        if not cats:
            raise ValueError("image pool has no background images")
        w = np.array([self.cfg.bg_weights[c] for c in cats], dtype=np.float64)
        self._bg_cats, self._bg_p = cats, w / w.sum()
        k = np.array([self.cfg.p_static, self.cfg.p_camera, self.cfg.p_overlay,
                      self.cfg.p_large], dtype=np.float64)
        self._kind_p = k / k.sum()

    # ------------------------------------------------------------------ utils
    def _offsets(self, H: int, W: int) -> torch.Tensor:
        """[H,W,2] pixel-centre offsets from the frame centre (x, y)."""
        g = self._grids.get((H, W))
        if g is None:
            ys = torch.arange(H, dtype=torch.float32) + 0.5 - H / 2.0
            xs = torch.arange(W, dtype=torch.float32) + 0.5 - W / 2.0
            g = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1)
            self._grids[(H, W)] = g
        return g

    def _pick(self, rng, category: str) -> torch.Tensor:
        n = self.pool.count(category)
        return self.pool.get(category, int(rng.integers(n)))

    def _pick_background(self, rng) -> torch.Tensor:
        cat = self._bg_cats[int(rng.choice(len(self._bg_cats), p=self._bg_p))]
        img = self._pick(rng, cat)
        if img.shape[0] == 4:   # a cut-out used as background: put it on a photo
            base = self._pick(rng, "scene") if self.pool.count("scene") else None
            img = self._flatten_on(img, base, rng)
        return img

    @staticmethod
    def _flatten_on(rgba: torch.Tensor, base: Optional[torch.Tensor], rng) -> torch.Tensor:
        c, h, w = rgba.shape
        if base is None:
            bg = torch.full((3, h, w), float(rng.uniform(0, 1)))
        else:
            bg = F.interpolate(base[None].float() / 255.0, size=(h, w), mode="bilinear",
                               align_corners=False, antialias=True)[0]
        a = rgba[3:4].float() / 255.0
        out = bg * (1 - a) + rgba[:3].float() / 255.0 * a
        return (out * 255.0).round().clamp(0, 255).to(torch.uint8)

    # ------------------------------------------------------------- trajectories
    def _camera_path(self, rng, kind: str, tau: np.ndarray, H: int, W: int):
        """Per-time camera (cx, cy, log zoom, rotation, shear) in output pixels."""
        n = len(tau)
        z = np.zeros(n)
        if kind == "static":
            return z, z.copy(), z.copy(), z.copy(), z.copy()
        D = float(min(H, W))
        if kind == "large":
            mode = rng.choice(4, p=[0.5, 0.2, 0.15, 0.15])
            pan_amp = rng.uniform(0.8, 2.5) * D if mode in (0, 3) else rng.uniform(0, 0.3) * D
            zoom_amp = rng.uniform(0.6, 1.2) if mode in (1, 3) else rng.uniform(0, 0.15)
            rot_amp = math.radians(rng.uniform(40, 120)) if mode == 2 else math.radians(rng.uniform(0, 8))
        elif kind == "overlay":
            pan_amp = rng.uniform(0, 0.25) * D * (rng.random() < 0.6)
            zoom_amp = rng.uniform(0, 0.2) * (rng.random() < 0.3)
            rot_amp = math.radians(rng.uniform(0, 6)) * (rng.random() < 0.2)
        else:  # camera
            mode = rng.choice(5, p=[0.35, 0.2, 0.1, 0.3, 0.05])
            small = rng.uniform(0.0, 0.06)
            pan_amp = rng.uniform(0.05, 0.7) * D if mode in (0, 3) else small * D
            zoom_amp = rng.uniform(0.1, 0.6) if mode in (1, 3) else rng.uniform(0, 0.05)
            rot_amp = math.radians(rng.uniform(3, 30)) if mode in (2, 3) else 0.0
            if mode == 4:   # tiny drift only
                pan_amp, zoom_amp = rng.uniform(0.0, 0.04) * D, rng.uniform(0, 0.03)
        ang = rng.uniform(0, 2 * math.pi)
        p = _profile(rng, tau, pan_amp)
        cx, cy = p * math.cos(ang), p * math.sin(ang)
        if rng.random() < 0.3:  # curved path
            cy = cy + _profile(rng, tau, rng.normal() * 0.3 * pan_amp)
        lz = _profile(rng, tau, zoom_amp * rng.choice([-1.0, 1.0]))
        rot = _profile(rng, tau, rot_amp * rng.choice([-1.0, 1.0]))
        sh = np.zeros(n)
        if kind == "camera" and rng.random() < 0.15:
            sh = _profile(rng, tau, rng.uniform(-0.12, 0.12))
        if rng.random() < self.cfg.p_handheld:
            w = rng.uniform(0.003, 0.02) * D
            cx = cx + _wobble(rng, tau, w)
            cy = cy + _wobble(rng, tau, w)
            rot = rot + _wobble(rng, tau, math.radians(rng.uniform(0, 0.8)))
        return cx, cy, lz, rot, sh

    # ------------------------------------------------------------------ render
    def _render_background(self, rng, img: torch.Tensor, kind: str, tau: np.ndarray,
                           H: int, W: int) -> torch.Tensor:
        """Warp ``img`` [3,h,w] uint8 along a sampled camera path -> [3,N,H,W] float."""
        cfg = self.cfg
        _, hs, ws = img.shape
        cx, cy, lz, rot, sh = self._camera_path(rng, kind, tau, H, W)
        flip = -1.0 if rng.random() < cfg.p_flip else 1.0
        corners = np.array([[-W / 2, -H / 2], [W / 2, -H / 2], [W / 2, H / 2], [-W / 2, H / 2]])
        for attempt in range(8):
            Z = np.exp(lz)
            A = _rot(rot) @ np.stack([np.stack([np.ones_like(sh), sh], -1),
                                      np.stack([np.zeros_like(sh), np.ones_like(sh)], -1)], -2)
            A = A * Z[:, None, None]
            A[:, :, 0] *= flip
            q = np.einsum("nij,kj->nki", A, corners) + np.stack([cx, cy], -1)[:, None, :]
            qmin, qmax = q.reshape(-1, 2).min(0), q.reshape(-1, 2).max(0)
            ext = np.maximum(qmax - qmin, 1e-6)
            s_max = min(ws / ext[0], hs / ext[1]) * 0.995
            if s_max >= cfg.min_src_per_out or attempt == 7:
                break
            # motion too large for this photo: shrink it around its mean
            k = 0.75
            cx, cy = cx.mean() + k * (cx - cx.mean()), cy.mean() + k * (cy - cy.mean())
            lz, rot, sh = k * lz, k * rot, k * sh
        s_lo = min(cfg.min_src_per_out, s_max)
        # log-uniform between "native-ish" and "whole photo in view"
        s0 = float(math.exp(rng.uniform(math.log(max(s_lo, s_max * 0.3)), math.log(s_max))))
        s0 = min(s0, s_max)
        ox = rng.uniform(0, max(ws - s0 * ext[0], 0.0))
        oy = rng.uniform(0, max(hs - s0 * ext[1], 0.0))
        # source pixel of frame centre: s0*(c - qmin) + o ; matrix: s0*A
        # crop the region in use and shrink it (antialiased) when minifying
        x0 = int(max(math.floor(ox) - 2, 0)); y0 = int(max(math.floor(oy) - 2, 0))
        x1 = int(min(math.ceil(ox + s0 * ext[0]) + 2, ws)); y1 = int(min(math.ceil(oy + s0 * ext[1]) + 2, hs))
        crop = img[:, y0:y1, x0:x1].float().div_(255.0)[None]
        r_min = s0 * float(np.exp(lz).min())
        f = 1.0
        if r_min > 1.3:
            f = r_min
            nh, nw = max(2, int(round((y1 - y0) / f))), max(2, int(round((x1 - x0) / f)))
            crop = F.interpolate(crop, size=(nh, nw), mode="bilinear", align_corners=False,
                                 antialias=True)
        ch, cw = crop.shape[-2:]
        fx, fy = (x1 - x0) / cw, (y1 - y0) / ch   # source px per crop px
        centre = np.stack([s0 * (cx - qmin[0]) + ox - x0, s0 * (cy - qmin[1]) + oy - y0], -1)
        M = s0 * A
        M = M / np.array([fx, fy])[None, :, None]
        centre = centre / np.array([fx, fy])[None, :]
        # to grid_sample's normalised coords (align_corners=False): 2*x/size - 1
        norm = np.array([2.0 / cw, 2.0 / ch])
        Mn = torch.from_numpy((M * norm[None, :, None]).astype(np.float32))
        cn = torch.from_numpy((centre * norm[None, :] - 1.0).astype(np.float32))
        off = self._offsets(H, W)
        grid = torch.einsum("hwj,nij->nhwi", off, Mn) + cn[:, None, None, :]
        return _warp(crop[0], grid, "reflection")

    def _make_sprite(self, rng, D: float) -> torch.Tensor:
        """A premultiplied RGBA sprite [4,h,w] float."""
        if self.pool.count("object") and rng.random() < self.cfg.p_cutout:
            rgba = self._pick(rng, "object").float() / 255.0
            rgb, a = rgba[:3], rgba[3:4]
            return torch.cat([rgb * a, a], 0)
        # feathered patch cut from another photo
        src = self._pick(rng, "scene" if rng.random() < 0.8 or not self.pool.count("texture")
                         else "texture")
        _, hs, ws = src.shape
        ph = int(min(hs, ws) * rng.uniform(0.3, 0.9))
        pw = int(np.clip(ph * math.exp(rng.uniform(-0.5, 0.5)), 8, ws))
        ph = max(8, min(ph, hs))
        y = int(rng.integers(0, hs - ph + 1)); x = int(rng.integers(0, ws - pw + 1))
        rgb = src[:, y:y + ph, x:x + pw].float() / 255.0
        yy = (torch.arange(ph, dtype=torch.float32) + 0.5) / ph * 2 - 1
        xx = (torch.arange(pw, dtype=torch.float32) + 0.5) / pw * 2 - 1
        Y, X = torch.meshgrid(yy, xx, indexing="ij")
        feather = rng.uniform(0.03, 0.25)
        if rng.random() < 0.5:      # ellipse
            d = 1.0 - torch.sqrt(X ** 2 + Y ** 2)
        else:                       # rounded rectangle
            r = rng.uniform(0.05, 0.5)
            qx, qy = (X.abs() - (1 - r)).clamp(min=0), (Y.abs() - (1 - r)).clamp(min=0)
            d = r - torch.sqrt(qx ** 2 + qy ** 2)
            d = torch.minimum(d, torch.minimum(1 - X.abs(), 1 - Y.abs()))
        a = (d / feather).clamp(0, 1)
        a = (a * a * (3 - 2 * a))[None]
        return torch.cat([rgb * a, a], 0)

    def _render_sprites(self, rng, frames: torch.Tensor, kind: str, tau: np.ndarray,
                        n_sprites: int) -> torch.Tensor:
        _, N, H, W = frames.shape
        D = float(min(H, W))
        off = self._offsets(H, W)
        for _ in range(n_sprites):
            spr = self._make_sprite(rng, D)
            _, hs, ws = spr.shape
            size = rng.uniform(0.2, 0.65) * D           # longest side in output px
            lz = _profile(rng, tau, rng.uniform(-0.4, 0.4) * (rng.random() < 0.4))
            sigma = size / max(hs, ws) * np.exp(lz)     # output px per sprite px
            fast = kind == "large" or rng.random() < 0.1
            travel = rng.uniform(0.6, 1.6) * D if fast else rng.uniform(0.0, 0.6) * D
            ang = rng.uniform(0, 2 * math.pi)
            p = _profile(rng, tau, travel)
            start = np.array([rng.uniform(0.1, 0.9) * W, rng.uniform(0.1, 0.9) * H])
            start -= 0.5 * travel * np.array([math.cos(ang), math.sin(ang)]) * rng.uniform(0, 1)
            qx = start[0] + p * math.cos(ang)
            qy = start[1] + p * math.sin(ang)
            if rng.random() < 0.3:   # arc
                qy = qy + _profile(rng, tau, rng.normal() * 0.25 * D)
            spin = math.radians(rng.uniform(0, 25) if not fast else rng.uniform(0, 120))
            phi = rng.uniform(-0.3, 0.3) + _profile(rng, tau, spin * rng.choice([-1.0, 1.0])) \
                * (rng.random() < 0.5)
            # pre-shrink the sprite (antialiased) to its largest on-screen size
            smax = float(sigma.max())
            if smax < 0.77:
                nh, nw = max(2, int(round(hs * smax))), max(2, int(round(ws * smax)))
                spr = F.interpolate(spr[None], size=(nh, nw), mode="bilinear",
                                    align_corners=False, antialias=True)[0]
                sigma = sigma * (hs / nh)
                hs, ws = nh, nw
            # the sprite's on-screen bounding box over the whole clip: only
            # that part of the frames is resampled
            sc = np.array([[-ws / 2, -hs / 2], [ws / 2, -hs / 2], [ws / 2, hs / 2], [-ws / 2, hs / 2]])
            Rf = _rot(phi) * sigma[:, None, None]
            pc = np.einsum("nij,kj->nki", Rf, sc) + np.stack([qx, qy], -1)[:, None, :]
            bx0 = int(np.clip(math.floor(pc[..., 0].min()) - 1, 0, W))
            bx1 = int(np.clip(math.ceil(pc[..., 0].max()) + 1, 0, W))
            by0 = int(np.clip(math.floor(pc[..., 1].min()) - 1, 0, H))
            by1 = int(np.clip(math.ceil(pc[..., 1].max()) + 1, 0, H))
            if bx1 - bx0 < 1 or by1 - by0 < 1:
                continue
            # output px p -> sprite px: R(-phi) (p - q) / sigma + (ws/2, hs/2)
            Rinv = _rot(-phi) / sigma[:, None, None]
            norm = np.array([2.0 / ws, 2.0 / hs])
            Mn = torch.from_numpy((Rinv * norm[None, :, None]).astype(np.float32))
            q = np.stack([qx - W / 2.0, qy - H / 2.0], -1)        # centre offset
            shift = -np.einsum("nij,nj->ni", Rinv, q) * norm[None, :]
            cn = torch.from_numpy(shift.astype(np.float32))
            sub = off[by0:by1, bx0:bx1]
            grid = torch.einsum("hwj,nij->nhwi", sub, Mn) + cn[:, None, None, :]
            s = _warp(spr, grid, "zeros")
            region = frames[:, :, by0:by1, bx0:bx1]
            frames[:, :, by0:by1, bx0:bx1] = torch.addcmul(s[:3], region, 1 - s[3:4])
        return frames

    def _lighting(self, rng, x: torch.Tensor, tau: np.ndarray) -> torch.Tensor:
        _, N, H, W = x.shape
        T = lambda v: torch.from_numpy(np.asarray(v, dtype=np.float32))
        gain = np.exp(_profile(rng, tau, rng.uniform(-0.6, 0.6)))
        con = np.exp(_profile(rng, tau, rng.uniform(-0.4, 0.3)) * (rng.random() < 0.5))
        wb = np.exp(np.stack([_profile(rng, tau, rng.uniform(-0.2, 0.2)) for _ in range(3)], -1)
                    * (rng.random() < 0.5))
        m = x[:, 0].mean()
        x = (x - m) * T(con)[None, :, None, None] + m
        x = x * T(gain)[None, :, None, None] * T(wb).t()[:, :, None, None]
        if rng.random() < 0.4:   # a moving light spot / shadow
            off = self._offsets(H, W)
            D = float(min(H, W))
            c0 = np.array([rng.uniform(-0.5, 0.5) * W, rng.uniform(-0.5, 0.5) * H])
            ang = rng.uniform(0, 2 * math.pi)
            p = _profile(rng, tau, rng.uniform(0, 1.0) * D)
            cxy = c0 + np.stack([p * math.cos(ang), p * math.sin(ang)], -1)
            rad = rng.uniform(0.2, 0.8) * D
            k = _profile(rng, tau, rng.uniform(-0.5, 0.5)) + rng.uniform(-0.3, 0.6)
            d2 = ((off[None] - T(cxy)[:, None, None, :]) ** 2).sum(-1)
            spot = 1 + T(k)[:, None, None] * torch.exp(-d2 / (2 * rad * rad))
            x = x * spot[None].clamp(min=0.05)
        if rng.random() < self.cfg.p_fade:
            n = max(2, int(len(tau) * rng.uniform(0.3, 0.8)))
            ramp = np.ones(len(tau))
            ramp[:n] = np.linspace(0, 1, n)
            if rng.random() < 0.5:
                ramp = ramp[::-1].copy()
            x = x * T(ramp)[None, :, None, None]
        return x

    @staticmethod
    def _colour(rng, x: torch.Tensor) -> torch.Tensor:
        """Saturation scale, hue rotation about the grey axis and gamma, the same for every frame."""
        if rng.random() < 0.5:
            angle = rng.uniform(-math.pi, math.pi)
            c, s3 = math.cos(angle), math.sin(angle) / math.sqrt(3.0)
            a, b = (1 - c) / 3.0 + c, (1 - c) / 3.0
            rot = torch.tensor([[a, b - s3, b + s3], [b + s3, a, b - s3], [b - s3, b + s3, a]],
                               dtype=x.dtype)   # Rodrigues rotation about (1,1,1)/sqrt(3)
            x = torch.einsum("ij,jthw->ithw", rot, x)
        grey = x.mean(0, keepdim=True)
        x = grey + (x - grey) * float(np.exp(rng.uniform(-0.5, 0.9)))
        if rng.random() < 0.35:
            x = x.clamp(0, 1).pow(float(np.exp(rng.uniform(-0.4, 0.7))))
        return x

    # --------------------------------------------------------------- public
    def clip(self, rng: np.random.Generator, num_frames: int = 16, height: int = 128,
             width: int = 128, kind: Optional[str] = None) -> torch.Tensor:
        """A random clip as uint8 [T,H,W,3]."""
        cfg = self.cfg
        T_ = int(num_frames)
        if kind is None:
            kind = KINDS[int(rng.choice(4, p=self._kind_p))]
        img = self._pick_background(rng)
        moving = kind != "static" and T_ > 1
        blur = moving and rng.random() < (cfg.p_motion_blur * (2.5 if kind == "large" else 1.0))
        base = np.linspace(0.0, 1.0, T_) if T_ > 1 else np.zeros(1)
        if blur:
            S = cfg.blur_substeps
            expo = rng.uniform(0.3, 1.0) / max(T_ - 1, 1)
            tau = (base[:, None] + (np.linspace(-0.5, 0.5, S) * expo)[None, :]).reshape(-1)
        else:
            S, tau = 1, base
        frames = self._render_background(rng, img, kind, tau, height, width)
        if kind in ("overlay", "large") and moving:
            n = 1 + int(rng.integers(0, cfg.max_overlays))
            if kind == "large" and rng.random() < 0.5:
                n = int(rng.integers(0, 2))
            frames = self._render_sprites(rng, frames, kind, tau, n)
        if S > 1:
            frames = frames.view(3, T_, S, height, width).mean(2)
        if moving and rng.random() < cfg.p_lighting:
            frames = self._lighting(rng, frames, base)
        if cfg.p_colour > 0 and rng.random() < cfg.p_colour:
            frames = self._colour(rng, frames)
        out = (frames.clamp_(0, 1) * 255.0).round_().to(torch.uint8)
        return out.permute(1, 2, 3, 0).contiguous()     # [T,H,W,3]

    def image(self, rng: np.random.Generator, height: int = 128, width: int = 128) -> torch.Tensor:
        """A random still image (a crop at a random scale) as uint8 [1,H,W,3]."""
        return self.clip(rng, 1, height, width, kind="static")


def to_model_input(clip_u8: torch.Tensor) -> torch.Tensor:
    """uint8 [T,H,W,3] (or [B,T,H,W,3]) -> float [3,T,H,W] (or [B,3,T,H,W]) in [-1,1]."""
    x = clip_u8.float().div(127.5).sub(1.0)
    return x.movedim(-1, -4)
