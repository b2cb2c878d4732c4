"""`export --engine aoti`: torch.export + AOTInductor packages, checked against the fixtures.

One ch32 config_16z bundle is compiled (torch.jit made to raise meanwhile; cached across runs,
see the fixture), with its weights in side files. Every ch32 config_16z case then runs through the packages loaded in
Python: the case's own weights (each case has its own seed) are handed to the same packages with
load_constants, so the test also proves that the weights really live outside the shared objects.
"""
import contextlib
import json
import os

import pytest
import torch
from safetensors.torch import load_file

from conftest import CACHE_DIR, PARITY_DIR, ROOT, case_checkpoint, load_case
from test_parity import run_case
from videovae.aoti_weights import read_weights

CASES = ("16z-ch32-video", "16z-ch32-image", "16z-ch32-chunked")
TOLERANCE = 1e-4  # the bound, absolute, on every stored tensor


def _raise(*args, **kwargs):
    raise AssertionError("torch.jit used by the aoti exporter")


@contextlib.contextmanager
def _jit_forbidden():
    with pytest.MonkeyPatch.context() as mp:
        for name in ("script", "trace", "save", "freeze", "load"):
            mp.setattr(torch.jit, name, _raise)
        yield


def _cache_key(checkpoint):
    """Everything the exported bundle depends on: our sources, torch, the CPU, the weights."""
    import hashlib
    from videovae.aoti_isa import machine_flags
    from videovae.checkpoint import sha256_file
    h = hashlib.sha256()
    src = os.path.join(ROOT, "python", "videovae")
    for name in sorted(os.listdir(src)):
        if name.endswith(".py"):
            with open(os.path.join(src, name), "rb") as fh:
                h.update(name.encode() + fh.read())
    h.update(("%s|%s|%s" % (torch.__version__, " ".join(machine_flags()), sha256_file(checkpoint))).encode())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def aoti_bundle():
    """The ch32 16z bundle (all six packages), compiled once and kept in .cache/aoti/ under a key
    of everything it depends on: compiling takes minutes, so reruns reuse it unless the exporter
    or model sources, torch, the CPU or the weights changed (VIDEOVAE_AOTI_CACHE=0: always
    compile). torch.jit is made to raise during the compile (also in the text test below, which
    always compiles)."""
    from videovae.export import export_checkpoint
    checkpoint = case_checkpoint("16z-ch32-video")
    out = os.path.join(CACHE_DIR, "..", "aoti", _cache_key(checkpoint), "bundle")
    cached = os.path.isfile(os.path.join(out, "manifest.json"))
    if not cached and os.environ.get("VIDEOVAE_FULL") != "1":
        # Six packages take 10-15 min of compile on 2 cores: more than CI's budget. CI checks the
        # exporter on the two temporal packages (the text test below); `npm run test:full` or a
        # cached bundle runs these.
        pytest.skip("the six-package AOTI bundle is compiled only with VIDEOVAE_FULL=1 (npm run test:full) or when cached in .cache/aoti")
    if os.environ.get("VIDEOVAE_AOTI_CACHE") == "0" or not cached:
        with _jit_forbidden():
            export_checkpoint(checkpoint, out, "config_16z", engine="aoti", overwrite=True,
                              aoti={"dtype": "float32", "device": "cpu", "cpu_isa": "avx2"})
    return out


