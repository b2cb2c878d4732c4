"""Export of bad checkpoints: every case is a CheckpointError that names the problem (and the
CLI prints all of it), never a raw KeyError/ValueError traceback, never a silent export."""
import os

import pytest
import torch

from conftest import PARITY_DIR
from videovae.__main__ import main
from videovae.checkpoint import CheckpointError, build_model, detect_config, read_state_dict

KEY_FILE = os.path.join(PARITY_DIR, "keys", "config_16z-ch32.tsv")
DETECTION_KEYS = ("encoder.conv_in.weight", "encoder.down.0.block.0.conv1.weight", "encoder.down.1.block.0.conv1.weight",
                  "encoder.down.2.block.0.conv1.weight", "encoder.down.3.block.0.conv1.weight",
                  "decoder_temporal.conv_last.conv.weight", "encoder_temporal.conv_in.conv.weight")


def key_shapes():
    with open(KEY_FILE) as fh:
        rows = [line.rstrip("\n").split("\t")[:2] for line in fh]
    return {k: tuple(int(s) for s in shape.split(",")) if shape else () for k, shape in rows}


def save(tmp_path, name, sd):
    path = str(tmp_path / name)
    torch.save({"state_dict": sd}, path)
    return path


def export(path, tmp_path, capsys):
    code = main(["export", "--checkpoint", path, "--out", str(tmp_path / "bundle")])
    assert not (tmp_path / "bundle").exists()
    return code, capsys.readouterr().err


@pytest.mark.parametrize("content", [b"hello world", b"K", b"X", b"export default {}\n"])
def test_non_checkpoint_file(tmp_path, capsys, content):
    path = tmp_path / "notes.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"notes\.ckpt: it is not a checkpoint .*can read \(\w+(\.\w+)?: "):
        read_state_dict(str(path))
    code, err = export(str(path), tmp_path, capsys)
    assert code == 2
    assert err.startswith("error: refusing to load") and "Traceback" not in err


def test_wrong_shape_checkpoint(tmp_path, capsys):
    # The layout of a VideoVAE+ checkpoint, but 8 channels wide: GroupNorm(32) cannot be built over it.
    shapes = key_shapes()
    sd = {k: torch.zeros((8,) + shapes[k][1:] if k == "encoder.conv_in.weight" else shapes[k]) for k in DETECTION_KEYS}
    for i, mult in enumerate((1, 2, 4, 4)):
        sd["encoder.down.%d.block.0.conv1.weight" % i] = torch.zeros(8 * mult, 8, 3, 3)
    code, err = export(save(tmp_path, "narrow.ckpt", sd), tmp_path, capsys)
    assert code == 2 and "Traceback" not in err
    assert "cannot be built (ch 8, ch_mult [1, 2, 4, 4]" in err and "divisible by num_groups (32)" in err
    # A key tensor of no dimensions at all.
    sd["encoder.conv_in.weight"] = torch.tensor(1.0)
    with pytest.raises(CheckpointError, match="tensor shapes do not describe a VideoVAE"):
        detect_config(sd)


def test_mismatched_keys_listed(tmp_path, capsys):
    shapes = key_shapes()
    sd = {k: torch.zeros(shapes[k]) for k in DETECTION_KEYS}
    code, err = export(save(tmp_path, "partial.ckpt", sd), tmp_path, capsys)
    assert code == 2
    lines = err.rstrip("\n").split("\n")
    assert lines[0].startswith("error: checkpoint does not match the 16z model")
    assert lines[1].startswith("  missing keys (447): encoder.conv_in.bias,")  # 447: detected as one block per level


def test_non_finite_weights_refused():
    shapes = key_shapes()
    sd = {k: torch.zeros(s) for k, s in shapes.items()}
    sd["encoder.conv_in.bias"][3] = float("nan")
    sd["decoder.conv_out.weight"].view(-1)[:2] = float("inf")
    sd["decoder.conv_out.weight"].view(-1)[5] = float("-inf")
    config = detect_config(sd)
    with pytest.raises(CheckpointError, match=r"NaN or Inf weights in 2 tensors; refusing to export a broken model: "
                                              r"encoder\.conv_in\.bias \(1 NaN, 0 Inf\), decoder\.conv_out\.weight \(0 NaN, 3 Inf\)"):
        build_model(sd, config)
    sd["encoder.conv_in.bias"][3] = 0.0
    sd["decoder.conv_out.weight"].zero_()
    assert build_model(sd, config).config.ch == 32
