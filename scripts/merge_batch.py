"""Rule ``merge_batch``: the chunk files of one backend -> one row per galaxy + throughput.

Parquet columns (see :func:`sedjax.fitting.batch.summary_table`): ``id, redshift, backend,
status, reason, chunk, compile_s, run_s, n_samples``, per parameter and derived quantity
``<name>_{p2_5,p16,median,p84,p97_5}`` and ``<name>_rank`` (normalised rank of the truth
among the draws), ``diag_<key>`` for every scalar diagnostic and the catalogue's
``true_*`` columns (joined on id).

Throughput JSON: galaxies per second of the compiled runs (compile excluded), compile
time per chunk job, wall times.
"""

from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0], "merge_batch")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sedjax.fitting.batch import BatchResult, summary_table  # noqa: E402
from sedjax.bench.record import provenance  # noqa: E402
from sedjax.io.jsonio import write_json  # noqa: E402
from sedjax.analysis.summary import write_table  # noqa: E402

backend = smk.wildcards.backend
parts = [BatchResult.load_hdf5(p) for p in smk.input.chunks]
res = BatchResult.concatenate(parts)
truths = pd.read_parquet(smk.input.catalog)
df = summary_table(res, truths=truths)
write_table(df, smk.output.table)

tp = res.throughput()
chunk_compile = [c["compile_s"] for c in res.chunks]
out = {
    "backend": backend,
    "n_galaxies": tp["n_galaxies"],
    "n_failed": res.n_failed,
    "n_chunks": tp["n_chunks"],
    "chunk_size": res.meta.get("batch", {}).get("chunk_size"),
    "gal_per_s": tp["gal_per_s"],
    "gal_per_s_with_convert": tp["gal_per_s_with_convert"],
    "gal_per_s_wall": tp["gal_per_s_wall"],
    "run_s": tp["run_s"],
    "convert_s": tp["convert_s"],
    "wall_s": tp["wall_s"],
    "compile_s": float(np.sum(chunk_compile)),
    "compile_s_first_chunk": float(chunk_compile[0]) if chunk_compile else None,
    "compile_s_per_chunk": chunk_compile,
    "chunks": res.chunks,
    "options": res.meta.get("options"),
    "device": (res.meta.get("runtime") or {}).get("device"),
    "notes": (
        "gal_per_s = galaxies / sum of the compiled chunk runs (compile excluded); each chunk is its own "
        "job and compiles (or loads from the persistent compilation cache) once"
    ),
    "provenance": provenance(),
}
write_json(smk.output.throughput, out)
log.info(
    "%s: %d galaxies (%d failed) from %d chunk(s); %.2f gal/s (compile excluded), compile %s s",
    backend, len(df), res.n_failed, len(parts), tp["gal_per_s"], [round(c, 1) for c in chunk_compile],
)
