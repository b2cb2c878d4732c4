"""Shared fixtures: parity cases, cached synthetic checkpoints, loaded models and bundles.

Synthetic checkpoints are regenerated with ../shared/parity/make_checkpoint.py into
.cache/parity/ (git-ignored) and reused. Torch runs with 2 intra-op threads: the golden
fixtures were produced that way and exact equality depends on it.
"""
import importlib.util
import json
import os
import sys

import pytest
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

# The shared fixtures live beside the checkout (../shared) unless VIDEOVAE_SHARED says otherwise.
SHARED_DIR = os.path.abspath(os.environ.get("VIDEOVAE_SHARED") or os.path.join(ROOT, "..", "shared"))
PARITY_DIR = os.path.join(SHARED_DIR, "parity")
HAVE_PARITY = os.path.isdir(os.path.join(PARITY_DIR, "cases"))
# Test files that run without the shared fixtures; every other one needs them.
STANDALONE_TESTS = ("test_layers.py", "test_training.py", "test_training_data.py")
CACHE_DIR = os.path.join(ROOT, ".cache", "parity")
FULL_CASES = ("16z-full-video",)

torch.set_num_threads(2)


def parity_cases(include_full: bool = False):
    cases_dir = os.path.join(PARITY_DIR, "cases")
    if not os.path.isdir(cases_dir):
        return []
    names = sorted(os.listdir(cases_dir))
    return [n for n in names if include_full or n not in FULL_CASES]


def load_case(name: str) -> dict:
    with open(os.path.join(PARITY_DIR, "cases", name, "case.json")) as fh:
        return json.load(fh)


def _make_checkpoint_module():
    spec = importlib.util.spec_from_file_location("make_checkpoint", os.path.join(PARITY_DIR, "make_checkpoint.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic_checkpoint(key_file: str, seed: int) -> str:
    """Path of the cached checkpoint for (key file, seed), generating it if needed."""
    os.makedirs(CACHE_DIR, exist_ok=True)
    stem = os.path.splitext(os.path.basename(key_file))[0]
    path = os.path.join(CACHE_DIR, "%s-%d.ckpt" % (stem, seed))
    if not os.path.exists(path):
        mc = _make_checkpoint_module()
        sd = mc.make_state_dict(mc.read_keys(os.path.join(PARITY_DIR, key_file)), seed)
        tmp = path + ".tmp-%d" % os.getpid()
        torch.save({"state_dict": sd, "epoch": 0, "global_step": 0, "pytorch-lightning_version": "1.9.4"}, tmp)
        os.replace(tmp, path)  # never leave a truncated file in the cache
    return path


def case_checkpoint(name: str) -> str:
    meta = load_case(name)
    return synthetic_checkpoint(meta["key_file"], meta["seed"])


class CaseResources:
    """Per-case model and bundle, built once per session and shared by all tests."""

    def __init__(self, tmp_factory):
        self._tmp = tmp_factory
        self._models = {}
        self._bundles = {}

    def model(self, name):
        if name not in self._models:
            from videovae.checkpoint import load_model
            self._models[name] = load_model(case_checkpoint(name), load_case(name)["config"])[0]
        return self._models[name]

    def bundle_dir(self, name, mode="exact"):
        if (name, mode) not in self._bundles:
            from videovae.checkpoint import sha256_file
            from videovae.export import write_bundle
            out = os.path.join(str(self._tmp.mktemp("bundle-%s-%s" % (name, mode))), "bundle")
            write_bundle(self.model(name), out, "exact", sha256_file(case_checkpoint(name)), mode=mode)
            self._bundles[(name, mode)] = out
        return self._bundles[(name, mode)]


@pytest.fixture(scope="session")
def resources(tmp_path_factory):
    return CaseResources(tmp_path_factory)


# -- per-tensor parity report -------------------------------------------------------------

PARITY_REPORT = []


def pytest_terminal_summary(terminalreporter):
    if not PARITY_REPORT:
        return
    terminalreporter.section("parity: max |ours - official| per tensor")
    for case, mode, tensor, diff in PARITY_REPORT:
        terminalreporter.write_line("%-20s %-7s %-24s %.3g" % (case, mode, tensor, diff))


def pytest_collection_modifyitems(config, items):
    if HAVE_PARITY:
        return
    skip = pytest.mark.skip(reason="parity fixtures not found at %s (set VIDEOVAE_SHARED)" % PARITY_DIR)
    for item in items:
        if os.path.basename(str(item.fspath)) not in STANDALONE_TESTS:
            item.add_marker(skip)
