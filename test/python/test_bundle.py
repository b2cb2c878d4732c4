"""The bundle contract: manifest, hashes, atomic writes, determinism and in-module checks."""
import filecmp
import json
import os

import pytest
import torch

from conftest import case_checkpoint
from videovae.bundle import BundleError, load_bundle, read_manifest
from videovae.export import write_bundle
from videovae.model import STAGE_NAMES

TEXT_CASE = "4z_cap-ch32-video"
PLAIN_CASE = "16z-ch32-video"


def stage_error(match):
    # A scripted module's `raise RuntimeError(msg)` surfaces in Python as torch.jit.Error
    # (not a RuntimeError subclass) whose text ends with "builtins.RuntimeError: msg".
    return pytest.raises((RuntimeError, torch.jit.Error), match=match)


@pytest.fixture(scope="module")
def twice_exported(resources, tmp_path_factory):
    """The same model exported twice into fresh directories."""
    model = resources.model(PLAIN_CASE)
    root = tmp_path_factory.mktemp("twice")
    dirs = [str(root / "a"), str(root / "b")]
    for d in dirs:
        write_bundle(model, d, "exact", "0" * 64)
    return dirs


def test_manifest_text_model(resources):
    manifest = read_manifest(resources.bundle_dir(TEXT_CASE))
    assert list(manifest) == ["format_version", "variant", "config", "widths", "latent_channels", "compression",
                              "rules", "text", "dtype", "attention", "mode", "torch_version", "source_checkpoint_sha256",
                              "files"]
    assert manifest["format_version"] == 1
    assert (manifest["variant"], manifest["config"]) == ("4z-text", "config_4z_cap")
    assert manifest["widths"] == {"ch": 32, "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2, "hidden_channel": 32}
    assert manifest["latent_channels"] == 4
    assert manifest["compression"] == {"t": 4, "h": 8, "w": 8}
    assert manifest["rules"] == {"t_multiple": 4, "t_min": 4, "hw_multiple": 8}
    assert manifest["text"] == {"required": True, "dim": 1024, "max_length": 100}
    assert (manifest["dtype"], manifest["attention"], manifest["mode"]) == ("float32", "exact", "exact")
    assert manifest["torch_version"] == torch.__version__
    from videovae.checkpoint import sha256_file
    assert manifest["source_checkpoint_sha256"] == sha256_file(case_checkpoint(TEXT_CASE))
    assert list(manifest["files"]) == list(STAGE_NAMES)
    for name, entry in manifest["files"].items():
        assert entry["path"] == name + ".pt" and len(entry["sha256"]) == 64


def test_manifest_plain_model(resources):
    manifest = read_manifest(resources.bundle_dir(PLAIN_CASE))
    assert (manifest["variant"], manifest["latent_channels"], manifest["text"]) == ("16z", 16, None)
    assert sorted(os.listdir(resources.bundle_dir(PLAIN_CASE))) == sorted(
        ["manifest.json"] + [n + ".pt" for n in STAGE_NAMES])


def test_export_is_deterministic(twice_exported):
    a, b = twice_exported
    for name in ["manifest.json"] + [n + ".pt" for n in STAGE_NAMES]:
        assert filecmp.cmp(os.path.join(a, name), os.path.join(b, name), shallow=False), name
    x = torch.linspace(-1, 1, 2 * 16 * 4 * 2 * 3).reshape(2, 16, 4, 2, 3)
    ba, bb = load_bundle(a), load_bundle(b)
    with torch.no_grad():
        assert all(torch.equal(u, v) for u, v in zip(ba.temporal_encoder(x), bb.temporal_encoder(x)))


def test_hash_mismatch_refused(twice_exported):
    victim = twice_exported[1]
    path = os.path.join(victim, "temporal_decoder.pt")
    with open(path, "r+b") as fh:
        fh.seek(-100, os.SEEK_END)
        byte = fh.read(1)
        fh.seek(-100, os.SEEK_END)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(BundleError, match="does not match its manifest hash"):
        load_bundle(victim)


def test_incomplete_or_foreign_bundle_refused(tmp_path, twice_exported):
    with pytest.raises(BundleError, match="no manifest.json"):
        load_bundle(str(tmp_path))
    manifest = read_manifest(twice_exported[0])
    manifest["format_version"] = 2
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="format_version"):
        load_bundle(str(tmp_path))
    manifest["format_version"] = 1
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="spatial_encoder.pt is missing"):
        load_bundle(str(tmp_path))


