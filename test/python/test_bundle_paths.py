"""verify_files resolves symlinks: a bundle file that leads outside the bundle is refused even
when its hash matches; one that stays inside is accepted."""
import hashlib
import os

import pytest

from videovae.bundle import BundleError, verify_files


def test_symlink_out_of_the_bundle_refused(tmp_path):
    secret = tmp_path / "secret.pt"
    secret.write_bytes(b"weights")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "inside.pt").write_bytes(b"weights")
    os.symlink("inside.pt", bundle / "alias.pt")
    os.symlink(str(secret), bundle / "escape.pt")
    sha = hashlib.sha256(b"weights").hexdigest()
    ok = verify_files(str(bundle), {"files": {"a": {"path": "alias.pt", "sha256": sha}}})
    assert ok == {"a": str(bundle / "alias.pt")}
    with pytest.raises(BundleError, match=r"a is a symlink to .*secret\.pt, outside the bundle"):
        verify_files(str(bundle), {"files": {"a": {"path": "escape.pt", "sha256": sha}}})