class Packages:
    """The bundle's packages loaded in Python, with a case's weights."""

    def __init__(self, bundle, model):
        with open(os.path.join(bundle, "manifest.json")) as fh:
            self.manifest = json.load(fh)
        files = self.manifest["files"]
        state = model.state_dict()
        self.run = {}
        for name in self.manifest["aoti"]["packages"]:
            package = torch._inductor.aoti_load_package(os.path.join(bundle, files[name]["path"]))
            stored = read_weights(os.path.join(bundle, files[name + ".weights"]["path"]),
                                  self.manifest["aoti"].get("weights_storage"))
            assert sorted(stored) == sorted(package.get_constant_fqns())
            # Constant names are the wrapper's (stage.<submodule>.<param>); the model's keys lack
            # the "stage.<wrapper attribute>" prefix only by the attribute's name.
            weights = {k: _model_tensor(state, k) for k in stored}
            package.load_constants(weights, check_full_update=True)
            self.run[name] = package

    def stages(self):
        def se(x, e, m, image):
            return tuple(self.run["spatial_encoder_image" if image else "spatial_encoder"](x))

        def sd(z, e, m, image):
            return self.run["spatial_decoder_image" if image else "spatial_decoder"](z)[0]
        return {"spatial_encoder": se, "spatial_decoder": sd,
                "temporal_encoder": lambda z, e, m: tuple(self.run["temporal_encoder"](z)),
                "temporal_decoder": lambda z, e, m: self.run["temporal_decoder"](z)[0]}

    def encode(self, v, e, m):
        return self.run["temporal_encoder"](self.run["spatial_encoder"](v)[0])[0]

    def decode(self, z, e, m):
        return self.run["spatial_decoder"](self.run["temporal_decoder"](z)[0])[0]


def _model_tensor(state, fqn):
    # stage.encoder.x -> encoder.x; stage.encoder_temporal.x -> encoder_temporal.x; etc.
    assert fqn.startswith("stage."), fqn
    key = fqn[len("stage."):]
    assert key in state, "constant %s has no model tensor %s" % (fqn, key)
    return state[key]


def _case(name):
    return load_case(name), load_file(os.path.join(PARITY_DIR, "cases", name, "tensors.safetensors"))


def test_manifest_records_engine_and_pin(aoti_bundle):
    from videovae.checkpoint import sha256_file
    with open(os.path.join(aoti_bundle, "manifest.json")) as fh:
        m = json.load(fh)
    assert m["source_checkpoint_sha256"] == sha256_file(case_checkpoint("16z-ch32-video"))
    assert m["engine"] == "aoti" and m["dtype"] == "float32"
    a = m["aoti"]
    assert a["torch_version"] == torch.__version__ and a["device"] == "cpu" and a["dtype"] == "float32"
    assert a["cpu_isa"] == "avx2" and a["march"] == "x86-64-v3" and "avx2" in a["cpu_flags"]
    names = ("spatial_encoder", "temporal_encoder", "temporal_decoder", "spatial_decoder",
             "spatial_encoder_image", "spatial_decoder_image")
    for name in names:
        assert m["files"][name]["path"] == name + ".pt2"
        assert m["files"][name + ".weights"]["path"] == name + ".weights.safetensors"
    # an image package's weights are its video package's (or those of them it uses); the same
    # set of weights is a hard link, not a copy
    for image, video in (("spatial_encoder_image", "spatial_encoder"), ("spatial_decoder_image", "spatial_decoder")):
        paths = [os.path.join(aoti_bundle, n + ".weights.safetensors") for n in (image, video)]
        keys = [sorted(load_file(p)) for p in paths]
        assert set(keys[0]) <= set(keys[1])
        assert os.path.samefile(*paths) == (keys[0] == keys[1])
    assert a["shapes"]["spatial_encoder"]["x"] == ["k", 3, "4k", "8k", "8k"]


def test_weights_are_not_in_the_packages(aoti_bundle):
    with open(os.path.join(aoti_bundle, "manifest.json")) as fh:
        files = json.load(fh)["files"]
    package = os.path.getsize(os.path.join(aoti_bundle, files["spatial_decoder"]["path"]))
    weights = os.path.getsize(os.path.join(aoti_bundle, files["spatial_decoder.weights"]["path"]))
    assert weights > 20_000_000  # ch32 spatial decoder, float32
    assert package < weights / 2, (package, weights)


@pytest.mark.parametrize("name", CASES)
def test_aoti_parity(name, aoti_bundle, resources):
    meta, tensors = _case(name)
    packages = Packages(aoti_bundle, resources.model(name))
    actual = run_case(meta, tensors, packages.stages(), packages.encode, packages.decode)
    wanted = sorted(k for k in tensors if k not in ("input", "text_emb", "text_mask"))
    assert sorted(actual) == wanted
    diffs = {k: (actual[k] - tensors[k]).abs().max().item() for k in wanted}
    print("%s [aoti]: %s" % (name, ", ".join("%s %.3g" % kv for kv in diffs.items())))
    assert all(d <= TOLERANCE for d in diffs.values()), diffs
    if name == "16z-ch32-video":  # run to run: the same bits
        again = run_case(meta, tensors, packages.stages(), packages.encode, packages.decode)
        assert all(torch.equal(actual[k], again[k]) for k in wanted)


