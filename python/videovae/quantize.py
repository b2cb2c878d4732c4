"""int8 weight storage for bundles (what lets a wider default model fit the 20 MB package limit).

Every stage weight of two or more dimensions (conv and linear weights: nearly all the bytes) is
stored as int8 with one float32 scale per slice along dim 0 (absmax / 127), in the side file
quantized_weights.safetensors under "<stage>/<parameter>.q" and ".scale". The TorchScript files
keep a one-element stride-0 placeholder in each such weight's place (torch.jit.save writes one
element), and the other parameters and buffers in float16. Loaders rebuild each weight as
float32 q * scale before anything runs, so Python and the addon compute with the same numbers.
On the default model this costs under 0.05 dB on the held-out sets (training/TRAINING.md).
"""
import json
import os
import warnings
from typing import Dict, Tuple

import torch
from torch import Tensor

from .checkpoint import sha256_file

SCHEME = "int8-absmax-dim0"
FILE_KEY = "quantized_weights"
FILE_NAME = "quantized_weights.safetensors"
QMAX = 127


def quantize_tensor(w: Tensor) -> Tuple[Tensor, Tensor]:
    """int8 values and the float32 per-dim-0 scale of a weight (symmetric, absmax / 127)."""
    w = w.detach().float()
    flat = w.reshape(w.shape[0], -1)
    scale = flat.abs().amax(dim=1) / QMAX
    q = torch.round(flat / scale.clamp_min(1e-30)[:, None]).clamp(-QMAX, QMAX).to(torch.int8)
    return q.reshape(w.shape).contiguous(), scale.contiguous()


def dequantize(q: Tensor, scale: Tensor) -> Tensor:
    """float32 weight q * scale, broadcast along dim 0 (the addon computes exactly this)."""
    return q.float() * scale.float().reshape([-1] + [1] * (q.dim() - 1))


def _quantizable(t: Tensor) -> bool:
    return t.is_floating_point() and t.dim() >= 2


def quantize_bundle(bundle_dir: str, stage_names) -> Dict[str, object]:
    """Rewrites the float32 stage files of a bundle being assembled: weights to the side file,
    the rest to float16. Updates and returns manifest.json's content (the caller writes it)."""
    from safetensors.torch import save_file

    with open(os.path.join(bundle_dir, "manifest.json")) as fh:
        manifest = json.load(fh)
    side: Dict[str, Tensor] = {}
    for stage in stage_names:
        entry = manifest["files"][stage]
        path = os.path.join(bundle_dir, entry["path"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(path)
        weights = {k: p.detach().clone() for k, p in module.named_parameters() if _quantizable(p)}
        module.half()  # before the placeholders go in: converting one would allocate it in full
        for name, p in module.named_parameters():
            if name in weights:
                q, scale = quantize_tensor(weights[name])
                side["%s/%s.q" % (stage, name)] = q
                side["%s/%s.scale" % (stage, name)] = scale
                p.data = torch.zeros((), dtype=p.dtype).expand(p.shape)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.save(module, path)
        entry["sha256"] = sha256_file(path)
    side_path = os.path.join(bundle_dir, FILE_NAME)
    save_file(side, side_path, metadata={"scheme": SCHEME})
    os.chmod(side_path, 0o644)  # like the stage files: the package is read by other users
    manifest["files"][FILE_KEY] = {"path": FILE_NAME, "sha256": sha256_file(side_path)}
    manifest["dtype"] = "float16"
    manifest["quantization"] = {"scheme": SCHEME, "file": FILE_KEY}
    return manifest


def check_quantization(manifest: Dict[str, object], where: str) -> None:
    """Raises ValueError unless manifest "quantization" is absent or a scheme this reader knows."""
    quant = manifest.get("quantization")
    if quant is None:
        return
    if not isinstance(quant, dict) or quant.get("scheme") != SCHEME or quant.get("file") != FILE_KEY:
        raise ValueError("unknown weight quantization %r in %s (this version reads scheme %r); re-export the bundle"
                         % (quant, where, SCHEME))


def load_quantized_weights(modules: Dict[str, torch.jit.ScriptModule], side_path: str) -> None:
    """Puts the dequantized float32 weights into the loaded stage modules, in place."""
    from safetensors.torch import load_file

    side = load_file(side_path)
    stages = {key.split("/", 1)[0] for key in side}
    if not stages <= set(modules):
        raise ValueError("%s holds weights of unknown stages %s" % (side_path, sorted(stages - set(modules))))
    for stage, module in modules.items():
        params = dict(module.named_parameters())
        stored = {key[len(stage) + 1:-2] for key in side if key.startswith(stage + "/") and key.endswith(".q")}
        expected = {name for name, p in params.items() if _quantizable(p)}
        if stored != expected:
            raise ValueError("%s does not match stage %s: %d stored weights for its %d"
                             % (side_path, stage, len(stored), len(expected)))
        for name in stored:
            q, scale = side[stage + "/" + name + ".q"], side.get(stage + "/" + name + ".scale")
            if scale is None or q.shape != params[name].shape or scale.shape != (q.shape[0],):
                raise ValueError("%s: weight %s/%s has the wrong shape or no scale" % (side_path, stage, name))
            params[name].data = dequantize(q, scale).to(params[name].device)
