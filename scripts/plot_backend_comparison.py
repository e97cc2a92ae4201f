"""Rule ``plot_backend_comparison``: time per galaxy vs accuracy and coverage, per backend."""

import pandas as pd

from sedjax.plotting import plot_backend_comparison
from sedjax.plotting.io import load_batch
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_backend_comparison")
batch, throughput = load_batch(smk.input.batch, smk.input.throughput)
coverage = pd.read_parquet(smk.input.coverage)
paths = plot_backend_comparison(batch, smk.output.png, throughput=throughput, coverage=coverage,
                                free_params=smk.params.free_params, pdf="pdf" in smk.output.keys())
log.info("backends %s: wrote %s", sorted(batch), paths)
