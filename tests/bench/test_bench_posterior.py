"""sedjax.bench.posterior: the galaxy, the evaluation counts, ESS/R-hat, and the record of a tiny run."""

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from testlib import posterior_bench_defaults

from sedjax.bench.posterior import (
    EvalCounter,
    bench_posterior,
    count_evaluations,
    counting_target,
    ess_summary,
    headline,
    mock_observation,
    posterior_model_config,
    rhat_max,
)
from sedjax.inference import Target, make_opts
from sedjax.io.sample_sets import read_sample_sets, write_sample_sets
from sedjax.model.from_config import model_from_config


@pytest.fixture(scope="module")
def bench_model(ssp_path, model_cfg):
    return model_from_config(posterior_model_config(model_cfg, posterior_bench_defaults()["params"]), ssp_path)


def test_benchmark_model_config_forces_dpl_and_cf00(model_cfg):
    cfg = posterior_model_config({**model_cfg, "sfh": "constant", "dust_law": "calzetti"}, {"redshift": 0.2})
    assert cfg["sfh"] == "dpl" and cfg["dust_law"] == "powerlaw" and cfg["params"] == {"redshift": 0.2}
    assert cfg["bands"] == model_cfg["bands"] and cfg["igm"] == model_cfg["igm"]


def test_mock_observation(bench_model):
    truth = posterior_bench_defaults()["truth"]
    obs, full = mock_observation(bench_model, truth, frac_err=0.1, seed=3)
    params = bench_model.spec.with_fixed({k: jnp.asarray(v) for k, v in truth.items()})
    exact = np.asarray(bench_model.predict_photometry(params, mode="exact"))
    np.testing.assert_allclose(obs["flux_true"], exact, rtol=1e-12)
    np.testing.assert_allclose(obs["flux_err"], 0.1 * exact, rtol=1e-12)
    z = (obs["flux"] - exact) / obs["flux_err"]
    assert np.all(np.abs(z) < 5) and not np.allclose(z, 0)
    again, _ = mock_observation(bench_model, truth, frac_err=0.1, seed=3)
    np.testing.assert_array_equal(again["flux"], obs["flux"])
    assert full["log_mass_formed"] == pytest.approx(truth["sfh_log_mass_formed"], abs=1e-6)
    assert full["dust_tau_bc"] == 0.0 and full["redshift"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="missing free parameters"):
        mock_observation(bench_model, {k: v for k, v in truth.items() if k != "met_logzsol"})
    with pytest.raises(ValueError, match="outside the priors"):
        mock_observation(bench_model, {**truth, "sfh_dpl_alpha": 20.0})


class Inner(NamedTuple):
    logdensity_fn: object
    index: int


def test_counting_target_counts_every_element_and_nested_targets():
    def logdensity(u, data):
        return -jnp.sum(jnp.exp(0.3 * (u - data)) + jnp.sin(u) ** 2)

    def logprior(u, data):
        return -jnp.sum(jnp.cosh(u))

    target = Target(logdensity_fn=logdensity, init_fn=lambda k: jnp.zeros(2), logprior_fn=logprior)
    counter = EvalCounter()
    counted = counting_target(target, counter)
    assert counted.init_fn is target.init_fn and counted.loglik_fn is None
    u = jnp.ones((5, 2))
    jax.block_until_ready(jax.jit(jax.vmap(jax.value_and_grad(counted.logdensity_fn), (0, None)))(u, 0.0))
    jax.block_until_ready(jax.jit(counted.logprior_fn)(u[0], 0.0))
    assert counter.counts == {"logdensity_fn": 5, "logprior_fn": 1}
    # a gradient or Hessian alone still runs (and counts) the forward pass; values are unchanged
    g = jax.jit(jax.grad(counted.logdensity_fn))(u[0], 0.0)
    h = jax.jit(jax.hessian(counted.logprior_fn))(u[0], 0.0)
    assert counter.counts == {"logdensity_fn": 6, "logprior_fn": 2}
    np.testing.assert_allclose(g, jax.grad(logdensity)(u[0], 0.0), rtol=1e-14)
    np.testing.assert_allclose(h, jax.hessian(logprior)(u[0], 0.0), rtol=1e-14)
    # a nested target (e.g. an amplitude-collapsed one) is wrapped too, under its field's name
    nested = counting_target(Inner(logdensity_fn=logdensity, index=3), counter, "collapse.")
    jax.block_until_ready(jax.jit(nested.logdensity_fn)(u[0], 0.0))
    assert counter.counts["collapse.logdensity_fn"] == 1 and nested.index == 3


