"""Writes what PyTorch computes for a parity case through a bundle's TorchScript stages, on this
machine, in the layout of the case's tensors.safetensors (inputs included), so the Node tests can
demand bit-exact equality with PyTorch on any CPU, fixtures' setup or not.

    python test/support/bundle_reference.py BUNDLE_DIR CASE_NAME OUT.safetensors
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

from conftest import PARITY_DIR, load_case  # noqa: E402  (sets 2 threads, as the tests do)
from safetensors.torch import load_file, save_file  # noqa: E402
from test_parity import INPUTS, run_case  # noqa: E402


def main(bundle_dir: str, name: str, out: str) -> None:
    from videovae.bundle import load_bundle
    meta = load_case(name)
    tensors = load_file(os.path.join(PARITY_DIR, "cases", name, "tensors.safetensors"))
    bundle = load_bundle(bundle_dir)
    outputs = run_case(meta, tensors, bundle.modules, bundle.encode, bundle.decode)
    outputs.update((k, v) for k, v in tensors.items() if k in INPUTS)
    save_file({k: v.contiguous().clone() for k, v in outputs.items()}, out)  # some outputs alias others


if __name__ == "__main__":
    main(*sys.argv[1:4])
