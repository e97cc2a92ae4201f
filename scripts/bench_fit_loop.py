"""Rule ``bench_fit_loop``: galaxies fitted one by one through the public ``fit()`` per backend.

The persistent compilation cache is off unless ``benchmarks.compilation_cache`` is true, so
the first calls measure real compilations (the fresh-process part uses its own temporary
cache). The work: :func:`sedjax.bench.fit_loop.run_fit_loop_benchmark`.
"""

from sedjax.bench.job import start_benchmark_job

smk = snakemake  # noqa: F821 (snakemake object)
runtime, log, _ = start_benchmark_job("cpu", smk.threads, smk.params.bench, smk.log[0], "fit_loop", smk.output.json)

from sedjax.bench.fit_loop import run_fit_loop_benchmark  # noqa: E402 (JAX configured first)
from sedjax.io.jsonio import write_json  # noqa: E402

record = run_fit_loop_benchmark(smk.params.model, smk.input.ssp, smk.params.bench["fit_loop"],
                                smk.params.bench["posterior"], smk.params.fit, smk.params.backend_options,
                                threads=smk.threads, log=log)
record["runtime"] = runtime
write_json(smk.output.json, record)
log.info("bench_fit_loop done in %.1f s -> %s", record["wall_s"], smk.output.json)
