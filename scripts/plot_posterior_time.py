"""Rule ``plot_posterior_time``: time to a posterior per backend (cold, warm) and bagpipes + nautilus."""

from sedjax.io.runtime import setup_logging
from sedjax.plotting.io import load_json
from sedjax.plotting.posterior_bench import plot_posterior_time

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_posterior_time")
paths = plot_posterior_time(load_json(smk.input.record), smk.output.png, pdf="pdf" in smk.output.keys())
log.info("wrote %s", paths)
