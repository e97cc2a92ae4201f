"""Rule ``plot_corner_all``: every backend's posterior of one galaxy in one corner plot."""

from sedjax.inference import FitResult
from sedjax.plotting import plot_corner_all
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_corner_all")
results = {r.backend: r for r in (FitResult.load_hdf5(p) for p in smk.input.fits)}
paths = plot_corner_all(results, smk.output.png, pdf="pdf" in smk.output.keys())
log.info("galaxy %s, backends %s: wrote %s", smk.wildcards.id, sorted(results), paths)
