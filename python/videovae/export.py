"""Bundle writer: four TorchScript stage files plus manifest.json.

The bundle is the whole contract with the C++ side (see python/README or the final report):
it reads nothing else from Python. A bundle is assembled in a temporary sibling directory and
renamed into place, so a crash never leaves a half-written bundle at the target path.
"""
import json
import os
import shutil
import tempfile
import warnings
from typing import Dict, Optional

import torch

from .checkpoint import load_model, sha256_file
from .config import TEMPORAL_COMPRESSION, TEXT_MAX_LENGTH, VideoVAEConfig
from .fast import check_mode, fast_copy
from .model import STAGE_NAMES, VideoVAEPlus

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def build_manifest(config: VideoVAEConfig, attention: str, checkpoint_sha256: Optional[str],
                   files: Dict[str, Dict[str, str]], mode: str = "exact") -> Dict[str, object]:
    f = config.spatial_compression
    return {
        "format_version": FORMAT_VERSION,
        "variant": config.variant,
        "config": config.config_name,
        "widths": config.widths(),
        "latent_channels": config.z_channels,
        "compression": {"t": TEMPORAL_COMPRESSION, "h": f, "w": f},
        "rules": {"t_multiple": TEMPORAL_COMPRESSION, "t_min": TEMPORAL_COMPRESSION, "hw_multiple": f},
        "text": {"required": True, "dim": config.text_dim, "max_length": TEXT_MAX_LENGTH} if config.caption else None,
        "dtype": "float32",
        "attention": attention,
        "mode": mode,
        "torch_version": torch.__version__,
        "source_checkpoint_sha256": checkpoint_sha256,
        "files": {name: files[name] for name in STAGE_NAMES},
    }


def write_bundle(model: VideoVAEPlus, out_dir: str, attention: str = "exact",
                 checkpoint_sha256: Optional[str] = None, overwrite: bool = False,
                 mode: str = "exact") -> Dict[str, object]:
    """Scripts the model's four stages and writes them atomically to out_dir.

    mode "fast" scripts the fast form of the model (videovae.fast) instead; `model` itself is
    left unchanged.
    """
    check_mode(mode)
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not overwrite:
        raise FileExistsError("bundle directory already exists: %s (use --force to replace it)" % out_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    model.set_attention(attention)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(out_dir) + ".partial-", dir=parent)
    try:
        files = {}
        stages = model.stages() if mode == "exact" else fast_copy(model).stages()
        for name, stage in stages.items():
            path = os.path.join(tmp, name + ".pt")
            with warnings.catch_warnings():
                # TorchScript is deprecated upstream but is what libtorch loads; keep output quiet.
                warnings.simplefilter("ignore", DeprecationWarning)
                torch.jit.save(torch.jit.script(stage), path)
            files[name] = {"path": name + ".pt", "sha256": sha256_file(path)}
        # The fast mode replaces the mid-block attention by fused SDPA whatever was asked.
        recorded = attention if mode == "exact" else "sdpa"
        manifest = build_manifest(model.config, recorded, checkpoint_sha256, files, mode)
        with open(os.path.join(tmp, MANIFEST), "w") as fh:
            json.dump(manifest, fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o755)  # mkdtemp creates 0700
        _move_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        model.set_attention("exact")
    return manifest


def _move_into_place(tmp: str, out_dir: str) -> None:
    if not os.path.exists(out_dir):
        os.rename(tmp, out_dir)
        return
    # Replace: move the old bundle aside first so out_dir is always either old or new.
    old = tempfile.mkdtemp(prefix="." + os.path.basename(out_dir) + ".old-", dir=os.path.dirname(out_dir))
    os.rmdir(old)
    os.rename(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def export_checkpoint(checkpoint: str, out_dir: str, config_name: Optional[str] = None,
                      attention: str = "exact", overwrite: bool = False, mode: str = "exact") -> Dict[str, object]:
    """Checkpoint file -> bundle directory. Returns the manifest."""
    if attention not in ("exact", "chunked"):
        raise ValueError("attention must be 'exact' or 'chunked', got %r" % (attention,))
    check_mode(mode)
    model, _ = load_model(checkpoint, config_name)
    return write_bundle(model, out_dir, attention, sha256_file(checkpoint), overwrite, mode)
