"""Rule ``bench_map``: batched Levenberg–Marquardt MAP throughput and accuracy vs L-BFGS.

All the work is :func:`sedjax.bench.map.run_map_benchmark` (:func:`sedjax.bench.map.bench_map`).
"""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821
runtime = configure_jax("cpu", threads=1)  # one XLA worker, as the fit jobs

from sedjax.bench.map import run_map_benchmark  # noqa: E402
from sedjax.io.jsonio import write_json  # noqa: E402

log = setup_logging(smk.log[0], "bench_map")
out = run_map_benchmark(smk.params.model, smk.input.ssp, smk.params.cfg, smk.params.fit, smk.params.options,
                        runtime=runtime, log=log)
write_json(smk.output[0], out)
