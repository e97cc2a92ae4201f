"""Rule ``plot_sed``: observed photometry, posterior-predictive photometry and posterior spectra.

The posterior spectra are computed here by :func:`sedjax.analysis.ppc.posterior_spectra` (the SSP
grid is an input): ``params.cfg["n_draws"]`` draws per backend.
"""

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
configure_jax("cpu", threads=smk.threads)

import time  # noqa: E402

from sedjax.model.from_config import model_from_config, redshift_range  # noqa: E402
from sedjax.catalog.table import read_catalog  # noqa: E402
from sedjax.inference import FitResult  # noqa: E402
from sedjax.plotting import plot_sed  # noqa: E402
from sedjax.analysis.ppc import observed_photometry, posterior_spectra, truth_spectrum  # noqa: E402

log = setup_logging(smk.log[0], "plot_sed")
cfg = smk.params.cfg
gal_id = int(smk.wildcards.id)
t0 = time.perf_counter()
cat = read_catalog(smk.input.catalog, smk.params.model["bands"], log=log.warning)
z_range = redshift_range(smk.params.model, smk.params.mock_redshift, cat.redshift)
model = model_from_config(smk.params.model, smk.input.ssp, z_range=z_range)
obs = observed_photometry(model, cat, gal_id)
ppc = {}
for path in smk.input.fits:
    res = FitResult.load_hdf5(path)
    try:
        ppc[res.backend] = posterior_spectra(model, res, n_draws=int(cfg["n_draws"]), seed=int(cfg["seed"]),
                                             mode=smk.params.mode)
    except ValueError as exc:  # e.g. a failed fit without finite draws: leave it out, say so
        log.warning("%s: %s", res.backend, exc)
truth = truth_spectrum(model, obs["truth"], mode=smk.params.mode) if obs["truth"] else None
name = str(cat.table["name"].iloc[cat.index(gal_id)]) if "name" in cat.table else None
title = (f"Galaxy {name} (id {gal_id}, z = {obs['redshift']:.4f}): posterior spectra (16–84%) and photometry"
         if name else None)
paths = plot_sed(obs, ppc, smk.output.png, truth=truth, title=title, pdf="pdf" in smk.output.keys())
log.info("galaxy %d, backends %s: wrote %s in %.1f s", gal_id, sorted(ppc), paths, time.perf_counter() - t0)
