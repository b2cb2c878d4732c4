"""Deterministic clip / batch streams for training.

Sample ``i`` of a stream with seed ``s`` is rendered with
``numpy.random.default_rng([s, i])``: the same seed always yields the same
samples, whatever the number of DataLoader workers.
"""
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .pool import ImagePool
from .synth import ClipSynthesizer, SynthConfig, to_model_input


class ClipDataset(IterableDataset):
    """Endless (or ``length``-long) stream of synthetic clips.

    Yields float tensors [3,T,H,W] in [-1,1] (``as_uint8=False``) or uint8
    [T,H,W,3]. ``sizes`` is a list of (T,H,W); each sample picks one at random
    (use a single entry when the samples are to be stacked by a DataLoader).
    With probability ``p_image`` a sample is a still image (T=1).
    """

    def __init__(self, pool: Optional[ImagePool] = None, sizes: Sequence[Tuple[int, int, int]] = ((16, 128, 128),),
                 seed: int = 0, p_image: float = 0.0, length: Optional[int] = None,
                 as_uint8: bool = False, config: Optional[SynthConfig] = None,
                 start: int = 0):
        super().__init__()
        self.pool = pool if pool is not None else ImagePool()
        self.synth = ClipSynthesizer(self.pool, config)
        self.sizes = [tuple(int(v) for v in s) for s in sizes]
        self.seed, self.p_image, self.length = int(seed), float(p_image), length
        self.as_uint8, self.start = as_uint8, int(start)

    def sample(self, i: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, int(i)])
        T, H, W = self.sizes[int(rng.integers(len(self.sizes)))]
        if T == 1 or rng.random() < self.p_image:
            clip = self.synth.image(rng, H, W)
        else:
            clip = self.synth.clip(rng, T, H, W)
        return clip if self.as_uint8 else to_model_input(clip)

    def __iter__(self) -> Iterator[torch.Tensor]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        i = self.start + wid
        while self.length is None or i < self.start + self.length:
            yield self.sample(i)
            i += nw

    def __len__(self):
        if self.length is None:
            raise TypeError("endless ClipDataset has no length")
        return self.length


def batches(pool: Optional[ImagePool] = None, batch_size: int = 4,
            sizes: Sequence[Tuple[int, int, int]] = ((16, 128, 128),), seed: int = 0,
            p_image_batch: float = 0.0, image_batch_size: Optional[int] = None,
            as_uint8: bool = False, config: Optional[SynthConfig] = None,
            start_batch: int = 0, num_batches: Optional[int] = None
            ) -> Iterator[torch.Tensor]:
    """Deterministic batches for joint image+video training.

    Every batch has one shape, drawn from ``sizes`` with
    ``default_rng([seed, b])``; with probability ``p_image_batch`` it is a
    batch of still images (T=1, ``image_batch_size`` of them, default
    4*batch_size). Returns [B,3,T,H,W] float in [-1,1] (or [B,T,H,W,3] uint8).
    """
    pool = pool if pool is not None else ImagePool()
    synth = ClipSynthesizer(pool, config)
    b = int(start_batch)
    while num_batches is None or b < start_batch + num_batches:
        brng = np.random.default_rng([seed, b, 0x5EED])
        T, H, W = sizes[int(brng.integers(len(sizes)))]
        is_img = T == 1 or brng.random() < p_image_batch
        n = (image_batch_size or 4 * batch_size) if is_img else batch_size
        items: List[torch.Tensor] = []
        for j in range(n):
            rng = np.random.default_rng([seed, b, j])
            items.append(synth.image(rng, H, W) if is_img else synth.clip(rng, T, H, W))
        x = torch.stack(items)
        yield x if as_uint8 else to_model_input(x)
        b += 1
