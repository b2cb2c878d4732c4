"""Checkpoint reading, variant detection and strict loading."""
import os

import pytest
import torch

from conftest import PARITY_DIR, case_checkpoint
from videovae.checkpoint import (CheckpointError, build_model, detect_config, read_state_dict, resolve_config)
from videovae.config import config_from_name
from videovae.model import VideoVAEPlus

EXPECTED = {
    "config_16z": ("16z", 16, False, False, 614),
    "config_4z": ("4z", 4, True, False, 618),
    "config_16z_cap": ("16z-text", 16, False, True, 796),
    "config_4z_cap": ("4z-text", 4, True, True, 800),
}


def read_key_file(name):
    rows = []
    with open(os.path.join(PARITY_DIR, "keys", name + ".tsv")) as fh:
        for line in fh:
            key, shape = line.rstrip("\n").split("\t")[:2]
            rows.append((key, tuple(int(s) for s in shape.split(",")) if shape else ()))
    return rows


def meta_state_dict(name):
    return {k: torch.empty(s, device="meta") for k, s in read_key_file(name)}


@pytest.fixture(scope="module")
def small_checkpoint():
    return case_checkpoint("16z-ch32-video")


@pytest.fixture()
def small_sd(small_checkpoint):
    return read_state_dict(small_checkpoint)


@pytest.mark.parametrize("config", sorted(EXPECTED))
@pytest.mark.parametrize("width", ["ch32", "full"])
def test_detects_variant_and_widths(config, width):
    variant, zc, quant, caption, nkeys = EXPECTED[config]
    sd = meta_state_dict("%s-%s" % (config, width))
    assert len(sd) == nkeys
    detected = detect_config(sd)
    assert (detected.variant, detected.config_name) == (variant, config)
    assert (detected.z_channels, detected.use_quant_conv, detected.caption) == (zc, quant, caption)
    size = 32 if width == "ch32" else 128
    assert (detected.ch, detected.hidden_channel) == (size, size)
    assert detected.ch_mult == (1, 2, 4, 4) and detected.num_res_blocks == 2


@pytest.mark.parametrize("config", sorted(EXPECTED))
def test_model_keys_match_official_order(config):
    with torch.device("meta"):
        model = VideoVAEPlus(config_from_name(config, ch=32, hidden_channel=32))
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert ours == read_key_file(config + "-ch32")


def test_config_may_confirm():
    sd = meta_state_dict("config_4z_cap-ch32")
    assert resolve_config(sd, "config_4z_cap").variant == "4z-text"


def test_config_contradiction_names_both():
    sd = meta_state_dict("config_4z-ch32")
    with pytest.raises(CheckpointError) as err:
        resolve_config(sd, "config_16z_cap")
    message = str(err.value)
    assert "config_16z_cap" in message and "config_4z" in message and "contradicts" in message


def test_cli_config_contradiction(small_checkpoint, tmp_path, capsys):
    from videovae.__main__ import main
    out = tmp_path / "bundle"
    assert main(["export", "--checkpoint", small_checkpoint, "--out", str(out), "--config", "config_4z"]) == 2
    err = capsys.readouterr().err
    assert "--config config_4z contradicts" in err and "(config_16z)" in err
    assert not out.exists()


def test_loss_keys_dropped(small_checkpoint):
    raw = torch.load(small_checkpoint, weights_only=True, mmap=True)["state_dict"]
    assert any(k.startswith("loss") for k in raw)
    sd = read_state_dict(small_checkpoint)
    assert not any(k.startswith("loss") for k in sd)
    assert len(sd) == 614


def _strict_error(sd):
    with pytest.raises(CheckpointError) as err:
        build_model(sd, detect_config(meta_state_dict("config_16z-ch32")))
    return str(err.value)


def test_strict_missing_key(small_sd):
    del small_sd["encoder.mid.attn_1_tmp.relative_position_k.embeddings_table"]
    message = _strict_error(small_sd)
    assert "missing keys (1)" in message and "relative_position_k.embeddings_table" in message


def test_strict_unexpected_key(small_sd):
    small_sd["encoder.mid.attn_2.q.weight"] = torch.zeros(3)
    message = _strict_error(small_sd)
    assert "unexpected keys (1)" in message and "encoder.mid.attn_2.q.weight" in message


def test_strict_wrong_shape(small_sd):
    small_sd["decoder.conv_out.bias"] = torch.zeros(4)
    message = _strict_error(small_sd)
    assert "shape mismatches (1)" in message and "decoder.conv_out.bias: checkpoint [4], model [3]" in message


def test_safetensors_and_plain_state_dict(small_sd, tmp_path):
    from safetensors.torch import save_file
    st, pt = str(tmp_path / "m.safetensors"), str(tmp_path / "m.pt")
    save_file(small_sd, st)
    torch.save(small_sd, pt)
    for path in (st, pt):
        sd = read_state_dict(path)
        assert sorted(sd) == sorted(small_sd)  # safetensors stores keys sorted
        assert all(torch.equal(sd[k], small_sd[k]) for k in ("encoder.conv_in.weight", "decoder_temporal.conv_last.conv.bias"))
        assert detect_config(sd).variant == "16z"
        assert build_model(sd, detect_config(sd)).encoder.conv_in.weight.dtype == torch.float32


class _Payload:
    """Unpickling this would run a shell command; weights_only loading must refuse it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch %s" % self.marker,))


def test_pickled_code_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = str(tmp_path / "evil.ckpt")
    torch.save({"state_dict": {"encoder.conv_in.weight": torch.zeros(1)}, "payload": _Payload(str(marker))}, path)
    with pytest.raises(CheckpointError, match=r"weights_only=True.*posix\.system|weights_only=True.*os\.system"):
        read_state_dict(path)
    assert not marker.exists()


class Opaque:
    pass


def test_pickled_object_refused(tmp_path):
    path = str(tmp_path / "obj.pt")
    torch.save({"state_dict": {}, "obj": Opaque()}, path)
    with pytest.raises(CheckpointError, match=r"refusing to load .*pickled object of type/function .*Opaque"):
        read_state_dict(path)


def test_garbage_file_refused(tmp_path):
    path = tmp_path / "junk.ckpt"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="refusing to load"):
        read_state_dict(str(path))


def test_non_tensor_entries_refused(tmp_path):
    path = str(tmp_path / "mixed.pt")
    torch.save({"encoder.conv_in.weight": torch.zeros(1), "note": "text"}, path)
    with pytest.raises(CheckpointError, match="not tensors"):
        read_state_dict(path)


def test_not_a_videovae_checkpoint(tmp_path):
    path = str(tmp_path / "other.pt")
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not a VideoVAE"):
        detect_config(read_state_dict(path))
    with pytest.raises(CheckpointError, match="not found"):
        read_state_dict(str(tmp_path / "missing.ckpt"))


def test_cli_info_checkpoint(small_checkpoint, capsys):
    import json
    from videovae.__main__ import main
    assert main(["info", "--checkpoint", small_checkpoint, "--config", "config_16z"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["variant"], info["keys"], info["parameters"]) == ("16z", 614, 30635507)
    assert info["widths"]["ch"] == 32 and info["widths"]["hidden_channel"] == 32