def test_dynamic_shapes_beyond_the_example(aoti_bundle, resources):
    """Batch 3, T=12, 24x40 pixels: sizes the export never saw, against the eager model."""
    model = resources.model("16z-ch32-video")
    packages = Packages(aoti_bundle, model)
    x = torch.rand(3, 3, 12, 24, 40) * 2 - 1
    with torch.no_grad():
        mean, logvar = model.stages()["spatial_encoder"](x)
        got = packages.run["spatial_encoder"](x)
    assert got[0].shape == mean.shape == (3, 16, 12, 3, 5)
    assert (got[0] - mean).abs().max().item() <= TOLERANCE
    assert (got[1] - logvar).abs().max().item() <= TOLERANCE


def test_text_variant_temporal_stages(tmp_path, resources):
    """config_16z_cap: the text inputs are package inputs (dynamic caption length), here on the
    two temporal packages (cross-attention inside), fed the stored spatial latent."""
    from videovae.export_aoti import write_aoti_stages
    name = "16z_cap-ch32-video"
    meta, tensors = _case(name)
    model = resources.model(name)
    with _jit_forbidden():
        files, section = write_aoti_stages(model, str(tmp_path), "float32", "cpu", "avx2",
                                           packages=("temporal_encoder", "temporal_decoder"))
    assert section["shapes"]["temporal_encoder"]["text_emb"] == ["k", "k", 1024]
    run = {n: torch._inductor.aoti_load_package(str(tmp_path / files[n]["path"])) for n in section["packages"]}
    for n, package in run.items():  # (read back as the manifest's weights_storage says: compute here)
        weights = read_weights(str(tmp_path / files[n + ".weights"]["path"]), section["weights_storage"])
        package.load_constants(weights, check_full_update=True)
    emb, mask = tensors["text_emb"], tensors["text_mask"]
    mean, logvar = run["temporal_encoder"](tensors["z_spatial"], emb, mask)
    out = run["temporal_decoder"](mean, emb, mask)[0]
    diffs = {k: (a - tensors[k]).abs().max().item()
             for k, a in (("temporal_mean", mean), ("temporal_logvar", logvar), ("dec_temporal_out", out))}
    print("%s [aoti]: %s" % (name, diffs))
    assert all(d <= TOLERANCE for d in diffs.values()), diffs
    # another caption length than the stored 100 tokens: the eager stage agrees
    short_emb, short_mask = emb[:, :17].contiguous(), mask[:, :17].contiguous()
    with torch.no_grad():
        want = model.stages()["temporal_decoder"](mean, short_emb, short_mask)
    got = run["temporal_decoder"](mean, short_emb, short_mask)[0]
    assert (got - want).abs().max().item() <= TOLERANCE


def test_info_verifies_an_aoti_bundle(aoti_bundle, tmp_path):
    import shutil
    from videovae.bundle import BundleError, read_manifest, verify_files
    manifest = read_manifest(aoti_bundle)
    assert set(verify_files(aoti_bundle, manifest)) == set(manifest["files"])
    # an unknown engine, or a changed weight file, is refused with the reason
    copy = str(tmp_path / "copy")
    shutil.copytree(aoti_bundle, copy)
    with open(os.path.join(copy, "temporal_encoder.weights.safetensors"), "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\0\0\0\1")
    with pytest.raises(BundleError, match="temporal_encoder.weights.safetensors does not match its manifest hash"):
        verify_files(copy, read_manifest(copy))
    with open(os.path.join(copy, "manifest.json")) as fh:
        m = json.load(fh)
    m["engine"] = "tensorrt"
    with open(os.path.join(copy, "manifest.json"), "w") as fh:
        json.dump(m, fh)
    with pytest.raises(BundleError, match="unknown bundle engine 'tensorrt'"):
        read_manifest(copy)
