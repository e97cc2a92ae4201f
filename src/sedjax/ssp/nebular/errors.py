"""Error raised by the nebular step (:mod:`sedjax.ssp.nebular`)."""

from __future__ import annotations

__all__ = ["NebularGridError"]


class NebularGridError(ValueError):
    """The nebular grid files are missing, malformed, or do not fit the stellar grid."""