def test_ess_and_rhat_from_the_backends_own_diagnostics():
    nuts = {"ess_bulk": np.array([400.0, 250.0]), "ess_bulk_min": 250.0, "psis_ess": 9.0}
    assert ess_summary(nuts) == (250.0, "ess_bulk")
    assert ess_summary({"psis_ess": np.array(80.0), "importance_ess": 70.0}) == (80.0, "psis_ess")
    assert ess_summary({"ess": 1000.0}) == (1000.0, "ess")
    assert ess_summary({"loss": 3.0}) == (None, None)  # a point estimate
    assert rhat_max({"rhat": np.array([1.001, 1.2, 1.01])}) == pytest.approx(1.2)
    assert rhat_max({"rhat_max": 1.05, "rhat": np.array([1.0])}) == pytest.approx(1.05)
    assert rhat_max({"ess": 3.0}) is None
    # auto on its IS path: the HMC entries are NaN, the IS ones count
    is_path = {"ess_bulk": np.full(6, np.nan), "psis_ess": np.array(1500.0), "rhat_max": np.array(np.nan)}
    assert ess_summary(is_path) == (1500.0, "psis_ess") and rhat_max(is_path) is None


def test_headline_reports_the_goal():
    rec = {"reference": "nuts", "bagpipes": {"fit_s": 60.0},
           "backends": {"nuts": {"status": "ok", "cold_s": 50.0, "warm": {"median_s": 1.5},
                                 "ratios": {"bagpipes_over_warm": 40.0, "bagpipes_over_cold": 1.2}}}}
    h = headline(rec)
    assert h["available"] and h["goal_met"] and h["bagpipes_over_warm"] == 40.0
    assert h["fastest_posterior"] is None  # nuts has no ESS here: not counted as a posterior
    rec["backends"]["nuts"]["ess"] = 400.0
    rec["backends"]["laplace"] = {"status": "ok", "ess": 90.0, "ess_key": "psis_ess", "cold_s": 20.0,
                                  "warm": {"median_s": 0.1}, "ratios": {"bagpipes_over_warm": 600.0}}
    rec["backends"]["map"] = {"status": "ok", "ess": None, "cold_s": 10.0, "warm": {"median_s": 0.01},
                              "ratios": {"bagpipes_over_warm": 6000.0}}  # a point estimate
    rec["backends"]["vi"] = {"status": "failed", "ess": 2.0, "cold_s": 10.0, "warm": {"median_s": 0.02},
                             "ratios": {"bagpipes_over_warm": 3000.0}}  # draws that failed their checks
    h = headline(rec)
    assert h["fastest_posterior"]["backend"] == "laplace" and h["goal_met_by_fastest"]
    rec["backends"]["nuts"]["status"] = "failed"
    assert headline(rec)["goal_met"] is False  # not converged: the goal is not met, whatever the time
    rec["backends"]["nuts"] = {"error": {"type": "KeyError"}}
    assert headline(rec) == {"reference": "nuts", "available": False}


def test_count_evaluations_of_a_real_backend(bench_model):
    obs, _ = mock_observation(bench_model, posterior_bench_defaults()["truth"], seed=1)
    from sedjax.inference.posterior import make_data, make_target

    data = make_data(bench_model, obs["flux"], obs["flux_err"])
    opts = make_opts("vi", n_steps=7, n_samples=11, n_mc=3)
    r = count_evaluations("vi", make_target(bench_model), data, opts, jax.random.PRNGKey(0))
    # VI: n_mc log densities per Adam step, then one per final draw (its PSIS check), all on the
    # amplitude-collapsed target (fit.collapse_amplitude's default)
    assert r["evaluations"] == {"collapse.logdensity_fn": 7 * 3 + 11} and r["model_evaluations"] == 32


