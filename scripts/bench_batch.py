"""Rule ``bench_batch``: batched (vmapped) fit vs a Python loop of per-galaxy ``fit``.

The same N galaxies (the catalogue's first ``batch.bench_galaxies``), the same keys and
backend options (``batch.backend_options`` over ``backend_options``), one process:

* batched: :func:`sedjax.batch.fit_batch` with ``chunk_size = N`` (one compiled program):
  compile time, first run and a second (warm) run of the compiled program;
* looped: ``sedjax.fit.fit`` per galaxy, as ``fit_single`` does; every call traces and
  compiles its own program (from the persistent compilation cache after the first call,
  which is how the workflow's fit_single jobs run too).

``ratio_run = batched gal/s / looped gal/s`` with compile excluded on both sides (looped:
sum of the per-call ``run_s``), ``ratio_wall`` with everything included. The maximum
difference between the batched and looped draws (in units of the prior width for free
parameters) is recorded as a consistency check.
"""

from sedjax.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821
runtime = configure_jax("cpu", threads=1)  # one XLA worker: see sedjax.runtime._start_cpu_client

import time  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

from sedjax import bench  # noqa: E402
from sedjax.batch import BatchProgram, catalog_arrays, fit_batch, needs_tables  # noqa: E402
from sedjax.build import model_from_config, redshift_range  # noqa: E402
from sedjax.catalog import read_catalog  # noqa: E402
from sedjax.fit import fit  # noqa: E402

log = setup_logging(smk.log[0], "bench_batch")
backend = smk.wildcards.backend
fit_cfg, options = smk.params.fit, dict(smk.params.options)
cache_at_start = bench.cache_state()
model = model_from_config(smk.params.model, smk.input.ssp, z_range=redshift_range(smk.params.model, smk.params.mock_redshift))
cat = read_catalog(smk.input.catalog, model.bands, log=log.warning)
n = min(int(smk.params.n_galaxies), len(cat))
sl = slice(0, n)
arrays = {"ids": cat.ids[sl], "flux": cat.flux_maggies[sl], "flux_err": cat.flux_err_maggies[sl],
          "mask": cat.mask[sl], "redshift": cat.redshift[sl]}
seed = int(fit_cfg["seed"])
common = dict(mode=fit_cfg["mode"], sys_frac=fit_cfg["sys_frac"], options=options)
log.info("%s: %d galaxies, options %s", backend, n, options)

# ---------------------------------------------------------------- batched
prog = BatchProgram(model, backend, n, fit_cfg["mode"], fit_cfg["sys_frac"], options,
                    needs_tables(model, catalog_arrays(arrays, model)["redshift"]))
t0 = time.perf_counter()
first = fit_batch(model, arrays, backend, seed=seed, chunk_size=n, log=log.info, columnar=True, program=prog, **common)
batch_wall_first = time.perf_counter() - t0
t0 = time.perf_counter()
warm = fit_batch(model, arrays, backend, seed=seed, chunk_size=n, log=log.info, columnar=True, program=prog, **common)
batch_wall_warm = time.perf_counter() - t0
assert prog.n_compiles == 1
b_first, b_warm = first.throughput(), warm.throughput()

# ----------------------------------------------------------------- looped
loop_compile, loop_run, loop_status = [], [], []
single = []
t0 = time.perf_counter()
for i in range(n):  # the baseline: one fit() per galaxy
    obs = {"flux": arrays["flux"][i], "flux_err": arrays["flux_err"][i], "mask": arrays["mask"][i],
           "redshift": arrays["redshift"][i]}
    key = jax.random.fold_in(jax.random.PRNGKey(seed), int(arrays["ids"][i]))
    r = fit(model, obs, backend, key, **common)
    loop_compile.append(r.timings["compile_s"])
    loop_run.append(r.timings["run_s"])
    loop_status.append(r.status)
    single.append(r)
loop_wall = time.perf_counter() - t0

# ------------------------------------------------------ consistency check
dev = []
for i, r in enumerate(single):
    for k, v in r.samples.items():
        prior = model.spec.priors[k]
        width = float(getattr(prior, "high", np.nan) - getattr(prior, "low", np.nan))
        d = np.nanmax(np.abs(np.asarray(v) - first.samples[k][i])) if np.any(np.isfinite(v)) else np.nan
        dev.append(d / width if np.isfinite(width) and width > 0 else np.nan)
dev = np.asarray(dev, dtype=float)

loop_gps = n / sum(loop_run)
out = {
    "benchmark": "batch",
    "backend": backend,
    "device": "cpu",
    "n_galaxies": n,
    "options": first.meta["options"],
    "batched": {
        "compile_s": b_first["compile_s"],
        "run_s_first": b_first["run_s"],
        "run_s_warm": b_warm["run_s"],
        "convert_s_warm": b_warm["convert_s"],
        "wall_s_first": batch_wall_first,
        "wall_s_warm": batch_wall_warm,
        "gal_per_s": n / b_warm["run_s"],
        "gal_per_s_wall_with_compile": n / batch_wall_first,
        "n_failed": first.n_failed,
    },
    "looped": {
        "compile_s_per_call": loop_compile,
        "compile_s_first": loop_compile[0],
        "compile_s_median_later": float(np.median(loop_compile[1:])) if n > 1 else None,
        "run_s_per_call": loop_run,
        "run_s": float(sum(loop_run)),
        "wall_s": loop_wall,
        "gal_per_s": loop_gps,
        "gal_per_s_wall_with_compile": n / loop_wall,
        "n_failed": sum(s != "ok" for s in loop_status),
    },
    "ratio_run": (n / b_warm["run_s"]) / loop_gps,
    "ratio_wall": loop_wall / batch_wall_first,
    "max_sample_diff_over_prior_width": float(np.nanmax(dev)) if np.any(np.isfinite(dev)) else None,
    "notes": (
        "ratio_run: batched over looped galaxies/s, compile excluded (batched: warm run of the compiled "
        "program; looped: sum of fit()'s run_s). ratio_wall: looped wall / batched wall with compile. Looped "
        "compiles after the first come from the persistent compilation cache when it is on. Batched and "
        "looped draws differ only by floating-point round-off amplified by the samplers."
    ),
    "provenance": bench.provenance(model, cache=cache_at_start, extra={"runtime": runtime}),
}
bench.write_json(smk.output[0], out)
log.info(
    "%s: batched %.2f gal/s (compile %.1f s), looped %.2f gal/s (compile %.1f s first), ratio %.1fx run, %.1fx wall",
    backend, out["batched"]["gal_per_s"], b_first["compile_s"], loop_gps, loop_compile[0], out["ratio_run"], out["ratio_wall"],
)
