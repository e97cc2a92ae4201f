"""Rule ``bench_redshift``: batched fit cost at the galaxies' own redshifts vs a fixed one.

All the work is :func:`sedjax.bench.redshift.run_redshift_benchmark`.
"""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821
runtime = configure_jax("cpu", threads=1)  # one XLA worker, as the fit jobs

from sedjax.bench.redshift import run_redshift_benchmark  # noqa: E402
from sedjax.io.jsonio import write_json  # noqa: E402

log = setup_logging(smk.log[0], "bench_redshift")
out = run_redshift_benchmark(smk.params.model, smk.input.ssp, smk.input.catalog, smk.params.fit, smk.params.options,
                             smk.params.n_galaxies, runtime=runtime, log=log)
write_json(smk.output[0], out)
