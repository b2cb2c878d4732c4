"""`export --engine aoti --weights-storage compute|float16|int8`: what the side files hold, what
the manifest says, and reading them back (videovae.aoti_weights).

The exporter's file writing runs for real on the ch32 16z model; only the compile of each
package (minutes; compiled for real in test_aoti_export.py and by the Node fixtures, which run
the tiny packages with these storages) is replaced by a placeholder file whose constants are the
stage's weights.
"""
import json
import os

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from videovae import export_aoti
from videovae.aoti_weights import loaded_weights, read_weights, storage_metadata, stored_weights
from videovae.quantize import dequantize, quantize_tensor

PACKAGES = ("temporal_decoder", "spatial_decoder", "spatial_decoder_image")


def _placeholder_compile(model, name, out_path, dtype=torch.float32, device="cpu"):
    with open(out_path, "wb") as fh:
        fh.write(b"not compiled: " + name.encode())
    stage = model.stages()[export_aoti.PACKAGES[name][0]]
    return {"stage." + k: v.detach().contiguous() for k, v in stage.state_dict().items()}


@pytest.fixture(scope="module")
def exported(resources, tmp_path_factory):
    """storage choice -> (bundle dir, files, aoti section), for the three storages."""
    model = resources.model("16z-ch32-video")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(export_aoti, "export_package", _placeholder_compile)
        for choice in ("compute", "float16", "int8"):
            tmp = str(tmp_path_factory.mktemp("aoti-" + choice))
            files, section = export_aoti.write_aoti_stages(model, tmp, "float32", "cpu", "avx2", packages=PACKAGES,
                                                           weights_storage=choice)
            out[choice] = (tmp, files, section)
    return model, out


def _side(exported, choice, name):
    tmp, files, _ = exported[1][choice]
    return os.path.join(tmp, files[name + ".weights"]["path"])


def test_manifest_records_the_storage(exported):
    from videovae.checkpoint import sha256_file
    for choice, storage in (("compute", "compute"), ("float16", "float16"), ("int8", "int8-absmax-dim0")):
        tmp, files, section = exported[1][choice]
        assert section["weights_storage"] == storage
        for name in PACKAGES:
            assert files[name + ".weights"]["sha256"] == sha256_file(_side(exported, choice, name))
            with safe_open(_side(exported, choice, name), "pt") as fh:
                assert fh.metadata()["weights_storage"] == storage
        # the image package holds the video package's weights: a hard link in every storage
        assert os.path.samefile(_side(exported, choice, "spatial_decoder"), _side(exported, choice, "spatial_decoder_image"))


def test_side_files_hold_the_storage_asked_for(exported):
    model, runs = exported
    constants = _placeholder_compile(model, "spatial_decoder", os.devnull)
    f16 = load_file(_side(exported, "float16", "spatial_decoder"))
    assert sorted(f16) == sorted(constants)
    assert all(t.dtype == torch.float16 and torch.equal(t, constants[k].half()) for k, t in f16.items())
    i8 = load_file(_side(exported, "int8", "spatial_decoder"))
    big = sorted(k for k, t in constants.items() if t.dim() >= 2)
    assert big and sorted(k[:-2] for k in i8 if k.endswith(".q")) == big
    for k in big:  # exactly quantize.py's scheme
        q, scale = quantize_tensor(constants[k])
        assert i8[k + ".q"].dtype == torch.int8 and torch.equal(i8[k + ".q"], q) and torch.equal(i8[k + ".scale"], scale)
    small = [k for k in constants if constants[k].dim() < 2]
    assert small and all(i8[k].dtype == torch.float16 for k in small)
    # read back as the package's constants: float32, the rebuilt values
    back = read_weights(_side(exported, "int8", "spatial_decoder"), "int8-absmax-dim0")
    assert sorted(back) == sorted(constants) and all(t.dtype == torch.float32 for t in back.values())
    k = big[0]
    assert torch.equal(back[k], dequantize(i8[k + ".q"], i8[k + ".scale"]))
    assert torch.equal(read_weights(_side(exported, "float16", "spatial_decoder"), "float16")[k], constants[k].half().float())
    assert all(torch.equal(t, constants[n]) for n, t in read_weights(_side(exported, "compute", "spatial_decoder"), None).items())


def test_side_files_are_smaller(exported):
    size = {c: sum(os.path.getsize(_side(exported, c, n)) for n in ("temporal_decoder", "spatial_decoder")) for c in ("compute", "float16", "int8")}
    print("side files (ch32 temporal + spatial decoder): %s" % size)
    assert 0.45 < size["float16"] / size["compute"] < 0.55, size
    assert 0.24 < size["int8"] / size["compute"] < 0.3, size


def test_bfloat16_constants_come_back_in_their_dtype():
    constants = {"a.weight": torch.randn(4, 3, 2, dtype=torch.bfloat16), "a.bias": torch.randn(4), "ids": torch.arange(3)}
    for storage in ("float16", "int8-absmax-dim0"):
        stored = stored_weights(constants, storage)
        assert stored["ids"].dtype == torch.int64
        back = loaded_weights(stored, storage, json.loads(storage_metadata(constants, storage)["dtypes"]))
        assert {k: t.dtype for k, t in back.items()} == {k: t.dtype for k, t in constants.items()}


def test_malformed_int8_files_and_unknown_storage_are_refused():
    constants = {"a.weight": torch.randn(4, 3)}
    stored = stored_weights(constants, "int8-absmax-dim0")
    with pytest.raises(ValueError, match="a.weight has no fitting .scale"):
        loaded_weights({"a.weight.q": stored["a.weight.q"]}, "int8-absmax-dim0")
    with pytest.raises(ValueError, match="a.weight has no fitting .scale"):
        loaded_weights({"a.weight.q": stored["a.weight.q"], "a.weight.scale": torch.ones(3)}, "int8-absmax-dim0")
    with pytest.raises(ValueError, match="unknown weights storage 'int4'"):
        loaded_weights(stored, "int4")
    with pytest.raises(ValueError, match="weights storage must be one of"):
        export_aoti.write_aoti_stages(None, "/nonexistent", weights_storage="int4")
    with pytest.raises(ValueError, match="constants named like int8 entries"):
        stored_weights({"a.q": torch.randn(2), "b.weight": torch.randn(2, 2)}, "int8-absmax-dim0")


def test_read_manifest_refuses_an_unknown_storage(tmp_path):
    from videovae.bundle import BundleError, read_manifest
    manifest = {"format_version": 1, "engine": "aoti", "files": {},
                "aoti": {"packages": ["spatial_encoder", "temporal_encoder", "temporal_decoder", "spatial_decoder"],
                         "weights_storage": "int4"}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="unknown aoti.weights_storage 'int4'"):
        read_manifest(str(tmp_path))


def test_cli_refuses_weights_storage_without_aoti(capsys, tmp_path):
    from videovae.__main__ import main
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--checkpoint", str(tmp_path / "x.ckpt"), "--out", str(tmp_path / "b"), "--weights-storage", "int8"])
    assert exit_info.value.code == 2
    assert "--weights-storage is an option of --engine aoti" in capsys.readouterr().err
