"""Rule ``plot_sampler_compile``: NUTS cold vs warm call and time-to-posterior per backend."""

from sedjax.plotting.io import load_by_device
from sedjax.plotting import plot_sampler_compile
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_sampler_compile")
paths = plot_sampler_compile(load_by_device(smk.input.sampler), smk.output.png, pdf="pdf" in smk.output.keys())
log.info("wrote %s", paths)
