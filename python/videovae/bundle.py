"""Reading a bundle back: hash verification and a small encode/decode front end.

This mirrors what the C++ side does with a bundle and is used by the tests.
"""
import json
import os
import warnings
from typing import Dict, Optional

import torch
from torch import Tensor

from .aoti_weights import COMPUTE, STORAGES
from .checkpoint import sha256_file
from .export import FORMAT_VERSION, MANIFEST
from .export_t5 import T5_FILES
from .model import STAGE_NAMES
from .quantize import FILE_KEY as QUANTIZED_FILE, check_quantization, load_quantized_weights


class BundleError(ValueError):
    """A bundle directory that is incomplete, altered or of an unknown format."""


def read_manifest(bundle_dir: str) -> Dict[str, object]:
    path = os.path.join(bundle_dir, MANIFEST)
    if not os.path.isfile(path):
        raise BundleError("not a bundle: %s has no %s" % (bundle_dir, MANIFEST))
    try:
        with open(path) as fh:
            manifest = json.load(fh)
    except (OSError, ValueError) as e:
        raise BundleError("unreadable manifest %s: %s" % (path, e)) from e
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError("unsupported bundle format_version %r in %s (expected %d)"
                          % (manifest.get("format_version"), path, FORMAT_VERSION))
    if manifest.get("mode", "exact") not in ("exact", "fast"):  # no "mode": an older, exact bundle
        raise BundleError("unknown bundle mode %r in %s (expected 'exact' or 'fast')" % (manifest.get("mode"), path))
    files = manifest.get("files")
    # A VAE bundle: the four stages, plus the T5 files when it carries a text encoder
    # (manifest "t5"). A text-only bundle ("kind": "text"): the T5 files alone.
    expected = set(T5_FILES) if manifest.get("kind") == "text" else set(STAGE_NAMES)
    if manifest.get("t5") is not None:
        expected |= set(T5_FILES)
    engine = manifest.get("engine", "torchscript")
    if engine == "aoti":  # AOTInductor packages and their weight files (videovae.export_aoti)
        packages = (manifest.get("aoti") or {}).get("packages")
        if not isinstance(packages, list) or not set(STAGE_NAMES) <= set(packages):
            raise BundleError("manifest %s: aoti.packages must list the packages, the four stages at least" % path)
        expected = set(packages) | {p + ".weights" for p in packages}
        storage = manifest["aoti"].get("weights_storage", COMPUTE)  # absent: bundles of before
        if storage not in STORAGES.values():
            raise BundleError("unknown aoti.weights_storage %r in %s (this version reads %s); re-export the bundle"
                              % (storage, path, ", ".join(STORAGES.values())))
    elif engine != "torchscript":
        raise BundleError("unknown bundle engine %r in %s (expected 'torchscript' or 'aoti')" % (engine, path))
    try:
        check_quantization(manifest, path)
    except ValueError as e:
        raise BundleError(str(e)) from None
    if manifest.get("quantization") is not None:  # int8 weights in a side file (videovae.quantize)
        expected.add(QUANTIZED_FILE)
    if not isinstance(files, dict) or set(files) != expected:
        raise BundleError("manifest %s must list exactly the files %s" % (path, ", ".join(sorted(expected))))
    return manifest


def verify_files(bundle_dir: str, manifest: Dict[str, object]) -> Dict[str, str]:
    """Checks every file against its sha256; returns name -> absolute path."""
    paths = {}
    for name in manifest["files"]:
        entry = manifest["files"][name]
        rel = entry.get("path", "")
        if os.path.isabs(rel) or os.path.normpath(rel).startswith(".."):
            raise BundleError("bundle file path for %s escapes the bundle: %r" % (name, rel))
        path = os.path.join(bundle_dir, rel)
        if not os.path.isfile(path):
            raise BundleError("bundle %s is incomplete: %s is missing" % (bundle_dir, rel))
        # The path strings may stay inside while a symlink leads out: compare real paths.
        real, root = os.path.realpath(path), os.path.realpath(bundle_dir)
        if os.path.commonpath([real, root]) != root:
            raise BundleError("bundle file path for %s is a symlink to %s, outside the bundle" % (name, real))
        actual = sha256_file(path)
        if actual != entry.get("sha256"):
            raise BundleError("bundle file %s does not match its manifest hash (expected %s, got %s); "
                              "the bundle was modified or is corrupt, re-export it"
                              % (path, entry.get("sha256"), actual))
        paths[name] = path
    return paths


