"""Chunk bounds (sedjax.fitting.chunks) against the arithmetic batch.smk and fit_batch.py used."""

import math

import pytest

from sedjax.fitting.chunks import catalogue_chunk, chunk_count, chunk_rows, n_fitted


def _old_n_chunks(catalogue_size, n_mock, chunk_size):
    # workflow/rules/batch.smk before chunks.py: batch_n_galaxies / batch_n_chunks
    n = min(int(catalogue_size), int(n_mock))
    return math.ceil(n / min(int(chunk_size), n))


def _old_rows(chunk, chunk_size, size, n_cat):
    # scripts/fit_batch.py before chunks.py
    n = min(size, n_cat)
    lo, hi = chunk * chunk_size, min((chunk + 1) * chunk_size, n)
    return (lo, hi) if lo < hi else None


@pytest.mark.parametrize("catalogue_size", [1, 2, 7, 20, 40, 41, 100])
@pytest.mark.parametrize("n_mock", [1, 3, 20, 40, 64])
@pytest.mark.parametrize("chunk_size", [1, 3, 20, 40, 1000])
def test_chunks_match_old_arithmetic(catalogue_size, n_mock, chunk_size):
    n = n_fitted(catalogue_size, n_mock)
    assert n == min(catalogue_size, n_mock)
    k = chunk_count(n, chunk_size)
    assert k == _old_n_chunks(catalogue_size, n_mock, chunk_size)
    rows = []
    for i in range(k + 2):
        old = _old_rows(i, chunk_size, n, n_mock)
        if old is None:
            with pytest.raises(ValueError, match=f"chunk {i} is empty"):
                chunk_rows(i, chunk_size, n)
            with pytest.raises(ValueError, match=f"batch.chunk_size is {chunk_size}"):
                catalogue_chunk(i, chunk_size, n, n_mock)
        else:
            assert chunk_rows(i, chunk_size, n) == old
            assert catalogue_chunk(i, chunk_size, n, n_mock) == (*old, n)
            rows.extend(range(*old))
    # every chunk the workflow asks for is non-empty, and together they cover 0..n-1 once
    assert all(_old_rows(i, chunk_size, n, n_mock) for i in range(k))
    assert rows == list(range(n))


def test_chunks_reject_bad_sizes():
    with pytest.raises(ValueError, match="n_galaxies=0"):
        chunk_count(0, 5)
    with pytest.raises(ValueError, match="chunk_size=0"):
        chunk_count(5, 0)
    with pytest.raises(ValueError, match="empty"):
        chunk_rows(-1, 5, 10)


def test_catalogue_chunk_message():
    with pytest.raises(ValueError) as e:
        catalogue_chunk(3, 20, 40, 30)
    assert str(e.value) == (
        "chunk 3 is empty: the catalogue has 30 usable galaxies, batch.catalogue_size is 40, batch.chunk_size is 20"
    )
