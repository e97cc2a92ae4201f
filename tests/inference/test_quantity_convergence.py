"""R-hat and ESS of the physical quantities from chain-ordered draws, and the status they set."""

import numpy as np

from sedjax.inference import assess_status
from sedjax.inference.diagnostics import CONVERGENCE_QUANTITIES, ess_bulk, quantity_convergence, split_rhat


def _draws(rng, g, n_chains, n_draws, shift=0.0):
    """{quantity: (g, n_chains * n_draws)} iid normal draws, chain 0 shifted by ``shift``."""
    out = {}
    for q in CONVERGENCE_QUANTITIES:
        x = rng.normal(size=(g, n_chains, n_draws))
        x[:, 0] += shift
        out[q] = x.reshape(g, n_chains * n_draws)
    return out


def test_mixed_and_stuck_chains():
    rng = np.random.default_rng(0)
    good = _draws(rng, 3, 4, 250)
    bad = _draws(rng, 1, 4, 250, shift=1.0)  # one chain off by one sd
    draws = {q: np.concatenate([good[q], bad[q]]) for q in good}
    draws["sfr_10myr"] = np.zeros((4, 1000))  # not a convergence quantity: ignored
    out = quantity_convergence(draws, [4, 4, 0, 4])
    r, e = out["rhat_quantities_max"], out["ess_quantities_min"]
    assert r[0] < 1.01 and r[1] < 1.01 and 600 < e[0] <= 1100  # iid: ESS near the 1000 draws
    assert np.isnan(r[2]) and np.isnan(e[2])  # 0 chains: importance draws, not judged here
    assert r[3] > 1.05
    # the same numbers as the per-galaxy diagnostics on the worst quantity
    chains = np.stack([draws[q][0].reshape(4, 250) for q in CONVERGENCE_QUANTITIES], axis=-1)
    np.testing.assert_allclose(r[0], np.max(np.asarray(split_rhat(chains))), rtol=1e-12)
    np.testing.assert_allclose(e[0], np.min(np.asarray(ess_bulk(chains))), rtol=1e-12)


def test_missing_quantities_and_non_finite_draws():
    rng = np.random.default_rng(1)
    draws = {"met_logzsol": rng.normal(size=(2, 400))}  # a fit with only one of the quantities
    draws["met_logzsol"][1, 7] = np.nan
    out = quantity_convergence(draws, [4, 4])
    assert np.isfinite(out["rhat_quantities_max"][0]) and np.isnan(out["rhat_quantities_max"][1])
    assert np.all(np.isnan(quantity_convergence({}, [4, 4])["rhat_quantities_max"]))


def _hmc_diags(rq, eq):
    return {"path": np.asarray(1), "hmc_converged": np.asarray(True), "rhat_max": np.asarray(1.005),
            "ess_bulk_min": np.asarray(800.0), "accept_mean": np.asarray(0.8), "accept_per_chain": np.full(4, 0.8),
            "n_divergent": np.asarray(0), "n_transitions": np.asarray(2000), "k_hat": np.asarray(0.9),
            "psis_ess": np.asarray(100.0), "hmc_rhat_max": np.asarray(1.01), "hmc_min_ess": np.asarray(400.0),
            "rhat_quantities_max": np.asarray(rq), "ess_quantities_min": np.asarray(eq)}


def test_auto_fails_an_hmc_fit_unconverged_on_the_physical_quantities():
    s = np.zeros((10, 2))
    assert assess_status("auto", _hmc_diags(1.004, 700.0), s)[0] == "ok"
    status, reason = assess_status("auto", _hmc_diags(1.02, 700.0), s)
    assert status == "failed" and "physical quantities" in reason
    status, reason = assess_status("auto", _hmc_diags(1.004, 300.0), s)
    assert status == "failed" and "ESS 300" in reason
    # NUTS holds the quantities to its own R-hat limit
    d = {k: v for k, v in _hmc_diags(1.3, 700.0).items() if k not in ("path", "hmc_converged")}
    status, reason = assess_status("nuts", d, s)
    assert status == "failed" and "physical quantities 1.300" in reason
