"""Provenance: software versions, host, git commit, for metadata of every output."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import subprocess
from importlib import metadata

_PACKAGES = ("sedjax", "jax", "jaxlib", "blackjax", "optax", "numpy", "h5py", "pandas", "pyarrow", "astro-sedpy", "snakemake")


def package_version(name: str) -> str | None:
    """Installed version of the distribution ``name`` (e.g. ``"bagpipes"``), ``None`` if absent."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def package_versions(packages=_PACKAGES) -> dict:
    """``{"python": ..., package: version}`` of the installed packages (``None`` if absent)."""
    out = {"python": platform.python_version()}
    out.update({name: package_version(name) for name in packages})
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
    """sha256 of a file: lower-case hex digest (64 characters), read in ``chunk``-byte blocks.

    Raises ``FileNotFoundError`` (``OSError``) if ``path`` cannot be opened.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def host_info() -> dict:
    return {"hostname": platform.node(), "cpu_model": cpu_model(), "n_cpu": os.cpu_count()}
