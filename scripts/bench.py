"""Rule ``bench`` (one job per benchmark: jit, grad, vmap, cache, peer).

One script for every benchmark: ``params.name`` picks the body
(:func:`sedjax.bench.run.run_benchmark`); the ``device`` wildcard picks the JAX platform.
On ``device == "gpu"`` with no GPU visible to JAX it writes
``{"skipped": true, "reason": ...}`` and exits 0.

The persistent compilation cache is off by default here (``benchmarks.compilation_cache``)
so that the compile times measured in-process are real compilations; ``bench_cache``
measures the cache itself in subprocesses with their own temporary directory.
"""

import sys

from sedjax.bench.job import start_benchmark_job
from sedjax.io.jsonio import write_json

smk = snakemake  # noqa: F821 (snakemake object)
device, name, out_path = smk.wildcards.device, smk.params.name, smk.output[0]
started = start_benchmark_job(device, smk.threads, smk.params.bench, smk.log[0], name, out_path)
if started is None:  # gpu requested, none visible: skip record written
    sys.exit(0)
runtime, log, dtype = started

from sedjax.bench.run import run_benchmark  # noqa: E402 (JAX configured first)

result = run_benchmark(name, smk.params.model, smk.input.ssp, device, smk.params.bench, threads=smk.threads,
                       dtype=dtype, runtime=runtime, log=log)
write_json(out_path, result)
log.info("bench_%s (%s) done in %.1f s -> %s", name, device, result["wall_s"], out_path)
