"""Rule ``fit_summary``: one row per (backend, galaxy) from the single-galaxy FitResults."""

from sedjax.io.runtime import setup_logging
from sedjax.analysis.summary import fit_results_table, write_table

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0], "fit_summary")
df = fit_results_table(smk.input.fits)
write_table(df, smk.output[0])
log.info("wrote %d rows (%d failed) to %s", len(df), int((df["status"] != "ok").sum()), smk.output[0])
