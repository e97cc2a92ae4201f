"""Rule ``bench_posterior``: time to a posterior per backend and bagpipes + nautilus on one galaxy.

The persistent compilation cache is off unless ``benchmarks.compilation_cache`` is true, so
the cold calls measure real compilations. The work:
:func:`sedjax.bench.posterior.run_posterior_benchmark`.
"""

from sedjax.bench.job import start_benchmark_job

smk = snakemake  # noqa: F821 (snakemake object)
runtime, log, _ = start_benchmark_job("cpu", smk.threads, smk.params.bench, smk.log[0], "posterior", smk.output.json)

from sedjax.bench.posterior import run_posterior_benchmark  # noqa: E402 (JAX configured first)
from sedjax.io.jsonio import write_json  # noqa: E402
from sedjax.io.sample_sets import write_sample_sets  # noqa: E402

record, sets, meta = run_posterior_benchmark(smk.params.model, smk.input.ssp, smk.params.cfg, smk.params.fit,
                                             smk.params.backend_options, runtime=runtime, threads=smk.threads, log=log)
write_sample_sets(smk.output.samples, sets, meta)
write_json(smk.output.json, record)
log.info("bench_posterior done in %.1f s -> %s, %s", record["wall_s"], smk.output.json, smk.output.samples)
