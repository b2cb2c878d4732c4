"""Frame padding and chunked processing, as the official video script does it.

Chunks are fully independent (no overlap, no blending): GroupNorm statistics and temporal
context are per chunk, so results depend on the chunk size.
"""
from typing import Callable, List, Tuple

import torch
from torch import Tensor


def pad_frames(x: Tensor, multiple: int = 4) -> Tensor:
    """Appends copies of the last frame until T is a multiple of `multiple`."""
    pad = (-x.size(2)) % multiple
    if pad == 0:
        return x
    return torch.cat([x, x[:, :, -1:].expand(-1, -1, pad, -1, -1)], dim=2)


def chunked_reconstruction(encode: Callable[[Tensor], Tensor], decode: Callable[[Tensor], Tensor], x: Tensor,
                           chunk_size: int) -> Tuple[Tensor, List[Tensor]]:
    """Pad T to a multiple of 4, run chunks of chunk_size frames (the last may be shorter but is
    a multiple of 4), concatenate along T and crop. Returns (video, latent of every chunk)."""
    if chunk_size <= 0 or chunk_size % 4 != 0:
        raise ValueError("chunk_size must be a positive multiple of 4, got %d" % chunk_size)
    frames = x.size(2)
    x = pad_frames(x, 4)
    outputs, latents = [], []
    for start in range(0, x.size(2), chunk_size):
        z = encode(x[:, :, start:start + chunk_size])
        latents.append(z)
        outputs.append(decode(z))
    return torch.cat(outputs, dim=2)[:, :, :frames], latents
