"""Rule ``bench_batch``: batched (vmapped) fit vs a Python loop of per-galaxy ``fit``.

The catalogue's first ``batch.bench_galaxies`` galaxies, the batch options (``batch.backend_options``
over ``backend_options``); all the work is :func:`sedjax.bench.batch.bench_batch`.
"""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821
runtime = configure_jax("cpu", threads=1)  # one XLA worker: see sedjax.io.runtime._start_cpu_client

from sedjax.bench import core as bench  # noqa: E402
from sedjax.fitting.batch import catalog_rows  # noqa: E402
from sedjax.bench.batch import bench_batch  # noqa: E402
from sedjax.model.from_config import model_from_config, redshift_range  # noqa: E402
from sedjax.catalog.table import read_catalog  # noqa: E402

log = setup_logging(smk.log[0], "bench_batch")
backend = smk.wildcards.backend
fit_cfg, options = smk.params.fit, dict(smk.params.options)
cache_at_start = bench.cache_state()
model = model_from_config(smk.params.model, smk.input.ssp, z_range=redshift_range(smk.params.model, smk.params.mock_redshift))
cat = read_catalog(smk.input.catalog, model.bands, log=log.warning)
arrays, _ = catalog_rows(cat, 0, min(int(smk.params.n_galaxies), len(cat)))
log.info("%s: %d galaxies, options %s", backend, len(arrays["ids"]), options)
out = bench_batch(model, arrays, backend, seed=int(fit_cfg["seed"]), mode=fit_cfg["mode"],
                  sys_frac=fit_cfg["sys_frac"], options=options, log=log.info)
out["device"] = "cpu"
out["provenance"] = bench.provenance(model, cache=cache_at_start, extra={"runtime": runtime})
bench.write_json(smk.output[0], out)
log.info(
    "%s: batched %.2f gal/s (compile %.1f s), looped %.2f gal/s (compile %.1f s first), ratio %.1fx run, %.1fx wall",
    backend, out["batched"]["gal_per_s"], out["batched"]["compile_s"], out["looped"]["gal_per_s"],
    out["looped"]["compile_s_first"], out["ratio_run"], out["ratio_wall"],
)
