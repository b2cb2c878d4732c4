"""Training code: losses, one optimisation step, checkpoint round trip, CLI resume, export.

Fast (tiny inputs, the 'narrow' widths, a synthetic image pool); no downloads, no real pool.
"""
import dataclasses
import copy
import csv
import json
import math
import os

import numpy as np
import pytest
import torch

Image = pytest.importorskip("PIL.Image")

from training import train as T  # noqa: E402
from training.losses import LossWeights, gaussian_kl, lr_at, psnr, ssim, ssim_loss, vae_loss  # noqa: E402


# ------------------------------------------------------------------------------ losses

def test_ssim_identical_is_zero_loss():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 4, 24, 24) * 2 - 1
    assert float(ssim_loss(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(ssim(x, x)) == pytest.approx(1.0, abs=1e-6)


def test_ssim_orders_distortions_and_is_differentiable():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 2, 32, 32) * 2 - 1
    small = x + 0.05 * torch.randn_like(x)
    large = x + 0.5 * torch.randn_like(x)
    assert float(ssim(small, x)) > float(ssim(large, x)) > -1.0
    # constant images: SSIM is exactly the luminance term
    a, b = torch.full((1, 1, 16, 16), 0.5), torch.full((1, 1, 16, 16), -0.5)
    c1 = (0.01 * 2) ** 2
    expected = (2 * 0.5 * -0.5 + c1) / (0.25 + 0.25 + c1)
    assert float(ssim(a, b)) == pytest.approx(expected, rel=1e-5)
    y = small.clone().requires_grad_(True)
    ssim_loss(y, x).backward()
    assert y.grad is not None and torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0


def test_ssim_small_frames_and_shape_check():
    x = torch.rand(1, 3, 1, 8, 8)
    assert float(ssim(x, x)) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError):
        ssim(x, torch.rand(1, 3, 1, 8, 16))


def test_l1_psnr_kl_known_values():
    x = torch.zeros(1, 3, 4, 16, 16)
    y = x + 0.1
    parts = vae_loss(y, x, [], LossWeights(l1=1.0, ssim=0.0, kl=0.0))
    assert float(parts["l1"]) == pytest.approx(0.1, rel=1e-6)
    assert float(parts["loss"]) == pytest.approx(0.1, rel=1e-6)
    assert float(psnr(y, x)) == pytest.approx(10 * math.log10(4 / 0.01), rel=1e-5)
    with_mse = vae_loss(y, x, [], LossWeights(l1=1.0, ssim=0.0, kl=0.0, mse=3.0))
    assert float(with_mse["loss"]) == pytest.approx(0.1 + 3.0 * 0.01, rel=1e-5)
    mean, logvar = torch.zeros(2, 4, 1, 2, 2), torch.zeros(2, 4, 1, 2, 2)
    assert torch.equal(gaussian_kl(mean, logvar), torch.zeros(2))
    mean = torch.ones(2, 4, 1, 2, 2)
    assert gaussian_kl(mean, logvar).tolist() == [8.0, 8.0]  # 0.5 * 16 elements * 1^2
    # KL normalised per pixel value of the sample, summed over posteriors, weighted by kl
    p = vae_loss(x, x, [(mean, logvar), (mean, logvar)], LossWeights(l1=0.0, ssim=0.0, kl=1.0))
    assert float(p["kl"]) == pytest.approx(2 * 8.0 / x[0].numel(), rel=1e-6)
    assert float(p["loss"]) == pytest.approx(float(p["kl"]), rel=1e-6)


def test_lr_schedule():
    assert lr_at(0, 1e-3, 10) == pytest.approx(1e-4)
    assert lr_at(9, 1e-3, 10) == pytest.approx(1e-3)
    assert lr_at(500, 1e-3, 10) == 1e-3
    assert lr_at(100, 1e-3, 0, "cosine", total=100, min_ratio=0.1) == pytest.approx(1e-4)
    assert lr_at(105, 1e-3, 10, start_step=100) == pytest.approx(6e-4)  # re-warmup after resume


# ------------------------------------------------------------------------- model & step

