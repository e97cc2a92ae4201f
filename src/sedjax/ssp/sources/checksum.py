"""Expected-sha256 checks of source files (the digest itself: :func:`sedjax.io.provenance.sha256_of`)."""

from __future__ import annotations

import re
from pathlib import Path

from sedjax.io.provenance import sha256_of
from sedjax.ssp.sources.errors import ChecksumMismatchError, SSPSourceError

__all__ = ["normalise_sha256", "verify_sha256"]


def normalise_sha256(sha256: str, where: str) -> str:
    """A configured sha256 as 64 lower-case hex digits.

    Parameters
    ----------
    sha256 : str
        The configured value (surrounding blanks and upper case allowed).
    where : str
        What the value belongs to, for the error message (e.g. ``"ssp url <url>"``).

    Raises
    ------
    SSPSourceError
        The value is not 64 hex digits.
    """
    value = str(sha256).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise SSPSourceError(f"{where}: sha256 {sha256!r} is not 64 hex digits; set it to the file's sha256")
    return value


def verify_sha256(path: Path, expected: str, what: str) -> str:
    """Require ``sha256_of(path) == expected`` (lower-case hex); return the digest.

    Raises
    ------
    ChecksumMismatchError
        Naming ``what``, the expected and the actual sha256.
    """
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumMismatchError(f"sha256 mismatch for {what}: expected {expected}, got {actual}")
    return actual
