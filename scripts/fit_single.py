"""Rule ``fit_single``: fit one catalogue galaxy with one backend -> FitResult HDF5."""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821 (the snakemake object)
configure_jax("cpu", threads=1)  # one XLA worker: see sedjax.io.runtime._start_cpu_client

import time  # noqa: E402

import jax  # noqa: E402

from sedjax.model.from_config import model_from_config, redshift_range  # noqa: E402
from sedjax.catalog.table import read_catalog  # noqa: E402
from sedjax.fitting.single import fit  # noqa: E402

log = setup_logging(smk.log[0], "fit_single")
backend, gal_id = smk.wildcards.backend, int(smk.wildcards.id)
t0 = time.perf_counter()
cat = read_catalog(smk.input.catalog, smk.params.model["bands"], log=log.warning)
# the model supports every redshift the catalogue holds (mock prior or the file's galaxies)
z_range = redshift_range(smk.params.model, smk.params.mock_redshift, cat.redshift)
model = model_from_config(smk.params.model, smk.input.ssp, z_range=z_range)
obs = cat.row(gal_id)
key = jax.random.fold_in(jax.random.PRNGKey(smk.params.fit["seed"]), gal_id)
truth = {k: float(v) for k, v in cat.truths(cat.index(gal_id), fluxes=True).items()}
log.info("galaxy %d, backend %s: fitting", gal_id, backend)
res = fit(
    model, obs, backend, key, mode=smk.params.fit["mode"], sys_frac=smk.params.fit["sys_frac"],
    collapse_amplitude=smk.params.fit["collapse_amplitude"],
    options=smk.params.options, meta={"galaxy_id": gal_id, "truth": truth, "catalog": smk.input.catalog,
          **({"name": str(cat.table["name"].iloc[cat.index(gal_id)])} if "name" in cat.table else {})},
)
res.save_hdf5(smk.output[0])
log.info(
    "galaxy %d, backend %s: %s%s (compile %.1f s, run %.2f s, elapsed %.1f s)",
    gal_id, backend, res.status, f" ({res.reason})" if res.reason else "",
    res.timings["compile_s"], res.timings["run_s"], time.perf_counter() - t0,
)
