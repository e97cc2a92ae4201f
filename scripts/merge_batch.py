"""Rule ``merge_batch``: the chunk files of one backend -> one row per galaxy + throughput.

Parquet columns (see :func:`sedjax.analysis.calibration.summary_table`): ``id, redshift, backend,
status, reason, chunk, compile_s, run_s, n_samples``, per parameter and derived quantity
``<name>_{p2_5,p16,median,p84,p97_5}`` and ``<name>_rank`` (normalised rank of the truth
among the draws), ``diag_<key>`` for every scalar diagnostic and the catalogue's
``true_*`` columns (joined on id).

Throughput JSON: galaxies per second of the compiled runs (compile excluded), compile
time per chunk job, wall times (:func:`sedjax.analysis.merge.throughput_record`).
"""

from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0], "merge_batch")

from sedjax.analysis.merge import merge_chunks  # noqa: E402
from sedjax.analysis.summary import write_table  # noqa: E402
from sedjax.bench.record import provenance  # noqa: E402
from sedjax.io.jsonio import write_json  # noqa: E402

backend = smk.wildcards.backend
df, tp = merge_chunks(smk.input.chunks, smk.input.catalog, backend, provenance=provenance())
write_table(df, smk.output.table)
write_json(smk.output.throughput, tp)
log.info(
    "%s: %d galaxies (%d failed) from %d chunk(s); %.2f gal/s (compile excluded), compile %s s",
    backend, len(df), tp["n_failed"], len(smk.input.chunks), tp["gal_per_s"],
    [round(c, 1) for c in tp["compile_s_per_chunk"]],
)
