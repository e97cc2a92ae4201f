"""Rule ``bench_batch``: batched (vmapped) fit vs a Python loop of per-galaxy ``fit``.

The catalogue's first ``batch.bench_galaxies`` galaxies, the batch options (``batch.backend_options``
over ``backend_options``); all the work is :func:`sedjax.bench.run.run_batch_benchmark`
(:func:`sedjax.bench.batch.bench_batch`).
"""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821
runtime = configure_jax("cpu", threads=1)  # one XLA worker: see sedjax.io.runtime._start_cpu_client

from sedjax.bench.run import run_batch_benchmark  # noqa: E402
from sedjax.io.jsonio import write_json  # noqa: E402

log = setup_logging(smk.log[0], "bench_batch")
out = run_batch_benchmark(smk.params.model, smk.input.ssp, smk.input.catalog, smk.wildcards.backend,
                          smk.params.n_galaxies, smk.params.fit, smk.params.options,
                          mock_redshift=smk.params.mock_redshift, runtime=runtime, log=log)
write_json(smk.output[0], out)