def test_existing_directory_not_replaced_without_force(resources, twice_exported):
    with pytest.raises(FileExistsError):
        write_bundle(resources.model(PLAIN_CASE), twice_exported[0])


def test_failed_export_leaves_nothing(resources, tmp_path, monkeypatch):
    calls = []

    def failing_save(module, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        return original(module, path, *args, **kwargs)

    original = torch.jit.save
    monkeypatch.setattr(torch.jit, "save", failing_save)
    with pytest.raises(OSError, match="simulated"):
        write_bundle(resources.model(PLAIN_CASE), str(tmp_path / "bundle"))
    assert os.listdir(str(tmp_path)) == []


def test_text_model_requires_text(resources):
    bundle = load_bundle(resources.bundle_dir(TEXT_CASE))
    x = torch.zeros(1, 3, 4, 8, 8)
    with stage_error("text_emb .* is required"):
        bundle.spatial_encoder(x, None, None, False)
    with stage_error(r"text_emb must be \[B, L, 1024\]"):
        bundle.spatial_encoder(x, torch.zeros(1, 100, 512), None, False)
    z = torch.zeros(1, 4, 1, 1, 1)
    for stage, args in (("temporal_decoder", (z,)), ("spatial_decoder", (z, None, None, False)),
                        ("temporal_encoder", (torch.zeros(1, 4, 4, 1, 1),))):
        with stage_error(stage + ": this is a text-conditioned model"):
            bundle.modules[stage](*args)
    with stage_error("text_mask must be"):
        bundle.temporal_decoder(z, torch.zeros(1, 100, 1024), torch.ones(1, 99))
    # The Python front end re-raises the bare message as a RuntimeError.
    with pytest.raises(RuntimeError) as err:
        bundle.decode(z)
    assert str(err.value).startswith("temporal_decoder: this is a text-conditioned model")


def test_plain_model_ignores_text(resources):
    bundle = load_bundle(resources.bundle_dir(PLAIN_CASE))
    z = torch.linspace(-1, 1, 16 * 4).reshape(1, 16, 4, 1, 1)
    with torch.no_grad():
        plain = bundle.temporal_encoder(z)
        with_text = bundle.temporal_encoder(z, torch.ones(1, 7, 33), torch.ones(1, 7))
    assert all(torch.equal(u, v) for u, v in zip(plain, with_text))


def test_shape_rules_enforced_in_modules(resources):
    bundle = load_bundle(resources.bundle_dir(PLAIN_CASE))
    with stage_error("T must be a multiple of 4 and at least 4, got T=6"):
        bundle.temporal_encoder(torch.zeros(1, 16, 6, 2, 2))
    with stage_error("got T=0"):
        bundle.temporal_encoder(torch.zeros(1, 16, 0, 2, 2))
    with stage_error("H and W must be positive multiples of 8, got 60x64"):
        bundle.spatial_encoder(torch.zeros(1, 3, 4, 60, 64))
    with stage_error("the video has no frames"):
        bundle.spatial_encoder(torch.zeros(1, 3, 0, 8, 8))
    with stage_error(r"expected a latent \[B, 16, T, h, w\]"):
        bundle.spatial_decoder(torch.zeros(1, 4, 1, 2, 2))


def test_cli_export_chunked_attention(tmp_path, capsys):
    from videovae.__main__ import main
    out = str(tmp_path / "chunked")
    args = ["export", "--checkpoint", case_checkpoint(PLAIN_CASE), "--out", out, "--attention", "chunked"]
    assert main(args) == 0
    assert read_manifest(out)["attention"] == "chunked"
    bundle = load_bundle(out)
    assert bundle.spatial_encoder.encoder.mid.attn_1.query_chunk_elements > 0
    assert bundle.spatial_decoder.decoder.mid.attn_1.query_chunk_elements > 0
    assert main(["info", "--bundle", out]) == 0
    assert '"verified": true' in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_chunked_attention_matches_exact():
    from videovae.attention import AttnBlock3D
    torch.manual_seed(0)
    block = AttnBlock3D(64).eval()
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.2)
    x = torch.randn(1, 64, 3, 16, 24)
    with torch.no_grad():
        exact = block(x)
        block.query_chunk_elements = 3 * 384 * 50  # 50 query rows per slice: 8 slices, ragged last
        chunked = block(x)
        scripted = torch.jit.script(block)(x)
    assert torch.equal(chunked, scripted)
    assert (chunked - exact).abs().max().item() <= 1e-5
