"""Rule ``merge_batch``'s body: the chunk files of one backend -> one table and a throughput record.

:func:`merge_chunks` joins the chunk files (:meth:`BatchResult.concatenate`), summarises
them one row per galaxy with the catalogue's truths (:func:`summary_table`) and builds
the throughput record (:func:`throughput_record`) written as JSON.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from sedjax.analysis.calibration import summary_table
from sedjax.fitting.batch_result import BatchResult

THROUGHPUT_NOTES = (
    "gal_per_s = galaxies / sum of the compiled chunk runs (compile excluded); each chunk is its own "
    "job and compiles (or loads from the persistent compilation cache) once"
)


def throughput_record(result: BatchResult, backend: str, provenance: dict | None = None) -> dict:
    """Galaxies per second of the compiled runs (compile excluded), compile time per chunk
    job, wall times, options and device of a merged batch; ``provenance`` (when given)
    is stored last."""
    tp = result.throughput()
    chunk_compile = [c["compile_s"] for c in result.chunks]
    out = {
        "backend": backend,
        "n_galaxies": tp["n_galaxies"],
        "n_failed": result.n_failed,
        "n_chunks": tp["n_chunks"],
        "chunk_size": result.meta.get("batch", {}).get("chunk_size"),
        "gal_per_s": tp["gal_per_s"],
        "gal_per_s_with_convert": tp["gal_per_s_with_convert"],
        "gal_per_s_wall": tp["gal_per_s_wall"],
        "run_s": tp["run_s"],
        "convert_s": tp["convert_s"],
        "wall_s": tp["wall_s"],
        "compile_s": float(np.sum(chunk_compile)),
        "compile_s_first_chunk": float(chunk_compile[0]) if chunk_compile else None,
        "compile_s_per_chunk": chunk_compile,
        "chunks": result.chunks,
        "options": result.meta.get("options"),
        "device": (result.meta.get("runtime") or {}).get("device"),
        "notes": THROUGHPUT_NOTES,
    }
    if provenance is not None:
        out["provenance"] = provenance
    return out


def merge_chunks(chunk_paths: Sequence, catalog_path, backend: str, provenance: dict | None = None):
    """``(table, throughput)`` of one backend's chunk files, in the order given.

    table: :func:`summary_table` of the joined chunks with the catalogue's ``true_*``
    columns (the Parquet file ``catalog_path``, joined on id); throughput:
    :func:`throughput_record`.
    """
    import pandas as pd

    result = BatchResult.concatenate([BatchResult.load_hdf5(p) for p in chunk_paths])
    table = summary_table(result, truths=pd.read_parquet(catalog_path))
    return table, throughput_record(result, backend, provenance)
