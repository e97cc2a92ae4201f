"""Rule ``bench_sampler``: cold vs warm time-to-posterior of every backend on one mock galaxy.

The ``device`` wildcard picks the JAX platform; on ``gpu`` with no GPU visible it writes
``{"skipped": true, "reason": ...}`` and exits 0 (as the other benchmarks). The
persistent compilation cache is off here unless ``benchmarks.compilation_cache`` is
true, so the cold call measures a real compilation. The work:
:func:`sedjax.bench.run.run_sampler_benchmark`.
"""

import sys

from sedjax.bench.job import start_benchmark_job
from sedjax.io.jsonio import write_json

smk = snakemake  # noqa: F821 (snakemake object)
device, out_path = smk.wildcards.device, smk.output[0]
started = start_benchmark_job(device, smk.threads, smk.params.bench, smk.log[0], "sampler", out_path)
if started is None:  # gpu requested, none visible: skip record written
    sys.exit(0)
runtime, log, dtype = started

from sedjax.bench.run import run_sampler_benchmark  # noqa: E402 (JAX configured first)

result = run_sampler_benchmark(smk.params.model, smk.input.ssp, smk.input.catalog, smk.params.cfg, smk.params.fit,
                               smk.params.backend_options, device, dtype=dtype, runtime=runtime, log=log)
write_json(out_path, result)
log.info("bench_sampler (%s) done in %.1f s -> %s", device, result["wall_s"], out_path)
