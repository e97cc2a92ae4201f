"""Rule ``plot_calibration``: 68/95% coverage and rank histograms per backend and parameter."""

import pandas as pd

from sedjax.plotting import plot_calibration
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_calibration")
coverage = pd.read_parquet(smk.input.coverage)
ranks = pd.read_parquet(smk.input.ranks)
paths = plot_calibration(coverage, ranks, smk.output.png, pdf="pdf" in smk.output.keys())
log.info("%d coverage rows, %d ranks: wrote %s", len(coverage), len(ranks), paths)
