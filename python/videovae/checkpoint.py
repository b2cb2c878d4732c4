"""Checkpoint reading, variant detection and strict loading.

Formats: Lightning .ckpt (a dict with 'state_dict'), .safetensors, and plain state dicts
(.pt/.pth, optionally also wrapped in 'state_dict'). Pickles are only ever read with
weights_only=True, so no code from the file runs. Keys starting with 'loss' (the training
loss module) are dropped; everything else must match the model exactly.
"""
import hashlib
import os
import re
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

from .config import CONFIGS, VideoVAEConfig
from .model import VideoVAEPlus


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, is not a VideoVAE+ model, or does not match it."""


def sha256_file(path: str, block: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _torch_load(path: str):
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as e:
        if "mmap" not in str(e):
            raise
    # Legacy (non-zip) files cannot be memory-mapped.
    return torch.load(path, map_location="cpu", weights_only=True)


def read_state_dict(path: str) -> Dict[str, Tensor]:
    """The model's tensors from a checkpoint file, without the 'loss*' keys."""
    if not os.path.isfile(path):
        raise CheckpointError("checkpoint not found: %s" % path)
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        try:
            obj = load_file(path, device="cpu")
        except Exception as e:  # safetensors raises its own error types
            raise CheckpointError("cannot read %s as safetensors: %s" % (path, e)) from e
    else:
        try:
            obj = _torch_load(path)
        except Exception as e:  # the unpickler raises KeyError, IndexError, struct.error... on files that are not pickles
            reason = _load_failure_reason(e)
            if reason.startswith("it contains a pickled object"):
                raise CheckpointError(
                    "refusing to load %s: torch.load(weights_only=True) rejected it (%s). Only tensors, dicts, lists, "
                    "strings and numbers are accepted, so no code stored in the file can run. If you trust the file, "
                    "extract its state_dict to .safetensors in a separate step." % (path, reason)) from e
            raise CheckpointError(
                "refusing to load %s: it is not a checkpoint (a Lightning .ckpt, a .pt/.pth state dict or a .safetensors "
                "file) that torch.load(weights_only=True) can read (%s)" % (path, reason)) from e
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]  # Lightning checkpoint
    if not isinstance(obj, dict):
        raise CheckpointError("%s does not contain a state dict (got %s)" % (path, type(obj).__name__))
    # The training loss module is not part of the autoencoder (ignore_keys_3d: ['loss']).
    obj = {k: v for k, v in obj.items() if not (isinstance(k, str) and k.startswith("loss"))}
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, Tensor)]
    if bad:
        raise CheckpointError("%s: state dict entries that are not tensors: %s" % (path, _preview(map(str, bad))))
    return obj


def _load_failure_reason(error: Exception) -> str:
    text = str(error)
    found = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) (\S+)", text)
    if found:
        return "it contains a pickled object of type/function %s" % found.group(1)
    found = re.search(r"WeightsUnpickler error:\s*(.+)", text)
    if found:  # e.g. "Unsupported operand 110" for a file that is not a pickle at all
        return "not a valid weights pickle: %s" % found.group(1).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    kind = type(error).__name__ if type(error).__module__ == "builtins" else "%s.%s" % (type(error).__module__, type(error).__name__)
    return "%s: %s" % (kind, lines[0]) if lines else kind


def _preview(items, limit: int = 20) -> str:
    items = list(items)
    text = ", ".join(items[:limit])
    return text + (" ... (%d more)" % (len(items) - limit) if len(items) > limit else "")


def _shape(sd: Dict[str, Tensor], key: str) -> Tuple[int, ...]:
    if key not in sd:
        raise CheckpointError("not a VideoVAE+ checkpoint: key %r is missing" % key)
    return tuple(sd[key].shape)


