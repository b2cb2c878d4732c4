"""Training data for the default VideoVAE+ model (see python/training/DATA.md)."""
