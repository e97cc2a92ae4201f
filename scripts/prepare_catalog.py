"""Rule ``prepare_catalog``: the user's photometry file -> results/catalog/catalog.parquet (+ CSV).

Columns, units, zero points, Vega -> AB, extinction and masks: :mod:`sedjax.catalog.ingest`.
"""

import time

from sedjax.catalog.ingest import prepare_catalog
from sedjax.catalog.table import write_catalog
from sedjax.io.provenance import package_versions, sha256_of
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (the snakemake object)
log = setup_logging(smk.log[0], "prepare_catalog")
t0 = time.perf_counter()
df, meta = prepare_catalog(smk.params.catalog, smk.params.bands, log=log.info)
meta.update(source_sha256=sha256_of(smk.params.catalog["path"]), versions=package_versions())
write_catalog(df, smk.output.parquet, meta=meta, csv_path=smk.output.csv)
log.info("wrote %d galaxies (%d dropped) in %d bands to %s in %.1f s", len(df), meta["n_dropped"],
         len(smk.params.bands), smk.output.parquet, time.perf_counter() - t0)
