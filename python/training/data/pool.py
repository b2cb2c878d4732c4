"""The image pool built by build_pool.py / scripts/fetch-training-data.sh."""
import json
import os
import threading
from typing import Dict, List, Optional

import numpy as np
import torch

CATEGORIES = ("scene", "object", "texture", "astro")


def default_pool_dir() -> str:
    """$VIDEOVAE_TRAINING_POOL, else <repo>/.cache/training-data/pool."""
    env = os.environ.get("VIDEOVAE_TRAINING_POOL")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
    return os.path.join(repo, ".cache", "training-data", "pool")


def _load_image(path: str) -> np.ndarray:
    from PIL import Image  # imported lazily: only needed when decoding

    with Image.open(path) as im:
        im.load()
        if im.mode == "RGBA":
            return np.asarray(im).copy()
        return np.asarray(im.convert("RGB")).copy()


class ImagePool:
    """Lazily decoded, in-memory cached images grouped by category.

    ``get(category, i)`` returns a uint8 tensor [C,H,W] (C=3, or 4 for the
    ``object`` category, whose alpha is straight, not premultiplied).
    """

    def __init__(self, root: Optional[str] = None, cache: bool = True,
                 exclude_sources: Optional[List[str]] = None):
        self.root = root or default_pool_dir()
        mpath = os.path.join(self.root, "manifest.json")
        if not os.path.exists(mpath):
            raise FileNotFoundError(
                f"no image pool at {self.root}: run scripts/fetch-training-data.sh "
                "(or set VIDEOVAE_TRAINING_POOL)")
        with open(mpath) as f:
            self.manifest = json.load(f)
        skip = set(exclude_sources or [])
        self.items: Dict[str, List[dict]] = {c: [] for c in CATEGORIES}
        for rec in self.manifest["images"]:
            if rec["source"] in skip:
                continue
            self.items.setdefault(rec["category"], []).append(rec)
        self.cache = cache
        self._cache: Dict[str, torch.Tensor] = {}
        self._lock = threading.Lock()

    def __getstate__(self):   # picklable for DataLoader workers (spawn)
        st = self.__dict__.copy()
        st["_lock"] = None
        st["_cache"] = {} if not self.cache else dict(self._cache)
        return st

    def __setstate__(self, st):
        self.__dict__.update(st)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(v) for v in self.items.values())

    def count(self, category: str) -> int:
        return len(self.items.get(category, ()))

    def record(self, category: str, i: int) -> dict:
        return self.items[category][i]

    def get(self, category: str, i: int) -> torch.Tensor:
        rec = self.items[category][i]
        key = rec["path"]
        t = self._cache.get(key)
        if t is None:
            arr = _load_image(os.path.join(self.root, key))
            t = torch.from_numpy(arr).permute(2, 0, 1).contiguous()
            if self.cache:
                with self._lock:
                    self._cache[key] = t
        return t

    def preload(self) -> None:
        for c, recs in self.items.items():
            for i in range(len(recs)):
                self.get(c, i)
