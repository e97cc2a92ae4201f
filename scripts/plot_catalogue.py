"""Rule ``plot_catalogue``: stellar mass vs SFR and per-band residuals of one backend's catalogue fit."""

import pandas as pd

from sedjax.io.runtime import setup_logging
from sedjax.plotting.real_data import plot_catalogue

smk = snakemake  # noqa: F821 (the snakemake object)
log = setup_logging(smk.log[0], "plot_catalogue")
paths = plot_catalogue(pd.read_parquet(smk.input.batch), pd.read_parquet(smk.input.ppc), smk.output.png,
                       smk.wildcards.backend, pdf="pdf" in smk.output.keys())
log.info("%s: wrote %s", smk.wildcards.backend, paths)
