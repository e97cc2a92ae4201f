"""Rule ``plot_jit_speedup``: NumPy reference vs JAX op-by-op vs JAX jit (+ bagpipes) per device."""

from sedjax.plotting.io import load_by_device
from sedjax.plotting import plot_jit_speedup
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_jit_speedup")
paths = plot_jit_speedup(load_by_device(smk.input.jit), smk.output.png, peer=load_by_device(smk.input.peer),
                         pdf="pdf" in smk.output.keys())
log.info("wrote %s", paths)
