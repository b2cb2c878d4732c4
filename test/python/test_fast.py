"""The fast export mode (videovae.fast) against the official fixtures.

Fast bundles reorder float arithmetic (oneDNN convs, fused swish and attention), so they are
not bit-exact; every stored tensor of every ch32 case must stay within 1e-4 max abs of the
reference, which the exact mode reproduces bit for bit (test_parity.py).
"""
import json
import os

import pytest
import torch
from safetensors.torch import load_file

from conftest import PARITY_DIR, PARITY_REPORT, load_case, parity_cases
from test_parity import INPUTS, assert_matches, run_case

TOLERANCE = 1e-4


def _tensors(name):
    return load_file(os.path.join(PARITY_DIR, "cases", name, "tensors.safetensors"))


def assert_close(name, mode, expected, actual):
    wanted = sorted(k for k in expected if k not in INPUTS)
    assert wanted == sorted(actual)
    diffs = {}
    for key in wanted:
        assert tuple(actual[key].shape) == tuple(expected[key].shape), key
        assert actual[key].dtype == torch.float32, key
        diffs[key] = (actual[key] - expected[key]).abs().max().item()
        PARITY_REPORT.append((name, mode, key, diffs[key]))
    bad = {k: d for k, d in diffs.items() if not d <= TOLERANCE}
    assert not bad, "fast mode beyond %g max abs: %s" % (TOLERANCE, bad)


@pytest.mark.parametrize("name", parity_cases())
def test_fast_bundle_within_tolerance(name, resources):
    from videovae.bundle import load_bundle
    meta, tensors = load_case(name), _tensors(name)
    bundle = load_bundle(resources.bundle_dir(name, mode="fast"))
    assert (bundle.manifest["mode"], bundle.manifest["attention"]) == ("fast", "sdpa")
    actual = run_case(meta, tensors, bundle.modules, bundle.encode, bundle.decode)
    assert_close(name, "fast", tensors, actual)


def test_fast_copy_leaves_the_model_exact(resources):
    """Eager fast model within tolerance, and the exact model it came from still bit-exact."""
    from videovae.fast import fast_copy
    name = "16z-ch32-image"
    meta, tensors = load_case(name), _tensors(name)
    model = resources.model(name)
    fast = fast_copy(model)
    outputs = run_case(meta, tensors, fast.stages(), None, None)
    assert_close(name, "fast-eager", tensors, outputs)
    assert all(t.is_contiguous() for t in outputs.values()), "stage outputs are contiguous by contract"
    exact = run_case(meta, tensors, model.stages(), None, None)
    assert_matches(name, "eager", tensors, exact)
    assert fast.encoder.conv_in.weight.data_ptr() == model.encoder.conv_in.weight.data_ptr()  # weights shared


def test_unknown_levers_and_modes_are_refused(resources):
    from videovae.export import write_bundle
    from videovae.fast import fast_copy
    with pytest.raises(ValueError, match="unknown fast-mode lever"):
        fast_copy(resources.model("16z-ch32-image"), {"turbo": True})
    with pytest.raises(ValueError, match="mode must be 'exact' or 'fast'"):
        write_bundle(resources.model("16z-ch32-image"), "/nonexistent/never-written", mode="quick")


def test_bundle_mode_field(resources, tmp_path):
    """Bundles without "mode" (older exports) load as exact; an unknown mode is refused."""
    import shutil
    from videovae.bundle import BundleError, load_bundle, read_manifest
    src = resources.bundle_dir("16z-ch32-image")
    assert read_manifest(src)["mode"] == "exact"
    bundle = str(tmp_path / "b")
    shutil.copytree(src, bundle)
    path = os.path.join(bundle, "manifest.json")
    manifest = json.load(open(path))
    del manifest["mode"]
    json.dump(manifest, open(path, "w"))
    assert "mode" not in load_bundle(bundle).manifest
    manifest["mode"] = "turbo"
    json.dump(manifest, open(path, "w"))
    with pytest.raises(BundleError, match="unknown bundle mode 'turbo'"):
        read_manifest(bundle)


def test_fast_bundle_holds_the_exact_state_dict(resources):
    """Same keys, shapes and values as the exact bundle: training can resume from either."""
    from videovae.bundle import load_bundle
    name = "4z_cap-ch32-video"  # quant convs and cross-attention too
    exact = load_bundle(resources.bundle_dir(name)).modules
    fast = load_bundle(resources.bundle_dir(name, mode="fast")).modules
    for stage in exact:
        want, got = exact[stage].state_dict(), fast[stage].state_dict()
        assert sorted(want) == sorted(got), stage
        assert all(torch.equal(want[k], got[k]) for k in want), stage
