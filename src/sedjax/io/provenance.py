"""Provenance: software versions, host, git commit, for metadata of every output."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import subprocess
from importlib import metadata

_PACKAGES = ("sedjax", "jax", "jaxlib", "blackjax", "optax", "numpy", "h5py", "pandas", "pyarrow", "astro-sedpy", "snakemake")


def package_versions(packages=_PACKAGES) -> dict:
    """``{package: version}`` of the installed packages (``None`` if absent)."""
    out = {"python": platform.python_version()}
    for p in packages:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def git_commit(cwd=None) -> str | None:
    """The current git commit of the working tree, or None outside a repository."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except Exception:
        return None


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (or platform.processor())."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def sha256_of(path, chunk=1 << 20) -> str:
    """sha256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def host_info() -> dict:
    return {"hostname": platform.node(), "cpu_model": cpu_model(), "n_cpu": os.cpu_count()}
