"""Rule ``fit_batch``: one chunk of the catalogue, one backend, vmapped -> chunk HDF5.

Chunk ``i`` holds catalogue rows ``[i * chunk_size, min((i + 1) * chunk_size, N))`` of the
first ``N = batch.catalogue_size`` galaxies (:func:`sedjax.fitting.chunks.catalogue_chunk`).
All of them run in one compiled ``jit(vmap(backend))`` call (padded to ``chunk_size``); per-galaxy keys are
``fold_in(PRNGKey(fit.seed), galaxy id)`` as in ``fit_single``, so galaxy ``i`` here is
galaxy ``i`` there. The layout of the output is :meth:`sedjax.fitting.batch_result.BatchResult.save_hdf5`.

Device: the GPU when the job was given one (``resources: gpu`` > 0, as the slurm-gpu
profile does for this rule) and JAX sees it; the CPU otherwise.
"""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821 (the snakemake object)
want_gpu = int(smk.resources.get("gpu", 0) or 0) > 0
# on the CPU one XLA worker: batched LAPACK in the fits can deadlock a larger pool under
# jaxlib 0.10 (sedjax.io.runtime._start_cpu_client); CPU parallelism comes from chunks as jobs
runtime = configure_jax("gpu" if want_gpu else "cpu", threads=smk.threads if want_gpu else 1)

import time  # noqa: E402

from sedjax.fitting.batch import fit_batch  # noqa: E402
from sedjax.fitting.chunks import catalogue_chunk  # noqa: E402
from sedjax.fitting.inputs import catalog_rows  # noqa: E402
from sedjax.model.from_config import model_from_config, redshift_range  # noqa: E402
from sedjax.catalog.table import read_catalog  # noqa: E402
from sedjax.io.runtime import gpu_available  # noqa: E402

log = setup_logging(smk.log[0], "fit_batch")
backend, chunk = smk.wildcards.backend, int(smk.wildcards.i)
size, chunk_size = int(smk.params.catalogue_size), int(smk.params.chunk_size)
if want_gpu and not gpu_available():
    log.warning("a GPU was requested but JAX sees none: running on the CPU")
t0 = time.perf_counter()
cat = read_catalog(smk.input.catalog, smk.params.model["bands"], log=log.warning)
# the model supports every redshift the catalogue holds (mock prior or the file's galaxies)
z_range = redshift_range(smk.params.model, smk.params.mock_redshift, cat.redshift)
model = model_from_config(smk.params.model, smk.input.ssp, z_range=z_range)
lo, hi, n = catalogue_chunk(chunk, chunk_size, size, len(cat))
arrays, truth = catalog_rows(cat, lo, hi)
fit_cfg = smk.params.fit
log.info("%s chunk %d: galaxies %d..%d (ids %s..%s), options %s, %s", backend, chunk, lo, hi - 1,
         arrays["ids"][0], arrays["ids"][-1], smk.params.options, runtime)
res = fit_batch(
    model, arrays, backend, seed=int(fit_cfg["seed"]), mode=fit_cfg["mode"], sys_frac=fit_cfg["sys_frac"],
    collapse_amplitude=fit_cfg["collapse_amplitude"],
    options=smk.params.options, chunk_size=min(chunk_size, n),  # same padded shape for every chunk: one program, cached
    truth=truth, log=log.info,
    meta={"catalog": smk.input.catalog, "chunk": chunk, "rows": [lo, hi], "catalogue_size": n, "runtime": runtime},
)
res.save_hdf5(smk.output[0])
tp = res.throughput()
log.info(
    "%s chunk %d: %d galaxies, %d failed; compile %.1f s, run %.2f s (%.2f gal/s), wall %.1f s -> %s",
    backend, chunk, len(res), res.n_failed, tp["compile_s"], tp["run_s"], tp["gal_per_s"],
    time.perf_counter() - t0, smk.output[0],
)
