"""Rule ``plot_recovery``: truth vs posterior median for one backend across the batch catalogue."""

import pandas as pd

from sedjax.plotting import plot_recovery
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "plot_recovery")
df = pd.read_parquet(smk.input.batch)
paths = plot_recovery(df, smk.output.png, backend=smk.wildcards.backend, pdf="pdf" in smk.output.keys())
log.info("%s: %d galaxies, wrote %s", smk.wildcards.backend, len(df), paths)
