"""Tests for the training-data pipeline on a tiny synthetic pool (no downloads).

    PYTHONPATH=python python -m pytest -q python/training/data
"""
import json
import os

import numpy as np
import pytest
import torch

Image = pytest.importorskip("PIL.Image")

from training.data import ClipDataset, ClipSynthesizer, ImagePool, KINDS, batches, to_model_input
from training.data.build_pool import accept, dhash, photo_stats
from training.data.sources import SOURCES, Source
from training.data.synth import _warp


def _smooth_noise(rng, h, w, c=3):
    x = rng.random((h // 8 + 2, w // 8 + 2, c)).astype(np.float32)
    im = Image.fromarray((x * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)
    arr = np.asarray(im).astype(np.float32) + rng.normal(0, 6, (h, w, c))
    return np.clip(arr, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("pool")
    rng = np.random.default_rng(0)
    recs = []
    for cat, n, (h, w) in (("scene", 3, (240, 320)), ("texture", 1, (200, 200)),
                           ("astro", 1, (160, 160)), ("object", 2, (120, 100))):
        os.makedirs(root / cat)
        for i in range(n):
            if cat == "object":
                rgb = _smooth_noise(rng, h, w)
                yy, xx = np.mgrid[:h, :w]
                a = (((yy - h / 2) / (h / 2)) ** 2 + ((xx - w / 2) / (w / 2)) ** 2 < 0.8) * 255
                arr = np.dstack([rgb, a.astype(np.uint8)])
                rel = f"{cat}/o{i}.png"
                Image.fromarray(arr, "RGBA").save(root / rel)
            else:
                rel = f"{cat}/{cat}{i}.jpg"
                Image.fromarray(_smooth_noise(rng, h, w)).save(root / rel, quality=95)
            recs.append(dict(path=rel, category=cat, source="test", member=rel,
                             licence="CC0", w=w, h=h))
    with open(root / "manifest.json", "w") as f:
        json.dump(dict(pool_version=1, max_side=512, count=len(recs), counts={},
                       images=recs), f)
    return str(root)


def test_pool_loads(pool_dir):
    pool = ImagePool(pool_dir)
    assert len(pool) == 7
    assert pool.get("scene", 0).shape == (3, 240, 320)
    assert pool.get("object", 1).shape == (4, 120, 100)
    assert pool.get("scene", 0).dtype == torch.uint8


@pytest.mark.parametrize("kind", KINDS)
def test_clip_shapes_and_determinism(pool_dir, kind):
    synth = ClipSynthesizer(ImagePool(pool_dir))
    a = synth.clip(np.random.default_rng([1, 2]), 9, 64, 96, kind=kind)
    b = synth.clip(np.random.default_rng([1, 2]), 9, 64, 96, kind=kind)
    assert a.shape == (9, 64, 96, 3) and a.dtype == torch.uint8
    assert torch.equal(a, b)
    if kind == "static":
        assert torch.equal(a, a[:1].expand_as(a))
    else:
        assert not torch.equal(a[0], a[-1])


def test_random_kinds_vary(pool_dir):
    synth = ClipSynthesizer(ImagePool(pool_dir))
    clips = [synth.clip(np.random.default_rng([7, i]), 5, 48, 48) for i in range(6)]
    assert len({c.float().mean().item() for c in clips}) > 3


def test_image_and_model_input(pool_dir):
    synth = ClipSynthesizer(ImagePool(pool_dir))
    im = synth.image(np.random.default_rng(3), 32, 40)
    assert im.shape == (1, 32, 40, 3)
    x = to_model_input(im)
    assert x.shape == (3, 1, 32, 40) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1


def test_dataset_and_batches(pool_dir):
    pool = ImagePool(pool_dir)
    ds = ClipDataset(pool, sizes=[(5, 32, 32)], seed=11, length=4)
    items = list(ds)
    assert len(items) == 4 and items[0].shape == (3, 5, 32, 32)
    assert torch.equal(items[2], ds.sample(2))
    ds2 = ClipDataset(pool, sizes=[(5, 32, 32)], seed=11, length=4)
    assert all(torch.equal(p, q) for p, q in zip(items, ds2))
    bs = list(batches(pool, batch_size=2, sizes=[(5, 32, 32), (1, 32, 32)], seed=3,
                      num_batches=4, image_batch_size=3))
    for b in bs:
        assert b.shape in ((2, 3, 5, 32, 32), (3, 3, 1, 32, 32))
    bs2 = list(batches(pool, batch_size=2, sizes=[(5, 32, 32), (1, 32, 32)], seed=3,
                       num_batches=4, image_batch_size=3))
    assert all(torch.equal(p, q) for p, q in zip(bs, bs2))


def test_warp_identity():
    # a unit-scale warp centred on the image must reproduce it exactly
    img = torch.rand(3, 8, 12)
    H, W = 8, 12
    ys = torch.arange(H, dtype=torch.float32) + 0.5 - H / 2
    xs = torch.arange(W, dtype=torch.float32) + 0.5 - W / 2
    off = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1)
    grid = torch.stack([off[..., 0] * 2 / W, off[..., 1] * 2 / H], -1)[None].repeat(2, 1, 1, 1)
    out = _warp(img, grid, "zeros")
    assert out.shape == (3, 2, H, W)
    assert torch.allclose(out[:, 0], img, atol=1e-5)


def test_photo_filter():
    src = Source("x", "scene", ["*"], "CC0")
    rng = np.random.default_rng(0)
    photo = Image.fromarray(_smooth_noise(rng, 200, 300))
    flat = Image.new("RGB", (300, 200), (40, 90, 200))
    ok, _ = accept(src, photo, photo_stats(photo))
    assert ok
    ok, why = accept(src, flat, photo_stats(flat))
    assert not ok and why == "flat"
    small = photo.resize((100, 80))
    assert dhash(small) == dhash(photo.resize((150, 100))) or \
        bin(dhash(small) ^ dhash(photo)).count("1") <= 8


def test_sources_table():
    cats = {s.category for s in SOURCES}
    assert cats == {"scene", "object", "texture", "astro"}
    assert all(s.licence for s in SOURCES)