@pytest.mark.slow
def test_tiny_posterior_benchmark_record(bench_model, tmp_path, checks):
    """MAP and NUTS (tiny options) and bagpipes + nautilus (tiny n_live) on one galaxy: the record's structure
    and its ratios (never the times themselves)."""
    truth = posterior_bench_defaults()["truth"]
    obs, full = mock_observation(bench_model, truth, seed=0)
    opts = {"nuts": {"n_chains": 2, "n_warmup": 15, "n_samples": 10, "max_num_doublings": 3},
            "map": {"n_starts": 2, "n_steps": 5}}
    rec, sets = bench_posterior(bench_model, obs, ["nuts", "map", "nope"], options=opts, warm_repeats=2,
                                bagpipes_cfg={"n_live": 25, "n_posterior": 50})
    rec = checks.roundtrip(tmp_path, rec, "posterior")
    n, m, bp = rec["backends"]["nuts"], rec["backends"]["map"], rec["bagpipes"]
    assert rec["backends"]["nope"]["error"]["type"] == "KeyError"
    assert bp.get("error") is None, bp.get("error")
    for r in (n, m):
        assert r["cold_s"] == pytest.approx(r["lower_s"] + r["compile_s"] + r["first_run_s"])
        checks.stats(r["warm"], 2)
        assert r["status"] in ("ok", "failed") and r["model_evaluations"] > 0
        assert r["ratios"]["bagpipes_over_warm"] == pytest.approx(bp["fit_s"] / r["warm"]["median_s"])
        assert r["ratios"]["bagpipes_over_cold"] == pytest.approx(bp["fit_s"] / r["cold_s"])
    # NUTS: every chain's warm-up and draws evaluate the log density at least once per leapfrog step
    assert n["evaluations"]["collapse.logdensity_fn"] >= n["n_leapfrog_sampling"] >= 2 * 10  # the collapsed target
    assert n["ess_key"] == "ess_bulk" and n["ess"] > 0 and math.isfinite(n["rhat_max"])
    assert n["ess_per_s"] == pytest.approx(n["ess"] / n["warm"]["median_s"])
    assert n["ratios"]["ess_per_s_over_bagpipes"] == pytest.approx(n["ess_per_s"] / bp["ess_per_s"])
    assert m["ess"] is None and m["ratios"]["ess_per_s_over_bagpipes"] is None and m["n_draws"] == 1
    assert "residual_fn" in m["evaluations"]
    assert bp["n_likelihood_calls"] > 25 and bp["n_live"] == 25
    assert bp["n_eff"] == pytest.approx(1.0 / bp["log_z_err"] ** 2)
    assert rec["headline"]["available"] and rec["headline"]["reference"] == "nuts"
    assert {r["ours"] for r in rec["prior_mapping"]} == set(bench_model.spec.to_config()["params"])
    # the draws for the overlay, written and read back
    write_sample_sets(tmp_path / "s.h5", sets, {"truth": full, "reference": "nuts"})
    back, meta = read_sample_sets(tmp_path / "s.h5")
    assert set(back) == {"nuts", "map", "bagpipes"} and meta["reference"] == "nuts"
    assert len(back["nuts"]["samples"]["sfh_log_mass_formed"]) == 20
    assert len(back["bagpipes"]["derived"]["log_mass_surviving"]) == 50
    lo, hi = posterior_bench_defaults()["params"]["sfh_log_mass_formed"]["uniform"]
    assert np.all((back["bagpipes"]["samples"]["sfh_log_mass_formed"] >= lo)
                  & (back["bagpipes"]["samples"]["sfh_log_mass_formed"] <= hi))
