"""Rule ``plot_corner``: corner plot of one backend's fit of one galaxy, truths marked."""

from sedjax.inference import FitResult
from sedjax.plotting import plot_corner
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_corner")
res = FitResult.load_hdf5(smk.input.fit)
paths = plot_corner(res, smk.output.png, pdf="pdf" in smk.output.keys())
log.info("%s galaxy %s (%s): wrote %s", res.backend, res.meta.get("galaxy_id"), res.status, paths)
