"""sedjax.io.provenance: the one sha256 and the one package-version lookup."""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform

import pytest

from sedjax.io.provenance import package_version, package_versions, sha256_of


def test_sha256_of_matches_hashlib_across_chunks(tmp_path):
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB chunk
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    expect = hashlib.sha256(data).hexdigest()
    assert sha256_of(path) == expect
    assert sha256_of(str(path), chunk=7) == expect
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_of(empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_sha256_of_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        sha256_of(tmp_path / "absent.h5")


def test_package_version():
    assert package_version("numpy") == importlib.metadata.version("numpy")
    assert package_version("no-such-distribution-sedjax-test") is None


def test_package_versions_keys_in_order():
    out = package_versions(("numpy", "no-such-distribution-sedjax-test"))
    assert list(out) == ["python", "numpy", "no-such-distribution-sedjax-test"]
    assert out["python"] == platform.python_version()
    assert out["numpy"] == importlib.metadata.version("numpy")
    assert out["no-such-distribution-sedjax-test"] is None
