"""Errors raised by the SSP sources (:mod:`sedjax.ssp.sources`)."""

from __future__ import annotations

__all__ = ["SSPSourceError", "ChecksumMismatchError"]


class SSPSourceError(RuntimeError):
    """An SSP source cannot provide a grid (not installed, bad config, download failed)."""


class ChecksumMismatchError(SSPSourceError):
    """A file's sha256 differs from the expected one."""
