"""Rule ``catalogue_ppc``: posterior-predictive photometry and residuals of one backend's batch fits.

One row per (galaxy, band): :func:`sedjax.analysis.residuals.catalogue_residuals`.
"""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821 (the snakemake object)
configure_jax("cpu", threads=1)

import time  # noqa: E402

from sedjax.analysis.residuals import catalogue_residuals  # noqa: E402
from sedjax.analysis.summary import write_table  # noqa: E402
from sedjax.catalog.table import read_catalog  # noqa: E402
from sedjax.fitting.batch_result import BatchResult  # noqa: E402
from sedjax.model.from_config import model_from_config, redshift_range  # noqa: E402

log = setup_logging(smk.log[0], "catalogue_ppc")
t0 = time.perf_counter()
cat = read_catalog(smk.input.catalog, smk.params.model["bands"], log=log.warning)
model = model_from_config(smk.params.model, smk.input.ssp,
                          z_range=redshift_range(smk.params.model, smk.params.mock_redshift, cat.redshift))
batch = BatchResult.concatenate([BatchResult.load_hdf5(p) for p in smk.input.chunks])
df = catalogue_residuals(model, batch, cat, n_draws=int(smk.params.n_draws), seed=int(smk.params.seed),
                         mode=smk.params.fit["mode"], sys_frac=float(smk.params.fit["sys_frac"]))
write_table(df, smk.output[0])
log.info("%s: %d galaxies x %d bands -> %s in %.1f s", smk.wildcards.backend, len(batch), len(model.bands),
         smk.output[0], time.perf_counter() - t0)
