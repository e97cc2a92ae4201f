"""Rule ``prepare_catalog``: the user's photometry file -> results/catalog/catalog.parquet (+ CSV).

Columns, units, zero points, Vega -> AB, extinction and masks: :mod:`sedjax.catalog.ingest`.
"""

import time

from sedjax.catalog.ingest import write_prepared_catalog
from sedjax.io.provenance import package_versions, sha256_of
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (the snakemake object)
log = setup_logging(smk.log[0], "prepare_catalog")
t0 = time.perf_counter()
cfg = smk.params.catalog
df = write_prepared_catalog(cfg, smk.params.bands, smk.output.parquet, smk.output.csv, log=log.info,
                            extra_meta={"source_sha256": sha256_of(cfg["path"]), "versions": package_versions()})
log.info("wrote %d galaxies in %d bands to %s in %.1f s", len(df), len(smk.params.bands), smk.output.parquet,
         time.perf_counter() - t0)
