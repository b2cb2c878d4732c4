"""How an AOTInductor bundle stores each package's weights in its side file (manifest
aoti.weights_storage), and reading them back in the dtypes the package expects.

- "compute" (also when the manifest has no weights_storage: bundles of before): every constant
  as the package computes with it (float32 or bfloat16).
- "float16": every floating constant as float16; loaders convert it to the package's dtype.
- "int8-absmax-dim0": every floating constant of two or more dims as `<fqn>.q` (int8) and
  `<fqn>.scale` (float32 per dim-0 slice), exactly videovae.quantize's scheme; the other floating
  constants as float16. Loaders rebuild q * scale in float32, then cast to the package's dtype.

Non-floating constants are stored as they are. The side file's metadata records each converted
constant's own dtype ("dtypes", JSON), for Python loaders (the addon reads it from the package).
"""
import json
from typing import Dict, Mapping, Optional

import torch
from torch import Tensor

from .quantize import SCHEME as INT8_SCHEME, dequantize, quantize_tensor

COMPUTE = "compute"
FLOAT16 = "float16"
# --weights-storage choice -> the manifest's aoti.weights_storage
STORAGES = {"compute": COMPUTE, "float16": FLOAT16, "int8": INT8_SCHEME}


def storage_name(choice: str) -> str:
    """The manifest value of a --weights-storage choice; ValueError for an unknown one."""
    if choice not in STORAGES:
        raise ValueError("weights storage must be one of %s, got %r" % (", ".join(STORAGES), choice))
    return STORAGES[choice]


def stored_weights(constants: Mapping[str, Tensor], storage: str) -> Dict[str, Tensor]:
    """The side file's tensors (on the CPU) for a package's constants in the given storage
    (a manifest value: compute, float16 or int8-absmax-dim0)."""
    if storage not in STORAGES.values():
        raise ValueError("unknown weights storage %r" % storage)
    out: Dict[str, Tensor] = {}
    for fqn, t in constants.items():
        t = t.detach().cpu().contiguous()
        if storage == COMPUTE or not t.is_floating_point():
            out[fqn] = t
        elif storage == INT8_SCHEME and t.dim() >= 2:
            out[fqn + ".q"], out[fqn + ".scale"] = quantize_tensor(t)
        else:
            out[fqn] = t.to(torch.float16)
    if storage == INT8_SCHEME:
        # A loader tells the pairs apart by name: no constant may look like one.
        clash = sorted(k for k in constants if k.endswith(".q") or (k.endswith(".scale") and k[:-6] + ".q" in out))
        if clash:
            raise ValueError("constants named like int8 entries (<fqn>.q / <fqn>.scale): %s" % clash[:5])
    return out


def storage_metadata(constants: Mapping[str, Tensor], storage: str) -> Dict[str, str]:
    """safetensors metadata: the storage and each converted constant's own dtype."""
    dtypes = {k: str(t.dtype).replace("torch.", "") for k, t in constants.items()
              if storage != COMPUTE and t.is_floating_point()}
    return {"weights_storage": storage, "dtypes": json.dumps(dtypes, sort_keys=True)}


def loaded_weights(stored: Mapping[str, Tensor], storage: Optional[str],
                   dtypes: Optional[Mapping[str, str]] = None) -> Dict[str, Tensor]:
    """The package's constants from a side file's tensors: float16 back to each constant's
    dtype (`dtypes`, from the file's metadata), int8 pairs dequantized in float32 then cast.
    ValueError for a .q without its .scale (or the other way round) or a scale that does not fit."""
    storage = storage or COMPUTE
    if storage not in STORAGES.values():
        raise ValueError("unknown weights storage %r (this version reads %s)" % (storage, ", ".join(STORAGES.values())))
    dtypes = dtypes or {}

    def dtype_of(fqn: str) -> torch.dtype:
        return getattr(torch, dtypes[fqn]) if fqn in dtypes else torch.float32

    out: Dict[str, Tensor] = {}
    for key, t in stored.items():
        if storage == INT8_SCHEME and key.endswith(".q"):
            fqn = key[:-2]
            scale = stored.get(fqn + ".scale")
            if t.dtype != torch.int8 or scale is None or scale.dim() != 1 or scale.shape[0] != t.shape[0]:
                raise ValueError("int8 weight %s has no fitting .scale (one per dim-0 slice) or is not int8" % fqn)
            out[fqn] = dequantize(t, scale).to(dtype_of(fqn))
        elif storage == INT8_SCHEME and key.endswith(".scale") and key[:-6] + ".q" in stored:
            continue
        elif storage != COMPUTE and t.is_floating_point() and key in dtypes:
            out[key] = t.to(dtype_of(key))
        else:
            out[key] = t
    return out


def read_weights(path: str, storage: Optional[str]) -> Dict[str, Tensor]:
    """A side file read back as the package's constants (see loaded_weights)."""
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(path, "pt") as fh:
        meta = fh.metadata() or {}
    return loaded_weights(load_file(path), storage, json.loads(meta.get("dtypes", "{}")))
