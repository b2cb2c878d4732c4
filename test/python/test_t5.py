"""Our T5 encoder and its export against Hugging Face transformers (the reference), on a tiny
random Flan-T5-style model and a SentencePiece model trained by test/support/tiny_t5.py."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch

from conftest import ROOT, case_checkpoint
from videovae.bundle import BundleError, load_bundle, read_manifest
from videovae.checkpoint import CheckpointError
from videovae.export import export_checkpoint
from videovae.t5_checkpoint import load_t5

CAPTIONS = ["a dog running in the park", "", "Aerial view of a golden beach at sunset, waves crashing!",
            "café naïve ﬁlm ① ｆｕｌｌ 1080p", "red " * 150]
TEXT_CASE = "16z_cap-ch32-video"


def tiny_t5(name: str, *args: str) -> str:
    """A cached tiny HF T5 directory under .cache/t5 (built atomically on first use)."""
    out = os.path.join(ROOT, ".cache", "t5", name)
    if not os.path.isfile(os.path.join(out, "config.json")):
        tmp = out + ".tmp-%d" % os.getpid()
        subprocess.run([sys.executable, os.path.join(ROOT, "test", "support", "tiny_t5.py"), tmp, *args],
                       check=True, capture_output=True)
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    return out


@pytest.fixture(scope="module")
def t5_dir():
    return tiny_t5("tiny-1024")


@pytest.fixture(scope="module")
def tokens(t5_dir):
    from transformers import T5Tokenizer
    tok = T5Tokenizer.from_pretrained(t5_dir)
    enc = tok(CAPTIONS, max_length=100, padding="max_length", truncation=True, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def hf_encoder(t5_dir, dtype=torch.float32):
    from transformers import T5EncoderModel
    # Eager attention: the reference formula (SDPA reassociates, about 3e-5 off in float32).
    model = T5EncoderModel.from_pretrained(t5_dir, attn_implementation="eager").eval()
    return model.to(dtype)  # all of it, like the official transformers 4.25 (no fp32 `wo`)


def test_encoder_equals_transformers_float32(t5_dir, tokens):
    ids, mask = tokens
    ours, config, extra_ids = load_t5(t5_dir)
    assert (config.d_model, config.num_layers, extra_ids) == (1024, 2, 100)
    with torch.no_grad():
        ref = hf_encoder(t5_dir)(input_ids=ids, attention_mask=mask).last_hidden_state
        eager = ours(ids, mask)
        scripted = torch.jit.script(ours)(ids, mask)
    assert ref.shape == (len(CAPTIONS), 100, 1024)
    assert (eager - ref).abs().max().item() <= 1e-5
    assert (scripted - ref).abs().max().item() <= 1e-5


def test_bundle_bfloat16_equals_transformers_bfloat16(t5_dir, tokens, tmp_path):
    ids, mask = tokens
    manifest = export_checkpoint(None, str(tmp_path / "b"), t5_dir=t5_dir)
    assert manifest["kind"] == "text" and manifest["t5"]["dtype"] == "bfloat16"
    bundle = load_bundle(str(tmp_path / "b"))
    with torch.no_grad():
        out = bundle.embed_text(ids, mask)
        ref = hf_encoder(t5_dir, torch.bfloat16)(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        fp32 = hf_encoder(t5_dir)(input_ids=ids, attention_mask=mask).last_hidden_state
    assert out.dtype == torch.float32
    assert (out - ref).abs().max().item() <= 1e-2 * ref.abs().max().item()
    # bfloat16 is visibly different from float32 (the reason the dtype is recorded).
    assert (out - fp32).abs().max().item() > 1e-4


def test_text_bundle_files_and_hashes(t5_dir, tmp_path):
    out = str(tmp_path / "b")
    export_checkpoint(None, out, t5_dir=t5_dir, t5_dtype="float32")
    manifest = read_manifest(out)
    assert list(manifest["files"]) == ["t5_encoder", "spiece_model"]
    assert manifest["t5"]["dtype"] == "float32" and manifest["text"] == {"dim": 1024, "max_length": 100}
    with open(os.path.join(t5_dir, "spiece.model"), "rb") as a, open(os.path.join(out, "spiece.model"), "rb") as b:
        assert a.read() == b.read()
    with open(os.path.join(out, "spiece.model"), "ab") as fh:
        fh.write(b"x")
    with pytest.raises(BundleError, match="does not match its manifest hash"):
        load_bundle(out)


def test_vae_bundle_with_t5(resources, t5_dir, tmp_path):
    out = str(tmp_path / "b")
    manifest = export_checkpoint(case_checkpoint(TEXT_CASE), out, t5_dir=t5_dir, t5_dtype="float32")
    assert manifest["variant"] == "16z-text" and manifest["t5"]["d_model"] == 1024
    assert list(manifest["files"])[-2:] == ["t5_encoder", "spiece_model"]
    bundle = load_bundle(out)
    assert bundle.spiece.endswith("spiece.model") and "t5_encoder" in bundle.modules


def test_seq2seq_checkpoint_loads_encoder_only():
    model, config, _ = load_t5(tiny_t5("tiny-s2s-64", "--d-model", "64", "--seq2seq"))
    assert config.d_model == 64 and all(not k.startswith("decoder") for k in model.state_dict())


def test_width_mismatch_names_both(tmp_path):
    small = tiny_t5("tiny-s2s-64", "--d-model", "64", "--seq2seq")
    with pytest.raises(CheckpointError, match="64 wide.*text width is 1024"):
        export_checkpoint(case_checkpoint(TEXT_CASE), str(tmp_path / "b"), t5_dir=small)
    assert not os.path.exists(tmp_path / "b")


def test_t5_on_a_plain_vae_is_refused(t5_dir, tmp_path):
    with pytest.raises(CheckpointError, match="not a text model"):
        export_checkpoint(case_checkpoint("16z-ch32-video"), str(tmp_path / "b"), t5_dir=t5_dir)


def test_bad_t5_directories(t5_dir, tmp_path):
    bad = tmp_path / "t5"
    shutil.copytree(t5_dir, bad)
    os.remove(bad / "spiece.model")
    with pytest.raises(CheckpointError, match="no spiece.model"):
        load_t5(str(bad))
    shutil.copy(os.path.join(t5_dir, "spiece.model"), bad / "spiece.model")
    cfg = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps(dict(cfg, feed_forward_proj="relu")))
    with pytest.raises(CheckpointError, match="gated-gelu"):
        load_t5(str(bad))
    (bad / "config.json").write_text(json.dumps(dict(cfg, num_layers=3)))
    with pytest.raises(CheckpointError, match="missing encoder.block.2"):
        load_t5(str(bad))


def test_cli_refuses_nothing_to_export():
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-m", "videovae", "export", "--out", "/tmp/x"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--checkpoint, --t5, or both" in r.stderr
