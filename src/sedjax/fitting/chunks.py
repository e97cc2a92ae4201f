"""Chunk bounds of a batched catalogue fit: the one place that decides them.

The workflow (``workflow/rules/batch.smk``: how many ``chunk_{i}.h5`` jobs),
``scripts/fit_batch.py`` (which rows chunk ``i`` fits) and
:func:`sedjax.fitting.batch.fit_batch` (chunks inside one call) all use these functions.

The first ``N = min(catalogue_size, galaxies in the catalogue)`` galaxies are fitted
(:func:`n_fitted`); chunk ``i`` holds rows ``[i * chunk_size, min((i + 1) * chunk_size, N))``
(:func:`chunk_rows`); there are ``ceil(N / min(chunk_size, N))`` chunks (:func:`chunk_count`).
Pure Python (no NumPy, no JAX): the Snakefile imports it.
"""

from __future__ import annotations

import math


def n_fitted(catalogue_size: int, n_available: int) -> int:
    """Galaxies fitted: the first ``catalogue_size``, never more than the catalogue has."""
    return min(int(catalogue_size), int(n_available))


def chunk_count(n_galaxies: int, chunk_size: int) -> int:
    """Number of chunks of ``chunk_size`` galaxies (the last one partial) for ``n_galaxies``.

    ``ceil(n_galaxies / min(chunk_size, n_galaxies))``; raises ``ValueError`` when there
    is no galaxy or ``chunk_size < 1``.
    """
    n, size = int(n_galaxies), int(chunk_size)
    if n < 1 or size < 1:
        raise ValueError(f"need n_galaxies >= 1 and chunk_size >= 1, got n_galaxies={n}, chunk_size={size}")
    return math.ceil(n / min(size, n))


def chunk_rows(index: int, chunk_size: int, n_galaxies: int) -> tuple[int, int]:
    """Rows ``[lo, hi)`` of chunk ``index``: ``lo = index * chunk_size``,
    ``hi = min((index + 1) * chunk_size, n_galaxies)``.

    Raises ``ValueError`` naming the sizes when the chunk is empty (``lo >= hi``).
    """
    i, size, n = int(index), int(chunk_size), int(n_galaxies)
    lo, hi = i * size, min((i + 1) * size, n)
    if i < 0 or lo >= hi:
        raise ValueError(f"chunk {i} is empty: {n} galaxies to fit, chunk_size is {size}")
    return lo, hi


def catalogue_chunk(index: int, chunk_size: int, catalogue_size: int, n_available: int) -> tuple[int, int, int]:
    """``(lo, hi, n)``: rows of chunk ``index`` of the first ``n = n_fitted(catalogue_size,
    n_available)`` catalogue galaxies (``scripts/fit_batch.py``).

    Raises ``ValueError`` naming the catalogue's usable galaxies, ``batch.catalogue_size``
    and ``batch.chunk_size`` when the chunk is empty.
    """
    n = n_fitted(catalogue_size, n_available)
    try:
        lo, hi = chunk_rows(index, chunk_size, n)
    except ValueError:
        raise ValueError(
            f"chunk {index} is empty: the catalogue has {n_available} usable galaxies, batch.catalogue_size is "
            f"{catalogue_size}, batch.chunk_size is {chunk_size}"
        ) from None
    return lo, hi, n
