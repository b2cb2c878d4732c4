"""Training data for the default VideoVAE+ model (see python/training/DATA.md).

Real photographs from Debian packages (scripts/fetch-training-data.sh builds
the pool) are turned into video clips with synthetic motion.

    from training.data import ImagePool, ClipSynthesizer, ClipDataset, batches
    pool = ImagePool()                      # .cache/training-data/pool
    clip = ClipSynthesizer(pool).clip(np.random.default_rng(0), 16, 128, 128)
    # uint8 [16,128,128,3]
"""
from .pool import ImagePool, default_pool_dir
from .synth import ClipSynthesizer, SynthConfig, to_model_input, KINDS
from .dataset import ClipDataset, batches

__all__ = ["ImagePool", "default_pool_dir", "ClipSynthesizer", "SynthConfig",
           "to_model_input", "KINDS", "ClipDataset", "batches"]
