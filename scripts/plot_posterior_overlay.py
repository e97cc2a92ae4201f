"""Rule ``plot_posterior_overlay``: the reference backend's posterior and bagpipes' on the same galaxy."""

from sedjax.io.runtime import setup_logging
from sedjax.io.sample_sets import read_sample_sets
from sedjax.plotting.posterior_bench import plot_posterior_overlay

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_posterior_overlay")
sets, meta = read_sample_sets(smk.input.samples)
paths = plot_posterior_overlay(sets, smk.output.png, reference=meta["reference"], truth=meta.get("truth"),
                               pdf="pdf" in smk.output.keys())
log.info("wrote %s", paths)
