"""Rule ``bench_hmc``: the ``auto`` backend's HMC stage, whitened NUTS against ChEES-HMC.

All the work is :func:`sedjax.bench.hmc.run_hmc_benchmark` (:func:`sedjax.bench.hmc.bench_hmc`).
"""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821
runtime = configure_jax("cpu", threads=1)  # one XLA worker, as the fit jobs

from sedjax.bench.hmc import run_hmc_benchmark  # noqa: E402
from sedjax.io.jsonio import write_json  # noqa: E402

log = setup_logging(smk.log[0], "bench_hmc")
out = run_hmc_benchmark(smk.params.model, smk.input.ssp, smk.input.catalog, smk.params.cfg, smk.params.fit,
                        smk.params.options, mock_redshift=smk.params.mock_redshift, runtime=runtime, log=log)
write_json(smk.output[0], out)