def detect_config(sd: Dict[str, Tensor]) -> VideoVAEConfig:
    """Variant (z channels, quant conv, text) and widths from key names and shapes."""
    try:
        return _detect_config(sd)
    except (IndexError, ValueError, ZeroDivisionError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError("not a VideoVAE+ checkpoint: its tensor shapes do not describe a VideoVAE+ model (%s)" % e) from e


def _detect_config(sd: Dict[str, Tensor]) -> VideoVAEConfig:
    ch = _shape(sd, "encoder.conv_in.weight")[0]
    levels = sorted({int(m.group(1)) for k in sd for m in [re.match(r"encoder\.down\.(\d+)\.block\.0\.conv1\.weight$", k)] if m})
    if levels != list(range(len(levels))) or not levels:
        raise CheckpointError("not a VideoVAE+ checkpoint: unexpected encoder levels %r" % levels)
    ch_mult = tuple(_shape(sd, "encoder.down.%d.block.0.conv1.weight" % i)[0] // ch for i in levels)
    num_res_blocks = len({k.split(".")[4] for k in sd if k.startswith("encoder.down.0.block.")})
    z_channels = _shape(sd, "decoder_temporal.conv_last.conv.weight")[0]
    hidden = _shape(sd, "encoder_temporal.conv_in.conv.weight")[0]
    use_quant_conv = "quant_conv.weight" in sd
    caption = any(k.endswith(".to_k.weight") for k in sd)
    text_dim = _shape(sd, "encoder.down.0.attn.0.to_k.weight")[1] if caption else 1024
    config = VideoVAEConfig(z_channels=z_channels, use_quant_conv=use_quant_conv, caption=caption, ch=ch,
                            ch_mult=ch_mult, num_res_blocks=num_res_blocks, hidden_channel=hidden, text_dim=text_dim)
    try:
        config.config_name
    except ValueError as e:
        raise CheckpointError("unsupported VideoVAE+ variant: %s" % e) from e
    if len(ch_mult) != 4:
        raise CheckpointError("unsupported VideoVAE+ layout: %d resolution levels (expected 4)" % len(ch_mult))
    return config


def resolve_config(sd: Dict[str, Tensor], config_name: Optional[str] = None) -> VideoVAEConfig:
    """Detected config; a given config name may confirm it but never override it."""
    detected = detect_config(sd)
    if config_name is None:
        return detected
    if config_name not in CONFIGS:
        raise CheckpointError("unknown config %r; expected one of %s" % (config_name, ", ".join(CONFIGS)))
    wanted = CONFIGS[config_name]
    diffs = ["%s: --config says %s, checkpoint has %s" % (k, v, getattr(detected, k))
             for k, v in wanted.items() if getattr(detected, k) != v]
    if diffs:
        raise CheckpointError("--config %s contradicts the checkpoint, which is a %s model (%s): %s"
                              % (config_name, detected.variant, detected.config_name, "; ".join(diffs)))
    return detected


def mismatch_report(model: torch.nn.Module, sd: Dict[str, Tensor]) -> List[str]:
    """Human-readable problems of a strict load (empty when the checkpoint fits)."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    shapes = ["%s: checkpoint %s, model %s" % (k, list(sd[k].shape), list(s))
              for k, s in expected.items() if k in sd and tuple(sd[k].shape) != s]
    problems = []
    if missing:
        problems.append("missing keys (%d): %s" % (len(missing), _preview(missing)))
    if unexpected:
        problems.append("unexpected keys (%d): %s" % (len(unexpected), _preview(unexpected)))
    if shapes:
        problems.append("shape mismatches (%d): %s" % (len(shapes), _preview(shapes)))
    return problems


def non_finite_report(sd: Dict[str, Tensor]) -> List[str]:
    """'key (n NaN, m Inf)' for every tensor holding a NaN or an infinity (a diverged training run)."""
    report = []
    for k, v in sd.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            nan = int(torch.isnan(v).sum())
            report.append("%s (%d NaN, %d Inf)" % (k, nan, int(torch.isinf(v).sum())))
    return report


def build_model(sd: Dict[str, Tensor], config: VideoVAEConfig) -> VideoVAEPlus:
    """A VideoVAEPlus holding exactly the tensors of sd (strict), in eval mode, float32."""
    try:
        with torch.device("meta"):  # no default init: parameters come from the checkpoint
            model = VideoVAEPlus(config)
    except ValueError as e:  # e.g. GroupNorm(32) over a width that 32 does not divide
        raise CheckpointError("the checkpoint's shapes give a %s model that cannot be built (ch %d, ch_mult %s, "
                              "hidden_channel %d): %s" % (config.variant, config.ch, list(config.ch_mult),
                                                          config.hidden_channel, e)) from e
    problems = mismatch_report(model, sd)
    if problems:
        raise CheckpointError("checkpoint does not match the %s model (ch %d, hidden_channel %d); refusing to load:\n  %s"
                              % (config.variant, config.ch, config.hidden_channel, "\n  ".join(problems)))
    non_float = [k for k, v in sd.items() if not v.is_floating_point()]
    if non_float:
        raise CheckpointError("non-floating-point tensors in checkpoint: %s" % _preview(non_float))
    sd = {k: (v if v.dtype == torch.float32 else v.float()) for k, v in sd.items()}
    non_finite = non_finite_report(sd)
    if non_finite:
        raise CheckpointError("checkpoint has NaN or Inf weights in %d tensors; refusing to export a broken model: %s"
                              % (len(non_finite), _preview(non_finite)))
    model.load_state_dict(sd, strict=True, assign=True)
    model.requires_grad_(False)
    return model.eval()


def load_model(path: str, config_name: Optional[str] = None) -> Tuple[VideoVAEPlus, VideoVAEConfig]:
    """Reads, detects, checks and strictly loads a checkpoint."""
    sd = read_state_dict(path)
    config = resolve_config(sd, config_name)
    return build_model(sd, config), config
