"""Writes a copy of an AOTInductor bundle that runs another checkpoint's weights.

Usage: aoti_swap_weights.py AOTI_BUNDLE TS_OWN TS_OTHER OUT. AOTI_BUNDLE keeps its weights in
side files (<package>.weights.safetensors, keys = the package's constant FQNs, "stage." + the
TorchScript stage's state-dict key); TS_OWN is the TorchScript bundle of its own weights and
TS_OTHER that of the weights wanted. OUT gets the manifest and the packages (hard links), and side
files with TS_OTHER's weights. Inductor may compile small constants into the code (then they are
no side-file key): when such a (tiny) constant differs between the two weight sets the package cannot
take the other weights, and the script prints {"swappable": false, "reason": ...} and writes
nothing else; else {"swappable": true}.
"""
import json
import os
import shutil
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def inlinable(t: torch.Tensor) -> bool:
    """Inductor's rule (GraphLowering.can_inline_constant, and scalars) unless always_keep_tensor_constants."""
    return t.dim() == 0 or (t.dim() == 1 and t.shape[0] <= 8)


def main() -> None:
    bundle, ts_own, ts_other, out = sys.argv[1:5]
    with open(os.path.join(bundle, "manifest.json")) as f:
        manifest = json.load(f)
    side = {}
    for key in manifest["aoti"]["packages"]:
        stage = key.replace("_image", "")  # the TorchScript stages take the image flag instead
        own = torch.jit.load(os.path.join(ts_own, stage + ".pt")).state_dict()
        other = torch.jit.load(os.path.join(ts_other, stage + ".pt")).state_dict()
        weights = os.path.join(bundle, key + ".weights.safetensors")
        if not os.path.exists(weights):
            print(json.dumps({"swappable": False, "reason": f"{key} keeps its weights inside its shared object"}))
            return
        with safe_open(weights, "pt") as f:
            fqns = list(f.keys())
        given = {fqn[len("stage."):] for fqn in fqns}
        # Not a side-file key: unused on this package's path (e.g. the image path's temporal
        # layers), or compiled into the code, which Inductor does only for tiny tensors.
        inlined = [k for k in own if k not in given and inlinable(own[k]) and not torch.equal(own[k], other[k])]
        if inlined:
            print(json.dumps({"swappable": False, "reason": f"{key} has weights compiled into its code: {', '.join(inlined[:4])}"}))
            return
        side[key] = {fqn: other[fqn[len("stage."):]].contiguous() for fqn in fqns}
    os.makedirs(out, exist_ok=True)
    for key, tensors in side.items():
        save_file(tensors, os.path.join(out, key + ".weights.safetensors"))
    for name in os.listdir(bundle):
        target = os.path.join(out, name)
        if not os.path.exists(target):
            # Bundles refuse symlinks out of their directory: hard links, else copies.
            try:
                os.link(os.path.join(bundle, name), target)
            except OSError:
                shutil.copy2(os.path.join(bundle, name), target)
    print(json.dumps({"swappable": True}))


if __name__ == "__main__":
    main()
