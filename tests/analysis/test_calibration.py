"""Truth ranks, per-galaxy summary tables and coverage / SBC statistics (sedjax.analysis.calibration)."""

import numpy as np
import pandas as pd

from sedjax.analysis.calibration import calibration_tables, truth_rank


def test_truth_rank_and_calibration_tables():
    rng = np.random.default_rng(0)
    n, s = 400, 200
    # calibrated: truth and draws from the same distribution -> uniform ranks
    mu = rng.normal(size=n)
    truth = mu + rng.normal(size=n)
    draws = mu[:, None] + rng.normal(size=(n, s))
    r = truth_rank(draws, truth)
    assert np.all((r >= 0) & (r <= 1))
    np.testing.assert_allclose(truth_rank(np.array([[1.0, 2.0, 3.0, np.nan]]), np.array([2.0])), [0.5])
    assert np.isnan(truth_rank(np.array([[1.0, 2.0]]), np.array([np.nan]))[0])
    # overconfident: draws too narrow -> U-shaped ranks, low coverage
    narrow = mu[:, None] + 0.3 * rng.normal(size=(n, s))

    def table(d):
        q = np.percentile(d, [2.5, 16, 50, 84, 97.5], axis=1)
        return pd.DataFrame({
            "id": np.arange(n), "status": "ok", "n_samples": s, "true_x": truth,
            "x_p2_5": q[0], "x_p16": q[1], "x_median": q[2], "x_p84": q[3], "x_p97_5": q[4],
            "x_rank": truth_rank(d, truth),
        })

    cov, ranks = calibration_tables({"good": table(draws), "narrow": table(narrow)})
    good = cov.set_index("backend").loc["good"]
    bad = cov.set_index("backend").loc["narrow"]
    assert good["n_galaxies"] == n and sum(good["hist"]) == n
    assert abs(good["coverage_68"] - 0.68) < 4 * good["coverage_68_err"]
    assert abs(good["coverage_95"] - 0.95) < 4 * good["coverage_95_err"]
    assert good["ks_pvalue"] > 1e-3 and good["chi2_pvalue"] > 1e-3
    assert bad["coverage_68"] < 0.4 and bad["ks_pvalue"] < 1e-6
    assert len(ranks) == 2 * n and set(ranks.columns) == {"backend", "parameter", "id", "rank"}
