"""chi2_best and chi2_pvalue in every result (issue 16): fit, fit_batch, summary table, status warning."""

import jax
import numpy as np
import pytest
import scipy.stats
from testlib import DEFAULT_BANDS

from sedjax.analysis.calibration import summary_table
from sedjax.fitting.batch import fit_batch
from sedjax.fitting.goodness import make_chi2_fn
from sedjax.fitting.single import fit
from sedjax.inference.posterior import make_data

OPTS = {"n_starts": 2, "n_steps": 40}


@pytest.fixture(scope="module")
def truth_obs(default_model):
    params = default_model.spec.sample(jax.random.PRNGKey(5))
    flux = np.asarray(default_model.predict_photometry(params))
    return params, {"flux": flux, "flux_err": 0.1 * flux, "redshift": 0.1}


def test_chi2_matches_numpy_and_scipy(default_model, truth_obs):
    params, obs = truth_obs
    rng = np.random.default_rng(0)
    flux = obs["flux"] * (1 + 0.1 * rng.normal(size=len(DEFAULT_BANDS)))
    mask = np.array([1, 1, 0, 1, 1], bool)
    data = make_data(default_model, flux, obs["flux_err"], mask, 0.1)
    spec = default_model.spec
    u_true = spec.to_unconstrained(params)
    u = np.stack([u_true + 0.3, u_true, np.full_like(u_true, np.nan)])
    out = jax.jit(make_chi2_fn(default_model))(u, data)
    chi2 = [np.sum(mask * (flux - np.asarray(default_model.predict_photometry(spec.from_unconstrained(v)[0]))) ** 2
                   / obs["flux_err"] ** 2) for v in u[:2]]
    assert float(out["chi2_best"]) == pytest.approx(min(chi2), rel=1e-9)
    assert int(out["n_usable_bands"]) == 4
    assert float(out["chi2_pvalue"]) == pytest.approx(scipy.stats.chi2.sf(min(chi2), 4), rel=1e-9)


def test_fit_reports_chi2_and_flags_a_sentinel_flux(default_model, truth_obs):
    _, obs = truth_obs
    good = fit(default_model, obs, "map", jax.random.PRNGKey(0), options=OPTS)
    assert good.diagnostics["chi2_best"] >= 0 and good.diagnostics["chi2_pvalue"] > 1e-6
    assert "implausible" not in good.reason
    bad_flux = obs["flux"].copy()
    bad_flux[1] = -99.0  # a "no data" sentinel read as a flux
    bad = fit(default_model, dict(obs, flux=bad_flux), "map", jax.random.PRNGKey(0), options=OPTS)
    assert bad.diagnostics["chi2_pvalue"] < 1e-6
    assert "implausible fit: best chi2" in bad.reason and "5 bands" in bad.reason


def test_batch_results_carry_chi2_columns(default_model, truth_obs):
    _, obs = truth_obs
    flux = np.stack([obs["flux"], obs["flux"]])
    flux[1, 1] = -99.0
    cat = {"flux": flux, "flux_err": np.stack([obs["flux_err"]] * 2), "redshift": [0.1, 0.1], "ids": np.array([3, 4])}
    res = fit_batch(default_model, cat, "map", options=OPTS, chunk_size=2, log=None)
    assert res.diagnostics["chi2_best"].shape == (2,)
    table = summary_table(res)
    assert {"diag_chi2_best", "diag_chi2_pvalue", "diag_n_usable_bands"} <= set(table.columns)
    assert table["diag_chi2_pvalue"].iloc[0] > 1e-6 > table["diag_chi2_pvalue"].iloc[1]
    assert "implausible" in table["reason"].iloc[1] and "implausible" not in table["reason"].iloc[0]
