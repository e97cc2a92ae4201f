"""Rule ``grad_field``: log-likelihood and its gradient on a 2-D parameter slice -> .npz.

One mock galaxy (``params.cfg["galaxy_id"]``): its observed photometry, all parameters
but the two of the slice held at its truth; the grid is one ``jit(vmap(grad))`` call
(:func:`sedjax.analysis.gradfield.grad_field_grid`).
"""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
runtime = configure_jax("cpu", threads=smk.threads)

import time  # noqa: E402

from sedjax.model.from_config import model_from_config, redshift_range  # noqa: E402
from sedjax.catalog.table import read_catalog  # noqa: E402
from sedjax.analysis.gradfield import grad_field_grid, save_grad_field  # noqa: E402
from sedjax.analysis.ppc import observed_photometry  # noqa: E402

log = setup_logging(smk.log[0], "grad_field")
cfg = smk.params.cfg
t0 = time.perf_counter()
cat = read_catalog(smk.input.catalog, smk.params.model["bands"], log=log.warning)
z_range = redshift_range(smk.params.model, smk.params.mock_redshift, cat.redshift)
model = model_from_config(smk.params.model, smk.input.ssp, z_range=z_range)
obs = observed_photometry(model, cat, cfg["galaxy_id"])
x_range = tuple(cfg["x_range"]) if cfg.get("x_range") else None
y_range = tuple(cfg["y_range"]) if cfg.get("y_range") else None
t1 = time.perf_counter()
grid = grad_field_grid(
    model, obs["truth"], obs["flux"], obs["flux_err"], x_name=cfg["x_name"], y_name=cfg["y_name"],
    n=int(cfg["n"]), x_range=x_range, y_range=y_range, mask=obs["mask"], mode=cfg.get("mode", "fast"),
)
seconds = time.perf_counter() - t1
meta = {"galaxy_id": cfg["galaxy_id"], "catalog": smk.input.catalog, "ssp": smk.input.ssp, "grid_s": seconds,
        "runtime": runtime, "config": cfg}
save_grad_field(grid, smk.output[0], meta=meta)
log.info("%dx%d grid of (%s, %s) for galaxy %s in %.1f s (model %.1f s) -> %s", cfg["n"], cfg["n"], cfg["x_name"],
         cfg["y_name"], cfg["galaxy_id"], seconds, t1 - t0, smk.output[0])