def test_small_config_widths_and_init():
    cfg = T.model_config("small")
    assert cfg.z_channels == 16 and not cfg.use_quant_conv and not cfg.caption
    assert cfg.spatial_compression == 8
    assert all(cfg.ch * m % 32 == 0 for m in cfg.ch_mult) and cfg.hidden_channel % 32 == 0
    model = T.build_model("narrow")
    sd = model.state_dict()
    assert float(sd["encoder.down.0.block.0.conv1_tmp.conv.weight"].abs().sum()) == 0.0
    assert float(sd["encoder.mid.attn_1_tmp.proj_out.weight"].abs().sum()) == 0.0
    assert float(sd["encoder.mid.attn_1_tmp.relative_position_k.embeddings_table"].abs().sum()) > 0.0


@pytest.fixture(scope="module")
def narrow():
    torch.manual_seed(0)
    return T.build_model("narrow", seed=0)


@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16"])
@pytest.mark.parametrize("image", [True, False])
def test_training_steps_decrease_loss(narrow, image, bf16):
    model = copy.deepcopy(narrow)
    torch.manual_seed(1)
    shape = (4, 3, 1, 16, 16) if image else (2, 3, 4, 16, 16)
    x = torch.rand(shape) * 2 - 1
    x = torch.nn.functional.avg_pool3d(x, (1, 3, 3), 1, (0, 1, 1))  # some spatial structure
    s = T.TrainSettings(lr=2e-3)
    opt = T.make_optimizer(model, s)

    def mode_loss():
        with torch.no_grad():
            recon, posts = T.train_forward(model, x, image, sample=False)
            return float(vae_loss(recon, x, posts, s.weights)["loss"])

    before = mode_loss()
    for _ in range(2):
        out = T.train_step(model, opt, x, image, s, bf16=bf16)
        assert math.isfinite(out["loss"]) and math.isfinite(out["grad_norm"])
    assert mode_loss() < before


def _image_step(narrow, seed):
    """A fresh copy of the model, its optimizer and an image batch."""
    model = copy.deepcopy(narrow)
    s = T.TrainSettings(lr=1e-3)
    torch.manual_seed(seed)
    return model, s, T.make_optimizer(model, s), torch.rand(2, 3, 1, 16, 16) * 2 - 1


