"""VideoVAE+ in PyTorch: the reference model for the official checkpoints, strict checkpoint
loading and export to TorchScript bundles for the Node/libtorch runtime.

Written from the project's architecture specification; no code of the official
(CC BY-NC-ND) release is used.
"""
from .bundle import Bundle, BundleError, load_bundle
from .checkpoint import CheckpointError, detect_config, load_model, read_state_dict
from .config import CONFIGS, VideoVAEConfig, config_from_name
from .export import export_checkpoint, write_bundle
from .model import DiagonalGaussian, VideoVAEPlus

__all__ = [
    "Bundle", "BundleError", "CONFIGS", "CheckpointError", "DiagonalGaussian", "VideoVAEConfig", "VideoVAEPlus",
    "config_from_name", "detect_config", "export_checkpoint", "load_bundle", "load_model", "read_state_dict",
    "write_bundle",
]
