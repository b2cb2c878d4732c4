"""int8 weight storage (videovae.quantize): export, load, exactness against the eager model, errors."""
import copy
import json
import os

import pytest
import torch

from training import train as T
from training.export_default import dir_size, export
from videovae.bundle import BundleError, load_bundle
from videovae.quantize import FILE_NAME, dequantize, quantize_tensor


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The 'narrow' model exported twice from one checkpoint: float16 and int8 storage."""
    torch.manual_seed(0)
    model = T.build_model("narrow", seed=0)
    tmp = tmp_path_factory.mktemp("quant")
    ckpath = str(tmp / "checkpoint.pt")
    T.atomic_save(T.make_checkpoint(model, None, "narrow", T.TrainSettings(), {"step": 3, "batch": 3, "elapsed_s": 1.0}),
                  ckpath)
    half = export(ckpath, str(tmp / "half"), "float16", None, max_bytes=None)["out"]
    q8 = export(ckpath, str(tmp / "int8"), "int8", None, max_bytes=None)["out"]
    return model, half, q8


def test_quantize_tensor_round_trip_is_within_half_a_step():
    torch.manual_seed(0)
    w = torch.randn(8, 4, 3, 3) * torch.linspace(0.01, 3, 8)[:, None, None, None]
    w[5] = 0  # an all-zero slice must not divide by zero
    q, scale = quantize_tensor(w)
    assert q.dtype == torch.int8 and scale.shape == (8,) and scale.dtype == torch.float32
    assert int(q.abs().max()) == 127 and float(scale[5]) == 0
    err = (dequantize(q, scale) - w).abs().reshape(8, -1).amax(1)
    assert bool((err <= scale / 2 + 1e-7).all()), err


def test_int8_bundle_matches_the_eager_model_with_dequantized_weights(exported):
    model, half, q8 = exported
    b = load_bundle(q8)
    assert b.manifest["dtype"] == "float16" and b.manifest["quantization"]["scheme"] == "int8-absmax-dim0"
    # Half the weight bytes: the TorchScript files hold placeholders, the side file one byte a weight.
    assert dir_size(q8) < 0.7 * dir_size(half)
    assert os.stat(os.path.join(q8, FILE_NAME)).st_mode & 0o777 == 0o644  # readable like the stage files
    ref = copy.deepcopy(model)
    sd = {k: dequantize(*quantize_tensor(v)) if v.dim() >= 2 else v.half().float() for k, v in model.state_dict().items()}
    ref.load_state_dict(sd)
    torch.manual_seed(1)
    x = torch.rand(2, 3, 4, 16, 16) * 2 - 1
    with torch.no_grad():
        want = ref(x)[0]
        got = b.decode(b.encode(x))
        exact = model(x)[0]
    assert got.dtype == torch.float32 and got.shape == want.shape
    assert float((got - want).abs().max()) < 1e-5
    assert float((got - exact).abs().max()) > 1e-6  # the int8 rounding really is there
    # Resuming training from the bundle gets those same weights back.
    back = T.weights_from_bundle(q8)
    for k, v in sd.items():
        assert torch.equal(back[k], v), k


def test_int8_bundle_errors_name_the_problem(exported, tmp_path):
    import shutil

    _, _, q8 = exported
    bad = str(tmp_path / "scheme")
    shutil.copytree(q8, bad)
    path = os.path.join(bad, "manifest.json")
    m = json.load(open(path))
    m["quantization"]["scheme"] = "int4-magic"
    json.dump(m, open(path, "w"))
    with pytest.raises(BundleError, match="unknown weight quantization"):
        load_bundle(bad)

    missing = str(tmp_path / "missing")
    shutil.copytree(q8, missing)
    os.remove(os.path.join(missing, FILE_NAME))
    with pytest.raises(BundleError, match="is missing"):
        load_bundle(missing)

    # A side file that lacks a weight (hash updated, so only the content check can catch it).
    from safetensors.torch import load_file, save_file
    from videovae.checkpoint import sha256_file

    short = str(tmp_path / "short")
    shutil.copytree(q8, short)
    side = load_file(os.path.join(short, FILE_NAME))
    victim = sorted(k for k in side if k.startswith("temporal_decoder/") and k.endswith(".q"))[0]
    del side[victim], side[victim[:-2] + ".scale"]
    save_file(side, os.path.join(short, FILE_NAME))
    path = os.path.join(short, "manifest.json")
    m = json.load(open(path))
    m["files"]["quantized_weights"]["sha256"] = sha256_file(os.path.join(short, FILE_NAME))
    json.dump(m, open(path, "w"))
    with pytest.raises(BundleError, match="does not match stage temporal_decoder"):
        load_bundle(short)
