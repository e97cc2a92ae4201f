"""Rule ``calibration``: coverage and SBC rank statistics of the batch fits, per backend.

coverage.parquet, one row per (backend, parameter) for every free parameter and derived
quantity with a truth column: ``n_galaxies`` (status ok, finite truth and rank),
``coverage_68`` / ``coverage_95`` (fraction of truths inside the central 68% / 95% sample
intervals) with their binomial errors, the rank histogram (``hist`` list and ``hist_<j>``),
``chi2`` / ``chi2_pvalue`` and ``ks_stat`` / ``ks_pvalue`` of uniformity of the ranks,
``point_estimate`` (MAP: one draw, intervals are points and coverage is ~0 by design).
The mock's truths are drawn from the same priors the fits use, so calibrated posteriors
give uniform ranks (simulation-based calibration, Talts et al. 2018).

ranks.parquet: backend, parameter, id, rank (normalised to [0, 1]) for the figure rule.
"""

from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0], "calibration")

import pandas as pd  # noqa: E402

from sedjax.analysis.calibration import calibration_tables  # noqa: E402
from sedjax.analysis.summary import write_table  # noqa: E402

tables = {b: pd.read_parquet(p) for b, p in zip(smk.params.backends, smk.input.tables)}
cov, ranks = calibration_tables(tables, n_bins=int(smk.params.n_bins))
write_table(cov, smk.output.coverage)
write_table(ranks, smk.output.ranks)
for b, g in cov.groupby("backend", sort=False):
    log.info(
        "%s: %d galaxies; coverage 68%% %.2f (range %.2f-%.2f), 95%% %.2f; KS p min %.3g",
        b, int(g["n_galaxies"].max()), g["coverage_68"].mean(), g["coverage_68"].min(), g["coverage_68"].max(),
        g["coverage_95"].mean(), g["ks_pvalue"].min(),
    )
