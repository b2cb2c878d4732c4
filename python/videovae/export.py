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

from .export_t5 import T5Export, check_width, prepare_t5, t5_manifest, write_t5_files

from .checkpoint import CheckpointError, load_model, sha256_file
from .config import TEMPORAL_COMPRESSION, TEXT_MAX_LENGTH, VideoVAEConfig
from .fast import check_mode, fast_copy
from .model import STAGE_NAMES, VideoVAEPlus

FORMAT_VERSION = 1
ENGINES = ("torchscript", "aoti")
MANIFEST = "manifest.json"


def build_manifest(config: VideoVAEConfig, attention: str, checkpoint_sha256: Optional[str],
                   files: Dict[str, Dict[str, str]], t5: Optional[T5Export] = None,
                   mode: str = "exact") -> Dict[str, object]:
    f = config.spatial_compression
    manifest = {
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
        "files": {name: files[name] for name in STAGE_NAMES if name in files},
    }
    if t5 is not None:  # optional: bundles without it read as before
        manifest["t5"] = t5_manifest(t5)
        manifest["files"].update({k: v for k, v in files.items() if k not in STAGE_NAMES})
    return manifest


def build_text_manifest(t5: T5Export, files: Dict[str, Dict[str, str]]) -> Dict[str, object]:
    """A text-only bundle: the T5 encoder and tokenizer, for caption embeddings apart from a VAE."""
    return {
        "format_version": FORMAT_VERSION,
        "kind": "text",
        "text": {"dim": t5.config.d_model, "max_length": TEXT_MAX_LENGTH},
        "t5": t5_manifest(t5),
        "torch_version": torch.__version__,
        "files": files,
    }


def write_bundle(model: VideoVAEPlus, out_dir: str, attention: str = "exact",
                 checkpoint_sha256: Optional[str] = None, overwrite: bool = False,
                 t5: Optional[T5Export] = None, mode: str = "exact", engine: str = "torchscript",
                 aoti: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """Scripts the model's four stages (and the T5 encoder, if any) and writes them atomically to out_dir.

    mode "fast" scripts the fast form of the model (videovae.fast) instead; `model` itself is
    left unchanged. engine "aoti" writes AOTInductor packages instead of TorchScript
    (videovae.export_aoti; `aoti` holds its options: dtype, device, cpu_isa, packages).
    """
    check_mode(mode)
    check_engine(engine)
    if engine == "aoti":
        return write_aoti_bundle(model, out_dir, attention, checkpoint_sha256, overwrite, t5, aoti or {})
    if t5 is not None:
        if not model.config.caption:
            raise CheckpointError("the checkpoint is not a text model (%s): it takes no captions, so --t5 does not apply"
                             % model.config.variant)
        check_width(t5, model.config.text_dim)
    tmp = _start_bundle(out_dir, overwrite)
    model.set_attention(attention)
    try:
        files = write_t5_files(t5, tmp) if t5 is not None else {}
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
        manifest = build_manifest(model.config, recorded, checkpoint_sha256, files, t5, mode)
        _finish_bundle(tmp, out_dir, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        model.set_attention("exact")
    return manifest


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError("engine must be one of %s, got %r" % (", ".join(ENGINES), engine))


def write_aoti_bundle(model: VideoVAEPlus, out_dir: str, attention: str, checkpoint_sha256: Optional[str],
                      overwrite: bool, t5: Optional[T5Export], options: Dict[str, object]) -> Dict[str, object]:
    """The AOTInductor bundle: the exact form of the model compiled per stage and path (no torch.jit)."""
    from .export_aoti import write_aoti_stages
    if t5 is not None:
        raise CheckpointError("--t5 is not available with --engine aoti yet (the T5 encoder is TorchScript)")
    tmp = _start_bundle(out_dir, overwrite)
    model.set_attention(attention)
    try:
        files, section = write_aoti_stages(model, tmp, **options)
        manifest = build_manifest(model.config, attention, checkpoint_sha256, files, None, "exact")
        manifest["dtype"] = section["dtype"]
        manifest["files"] = files
        manifest["engine"] = "aoti"
        manifest["aoti"] = section
        _finish_bundle(tmp, out_dir, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        model.set_attention("exact")
    return manifest


def write_text_bundle(t5: T5Export, out_dir: str, overwrite: bool = False) -> Dict[str, object]:
    """A text-only bundle (T5 encoder + spiece.model), written atomically."""
    tmp = _start_bundle(out_dir, overwrite)
    try:
        manifest = build_text_manifest(t5, write_t5_files(t5, tmp))
        _finish_bundle(tmp, out_dir, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _start_bundle(out_dir: str, overwrite: bool) -> str:
    """A temporary sibling directory to assemble the bundle in."""
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not overwrite:
        raise FileExistsError("bundle directory already exists: %s (use --force to replace it)" % out_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(prefix="." + os.path.basename(out_dir) + ".partial-", dir=parent)


def _finish_bundle(tmp: str, out_dir: str, manifest: Dict[str, object]) -> None:
    with open(os.path.join(tmp, MANIFEST), "w") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o755)  # mkdtemp creates 0700
    _move_into_place(tmp, os.path.abspath(out_dir))


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


def export_checkpoint(checkpoint: Optional[str], out_dir: str, config_name: Optional[str] = None,
                      attention: str = "exact", overwrite: bool = False, t5_dir: Optional[str] = None,
                      t5_dtype: str = "bfloat16", mode: str = "exact", engine: str = "torchscript",
                      aoti: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """Checkpoint file (and/or HF T5 directory) -> bundle directory. Returns the manifest.
    With only t5_dir, writes a text-only bundle."""
    if attention not in ("exact", "chunked"):
        raise ValueError("attention must be 'exact' or 'chunked', got %r" % (attention,))
    check_mode(mode)
    check_engine(engine)
    if engine == "aoti" and mode != "exact":
        raise ValueError("--mode fast is a TorchScript form; --engine aoti compiles the exact model itself")
    if engine == "aoti" and attention != "exact":
        raise ValueError("--attention chunked loops over the query length, which torch.export cannot keep dynamic; "
                         "--engine aoti takes --attention exact")
    if checkpoint is None and t5_dir is None:
        raise ValueError("nothing to export: give a checkpoint, a T5 directory, or both")
    model = load_model(checkpoint, config_name)[0] if checkpoint is not None else None
    t5 = prepare_t5(t5_dir, t5_dtype) if t5_dir is not None else None
    if model is None:
        return write_text_bundle(t5, out_dir, overwrite)
    return write_bundle(model, out_dir, attention, sha256_file(checkpoint), overwrite, t5, mode, engine, aoti)