def _call(module, *args):
    """Runs a scripted stage; its `raise RuntimeError(msg)` comes back as torch.jit.Error
    (not a RuntimeError subclass) with a TorchScript traceback, so re-raise just msg."""
    try:
        return module(*args)
    except torch.jit.Error as e:
        last = str(e).strip().splitlines()[-1]
        prefix = "builtins.RuntimeError: "
        if last.startswith(prefix):
            raise RuntimeError(last[len(prefix):]) from None
        raise


class Bundle:
    """The scripted modules of an exported bundle: the four stages and/or the T5 encoder."""

    def __init__(self, bundle_dir: str, manifest: Dict[str, object], modules: Dict[str, torch.jit.ScriptModule],
                 spiece: Optional[str] = None):
        self.dir = bundle_dir
        self.manifest = manifest
        self.modules = modules
        self.spiece = spiece  # path of the SentencePiece model, when the bundle has a text encoder

    def embed_text(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """T5 last hidden state [B, L, d], float32 (the tokenization is the caller's)."""
        if "t5_encoder" not in self.modules:
            raise BundleError("bundle %s has no text encoder (export it with --t5)" % self.dir)
        return _call(self.modules["t5_encoder"], input_ids, attention_mask)

    @property
    def spatial_encoder(self):
        return self.modules["spatial_encoder"]

    @property
    def temporal_encoder(self):
        return self.modules["temporal_encoder"]

    @property
    def temporal_decoder(self):
        return self.modules["temporal_decoder"]

    @property
    def spatial_decoder(self):
        return self.modules["spatial_decoder"]

    def encode(self, x: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None,
               image: bool = False) -> Tensor:
        """Posterior-mode latent: [B,zc,T/4,H/8,W/8], or [B,zc,T,H/8,W/8] with image=True."""
        z, _ = _call(self.spatial_encoder, x, text_emb, text_mask, image)
        if image:
            return z
        z, _ = _call(self.temporal_encoder, z, text_emb, text_mask)
        return z

    def decode(self, z: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None,
               image: bool = False) -> Tensor:
        if not image:
            z = _call(self.temporal_decoder, z, text_emb, text_mask)
        return _call(self.spatial_decoder, z, text_emb, text_mask, image)


def load_bundle(bundle_dir: str, map_location: str = "cpu") -> Bundle:
    """Loads a bundle after verifying every file's sha256 against the manifest."""
    manifest = read_manifest(bundle_dir)
    paths = verify_files(bundle_dir, manifest)
    modules = {}
    for name, path in paths.items():
        if name in ("spiece_model", QUANTIZED_FILE):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript deprecation notice
            modules[name] = torch.jit.load(path, map_location=map_location)
    stages = {k: m for k, m in modules.items() if k in STAGE_NAMES}
    if QUANTIZED_FILE in paths:
        try:
            load_quantized_weights(stages, paths[QUANTIZED_FILE])  # float32, before the widening below
        except ValueError as e:
            raise BundleError(str(e)) from None
    for name, module in modules.items():
        if name in stages and manifest.get("dtype", "float32") != "float32":
            module.float()  # half-precision storage (the default bundle); computation is float32
        module.eval()  # the T5 encoder keeps its compute dtype (manifest t5.dtype)
    return Bundle(bundle_dir, manifest, modules, paths.get("spiece_model"))

