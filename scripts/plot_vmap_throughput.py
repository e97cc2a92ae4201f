"""Rule ``plot_vmap_throughput``: per-galaxy time vs batch size, vmap vs Python loop, per device."""

from sedjax.plotting.io import load_by_device
from sedjax.plotting import plot_vmap_throughput
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_vmap_throughput")
paths = plot_vmap_throughput(load_by_device(smk.input.vmap), smk.output.png, pdf="pdf" in smk.output.keys())
log.info("wrote %s", paths)
