"""Rule ``plot_grad_field``: the log-likelihood slice as filled contours with its gradient field."""

from sedjax.analysis.gradfield import load_grad_field
from sedjax.plotting import plot_grad_field
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_grad_field")
paths = plot_grad_field(load_grad_field(smk.input.grid), smk.output.png, pdf="pdf" in smk.output.keys())
log.info("wrote %s", paths)