def test_non_finite_gradient_skips_the_step_and_keeps_the_weights(narrow):
    model, s, opt, x = _image_step(narrow, 4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hook = model.encoder.conv_in.weight.register_hook(lambda g: g * float("nan"))
    out = T.train_step(model, opt, x, True, s)
    assert math.isfinite(out["loss"]) and not math.isfinite(out["grad_norm"]) and out["skipped"] == 1.0
    assert out["non_finite"][0] == "encoder.conv_in.weight"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    hook.remove()
    out = T.train_step(model, opt, x, True, s)
    assert out["skipped"] == 0.0 and "float32_retry" not in out
    assert not torch.equal(before["encoder.conv_in.weight"], model.encoder.conv_in.weight)


def test_non_finite_bf16_gradient_is_redone_in_float32(narrow):
    model, s, opt, x = _image_step(narrow, 5)
    before = model.encoder.conv_in.weight.detach().clone()

    calls = []  # NaN on the first (bf16) pass only, as the failing AMX kernels give

    def first_call_nan(g):
        calls.append(1)
        return g * float("nan") if len(calls) == 1 else g

    hook = model.encoder.conv_in.weight.register_hook(first_call_nan)
    out = T.train_step(model, opt, x, True, s, bf16=True)
    hook.remove()
    assert len(calls) == 2 and out["float32_retry"] == 1.0 and out["skipped"] == 0.0
    assert math.isfinite(out["grad_norm"]) and torch.isfinite(model.encoder.conv_in.weight).all()
    assert not torch.equal(before, model.encoder.conv_in.weight)


def test_checkpoint_round_trip_restores_exact_state(narrow, tmp_path):
    model = copy.deepcopy(narrow)
    s = T.TrainSettings(lr=1e-3)
    opt = T.make_optimizer(model, s)
    torch.manual_seed(3)
    x = torch.rand(2, 3, 4, 16, 16) * 2 - 1
    T.train_step(model, opt, x[:, :, :1], True, s)
    state = {"step": 1, "batch": 1, "elapsed_s": 1.5, "psnr_ema_video": 10.0}
    path = str(tmp_path / "ck.pt")
    T.atomic_save(T.make_checkpoint(model, opt, "narrow", s, state), path)
    assert os.listdir(tmp_path) == ["ck.pt"]  # no temporary left behind
    rng_after_save = torch.get_rng_state()

    model2 = T.build_model("narrow", seed=123)
    opt2 = T.make_optimizer(model2, s)
    torch.manual_seed(999)
    ck = T.load_checkpoint(path)
    assert T.restore(ck, model2, opt2) == state
    assert torch.equal(torch.get_rng_state(), rng_after_save)
    assert T.settings_from_dict(ck["settings"]) == s
    for (k, a), (k2, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k
    sa, sb = opt.state_dict(), opt2.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for i in sa["state"]:
        for k in sa["state"][i]:
            assert torch.equal(sa["state"][i][k], sb["state"][i][k])
    # continuing from the original and from the restored copy gives bit-identical weights
    y = torch.rand(2, 3, 4, 16, 16) * 2 - 1
    torch.set_rng_state(rng_after_save)
    T.train_step(model, opt, y, False, s)  # video path: both posteriors sampled from the restored RNG
    torch.set_rng_state(rng_after_save)
    T.train_step(model2, opt2, y, False, s)
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        assert torch.equal(a, b), k


def test_load_checkpoint_refuses_other_files(tmp_path):
    path = str(tmp_path / "x.pt")
    torch.save({"state_dict": {}}, path)
    with pytest.raises(ValueError):
        T.load_checkpoint(path)


# ------------------------------------------------------------------------- CLI, export

def _smooth(rng, h, w, c=3):
    x = rng.random((h // 8 + 2, w // 8 + 2, c)).astype(np.float32)
    im = Image.fromarray((x * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)
    return np.asarray(im)


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("pool")
    rng = np.random.default_rng(0)
    recs = []
    for cat, n in (("scene", 6), ("texture", 2), ("astro", 2)):
        os.makedirs(root / cat)
        for i in range(n):
            rel = "%s/%s%d.png" % (cat, cat, i)
            Image.fromarray(_smooth(rng, 96, 128)).save(root / rel)
            recs.append(dict(path=rel, category=cat, source="test", member=rel, licence="CC0", w=128, h=96))
    with open(root / "manifest.json", "w") as f:
        json.dump(dict(pool_version=1, max_side=512, count=len(recs), counts={}, images=recs), f)
    return str(root)


def test_cli_runs_and_resumes(pool_dir, tmp_path):
    out = str(tmp_path / "run")
    common = ["--out", out, "--config", "narrow", "--pool", pool_dir, "--video-size", "4,16,16",
              "--image-size", "16", "--image-batch", "2", "--eval-minutes", "0", "--print-every", "0"]
    st = T.run(T.parse_args(common + ["--steps", "2"]))
    assert st["step"] == 2 and st["batch"] == 2
    ck1 = T.load_checkpoint(os.path.join(out, T.CHECKPOINT))
    assert ck1["settings"]["weights"]["mse"] == 0.0
    st = T.run(T.parse_args(common + ["--steps", "1", "--resume", "--mse-weight", "2.5"]))
    assert st["step"] == 3 and st["runs"] == 2
    ck2 = T.load_checkpoint(os.path.join(out, T.CHECKPOINT))
    assert ck2["settings"]["video_size"] == [4, 16, 16]
    assert ck2["settings"]["weights"]["mse"] == 2.5 and ck2["settings"]["weights"]["l1"] == 1.0
    assert any(not torch.equal(ck1["model"][k], ck2["model"][k]) for k in ck1["model"])
    with open(os.path.join(out, "train.csv")) as fh:
        rows = fh.read().strip().splitlines()
    assert rows[0].startswith("step,") and [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3"]


def test_mixed_clip_sizes_share_the_video_steps(pool_dir, tmp_path):
    train_pool, _ = T.split_pool(pool_dir)
    base = T.TrainSettings(video_size=(4, 16, 16), video_batch=1, p_image=0.0)
    mixed = dataclasses.replace(base, mix_video_size=(4, 8, 8), mix_video_batch=3, p_mix_video=0.5)
    plain, mix = T.BatchStream(train_pool, base, 0), T.BatchStream(train_pool, mixed, 0)
    shapes = [tuple(mix.batch(b)[0].shape) for b in range(16)]
    assert set(shapes) == {(1, 3, 4, 16, 16), (3, 3, 4, 8, 8)}
    # the steps that keep the main size get the same clips as a run without mixing
    for b, shape in enumerate(shapes):
        if shape[0] == 1:
            assert torch.equal(mix.batch(b)[0], plain.batch(b)[0])
    out = str(tmp_path / "run")
    common = ["--out", out, "--config", "narrow", "--pool", pool_dir, "--video-size", "4,16,16", "--image-size",
              "16", "--image-batch", "2", "--eval-minutes", "0", "--print-every", "0", "--steps", "1"]
    with pytest.raises(SystemExit, match="mix-video-size"):
        T.run(T.parse_args(common + ["--p-mix-video", "0.3"]))
    T.run(T.parse_args(common + ["--mix-video-size", "4,8,8", "--p-mix-video", "0.3"]))
    saved = T.load_checkpoint(os.path.join(out, T.CHECKPOINT))["settings"]
    assert saved["mix_video_size"] == [4, 8, 8] and saved["p_mix_video"] == 0.3
    assert T.settings_from_dict(saved).mix_video_size == (4, 8, 8)


def test_init_checkpoint_starts_a_new_run_from_another(pool_dir, tmp_path):
    common = ["--pool", pool_dir, "--video-size", "4,16,16", "--image-size", "16", "--image-batch", "2",
              "--eval-minutes", "0", "--print-every", "0"]
    first = str(tmp_path / "first")
    T.run(T.parse_args(["--out", first, "--config", "narrow", "--steps", "2"] + common))
    src = T.load_checkpoint(os.path.join(first, T.CHECKPOINT))
    second = str(tmp_path / "second")
    st = T.run(T.parse_args(["--out", second, "--config", "narrow", "--steps", "1", "--resume",
                             "--init-checkpoint", os.path.join(first, T.CHECKPOINT)] + common))
    assert st["step"] == 3 and st["batch"] == 3 and st["warmup_from"] == 2
    assert st["surgery"][-1]["from_config"] == "narrow" and st["surgery"][-1]["step"] == 2
    ck = T.load_checkpoint(os.path.join(second, T.CHECKPOINT))
    assert any(not torch.equal(src["model"][k], ck["model"][k]) for k in src["model"])
    assert T.load_checkpoint(os.path.join(first, T.CHECKPOINT))["state"]["step"] == 2  # source untouched


def test_export_bundle_fp16_and_resume_from_bundle(narrow, tmp_path):
    from training.export_default import export
    from videovae.bundle import load_bundle

    model = copy.deepcopy(narrow)
    s = T.TrainSettings()
    ckpath = str(tmp_path / "checkpoint.pt")
    state = {"step": 7, "batch": 9, "elapsed_s": 3.0}
    T.atomic_save(T.make_checkpoint(model, None, "narrow", s, state), ckpath)
    res = export(ckpath, str(tmp_path / "bundle"), "float16", None, max_bytes=None)
    b = load_bundle(res["out"])
    assert b.manifest["dtype"] == "float16" and b.manifest["widths"]["ch_mult"] == [1, 1, 1, 1]
    x = torch.rand(2, 3, 4, 16, 16) * 2 - 1
    rounded = copy.deepcopy(model)
    rounded.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    with torch.no_grad():
        ref = rounded(x)[0]  # eager model with the fp16-rounded weights
        got = b.decode(b.encode(x))
    assert got.dtype == torch.float32 and got.shape == ref.shape
    assert float((got - ref).abs().max()) < 1e-5
    sd = T.weights_from_bundle(res["out"])
    assert set(sd) == set(model.state_dict())
    for k, v in model.state_dict().items():
        assert torch.equal(sd[k], v.half().float()), k
    with open(os.path.join(res["out"], "resume.json")) as fh:
        meta = json.load(fh)
    assert meta["config"] == "narrow" and meta["state"] == state


def test_stage_gap_scores_both_paths(narrow):
    from training.stage_gap import stage_gap

    torch.manual_seed(1)
    clips = torch.rand(2, 3, 4, 16, 16) * 2 - 1
    scores = stage_gap(narrow, clips)
    # the video path is what the held-out evaluation scores, clip by clip
    ref = T.evaluate(narrow, {"v": (clips, False)}, batch=1)["psnr_v"]
    assert sum(scores["video_path"]) / 2 == pytest.approx(ref, abs=1e-4)
    # the image path treats each frame alone: four copies of one frame score as that frame
    frame = clips[:1, :, :1]
    still = stage_gap(narrow, frame.expand(1, 3, 4, 16, 16).contiguous())["image_path"][0]
    recon, _ = T.train_forward(narrow, frame, image=True, sample=False)
    assert still == pytest.approx(float(psnr(recon.clamp(-1, 1), frame)), abs=1e-4)
    assert scores["image_path"][0] != pytest.approx(scores["video_path"][0], abs=1e-3)


def test_widen_keeps_outputs_and_lets_new_channels_learn(tmp_path):
    from training.widen import widen_checkpoint

    torch.manual_seed(0)
    small = T.build_model("small-gn4", seed=0)
    with torch.no_grad():  # trained-looking: the zero-initialised temporal convs of a fresh model hide errors
        for p in small.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    opt = T.make_optimizer(small, T.TrainSettings())
    x = torch.rand(1, 3, 8, 16, 16) * 2 - 1
    small(x)[0].abs().mean().backward()
    opt.step()
    ck = T.make_checkpoint(small, opt, "small-gn4", T.TrainSettings(), {"step": 5, "batch": 5, "elapsed_s": 1.0})
    wide_ck = widen_checkpoint(ck, "small-gn4-t48")
    assert wide_ck["widths"]["hidden_channel"] == 48 and wide_ck["config"] == "small-gn4-t48"
    wide = T.build_model("small-gn4-t48", seed=1)
    wopt = T.make_optimizer(wide, T.TrainSettings())
    T.restore(wide_ck, wide, wopt)  # shapes of weights and Adam moments fit the wider model
    assert sum(p.numel() for p in wide.parameters()) > 1.5 * sum(p.numel() for p in small.parameters())
    small.eval(), wide.eval()
    with torch.no_grad():
        a, b = small(x)[0], wide(x)[0]
    assert float((a - b).abs().max()) < 1e-5
    # A zeroed slice (old output reading a new channel) gets a gradient: the new width is used.
    w = wide.decoder_temporal.conv_last.conv.weight
    wide(x)[0].abs().mean().backward()
    assert float(w.grad[:, 64:].abs().sum()) > 0 and float(w.detach()[:, 64:].abs().sum()) == 0
    with pytest.raises(ValueError, match="cannot widen"):
        widen_checkpoint(wide_ck, "small-gn4")  # narrowing is refused


def test_widen_refuses_to_regroup_a_norm(monkeypatch):
    from training.widen import widen_checkpoint

    # 192 channels under the 32-group limit would be 6 channels a group: old groups would change.
    capped = dict(T.MODEL_WIDTHS["small-gn4-t48"], norm_group_limit=32)
    monkeypatch.setitem(T.MODEL_WIDTHS, "t48-capped", capped)
    small = T.build_model("small-gn4", seed=0)
    ck = T.make_checkpoint(small, None, "small-gn4", T.TrainSettings(), {"step": 1, "batch": 1, "elapsed_s": 0.0})
    with pytest.raises(ValueError, match="cannot grow to 192 in 32"):
        widen_checkpoint(ck, "t48-capped")


def test_average_checkpoints_means_the_weights_and_keeps_the_last_state(tmp_path):
    from training import average as A
    s = T.TrainSettings(lr=1e-3)
    paths, models = [], []
    for i in range(3):
        model = T.build_model("narrow", seed=i)
        models.append(model)
        paths.append(str(tmp_path / ("ck%d.pt" % i)))
        T.atomic_save(T.make_checkpoint(model, T.make_optimizer(model, s), "narrow", s, {"step": 10 * i}), paths[-1])
    out = str(tmp_path / "avg.pt")
    assert A.main(["--out", out] + paths) == 0
    ck = T.load_checkpoint(out)
    assert ck["averaged_from"] == [0, 10, 20] and ck["state"]["step"] == 20
    states = [m.state_dict() for m in models]
    for k, v in ck["model"].items():
        if v.is_floating_point():
            want = (states[0][k].double() + states[1][k].double() + states[2][k].double()) / 3
            assert torch.allclose(v.double(), want, atol=1e-7), k
    k = "encoder.conv_in.weight"
    assert not torch.equal(ck["model"][k], states[2][k])  # really averaged, not the last one
    # a checkpoint of another model config is refused by name
    other = str(tmp_path / "other.pt")
    wide = T.build_model("small", seed=0)
    T.atomic_save(T.make_checkpoint(wide, None, "small", s, {"step": 1}), other)
    with pytest.raises(SystemExit, match="different model configs"):
        A.main(["--out", str(tmp_path / "x.pt"), paths[0], other])


def test_worker_processes_give_the_same_batches_and_leave_the_rng_alone(pool_dir):
    train_pool, _ = T.split_pool(pool_dir)
    s = T.TrainSettings(video_size=(4, 16, 16), video_batch=1, image_size=16, image_batch=2, p_image=0.5)
    stream = T.BatchStream(train_pool, s, 0)
    rng_before = torch.get_rng_state()
    got = T.batches_from(stream, 3, workers=2)
    kinds = []
    for b in range(3, 11):
        x, image = next(got)
        ref, ref_image = stream.batch(b)
        kinds.append(image)
        assert image == ref_image and x.shape == ref.shape
        # the same clips; a warp's last bit can differ with the thread count (1 in a worker), which
        # may move a pixel by one uint8 level
        diff = (x - ref).abs()
        assert float(diff.max()) <= 2.0 / 255 + 1e-6 and float((diff > 0).float().mean()) < 1e-3
    assert set(kinds) == {True, False}
    # the loader seeds its workers from its own generator: the global RNG draws posterior noise
    assert torch.equal(torch.get_rng_state(), rng_before)


def test_step_rate_and_steps_that_fit():
    # first quarter (search, caches) and the slowest tenth of the rest are left out
    times = [9.0] * 10 + [1.0] * 27 + [2.0] * 2 + [30.0]
    assert T.typical_step_seconds(times) == pytest.approx((27 * 1.0 + 0 * 2.0) / 27)
    assert T.steps_that_fit(20.0 + 1.5 + 100.0, 1.0) == 97
    assert T.steps_that_fit(5.0, 1.0) == 1  # a deadline already too close still leaves a decay


def test_fit_decay_to_deadline_ends_the_cosine_at_the_deadline(pool_dir, tmp_path):
    common = ["--config", "narrow", "--pool", pool_dir, "--video-size", "4,16,16", "--image-size", "16",
              "--image-batch", "2", "--eval-minutes", "0", "--print-every", "0", "--schedule", "cosine",
              "--fit-decay-to-deadline", "--lr", "1e-4"]
    out = str(tmp_path / "run")
    with pytest.raises(SystemExit, match="--minutes or --until"):
        T.run(T.parse_args(["--out", out, "--steps", "2", "--warmup", "20"] + common))
    with pytest.raises(SystemExit, match="warmup of 20"):
        T.run(T.parse_args(["--out", out, "--minutes", "1", "--warmup", "5"] + common))
    # a deadline far off (the fitted decay would outlast --steps) keeps the test quick on a slow machine
    st = T.run(T.parse_args(["--out", out, "--minutes", "1.5", "--steps", "30", "--warmup", "20"] + common))
    saved = T.load_checkpoint(os.path.join(out, T.CHECKPOINT))["settings"]
    assert st["step"] == 30 and saved["decay_from"] == 20 and saved["total_steps"] > 21
    with open(os.path.join(out, "train.csv")) as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:  # the logged rate follows the fitted schedule (warmup, then the fitted cosine)
        step = int(row["step"]) - 1
        want = T.lr_at(step, 1e-4, 20, "cosine", saved["total_steps"], decay_from=saved["decay_from"])
        assert float(row["lr"]) == pytest.approx(want, rel=1e-5)
    # a run already past its warmup keeps its schedule
    with pytest.raises(SystemExit, match="already past"):
        T.run(T.parse_args(["--out", out, "--resume", "--minutes", "1", "--warmup", "20"] + common))
