"""Importance-sampling triage ("is") and the catalogue strategy ("auto") on analytic targets.

The targets are written down here (a correlated Gaussian, a banana), with a ``mode_fn``
that plays the MAP stage: its Gaussian is the exact one for the Gaussian target and a poor
one for the banana.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sedjax.inference import AutoOpts, ISOpts, assess_status, run_auto, run_is
from sedjax.inference.backends.gaussian import gaussian_from_cov, multivariate_t, t_logpdf

MU = jnp.array([0.5, -1.0, 2.0])
COV = jnp.array([[1.0, 0.6, 0.0], [0.6, 2.0, -0.3], [0.0, -0.3, 0.5]])
PREC = jnp.linalg.inv(COV)


def gaussian_logp(u, data):
    r = u - MU
    return -0.5 * r @ PREC @ r


def banana_logp(u, data):
    """u0 ~ N(0, 1), u1 ~ N(u0², 0.3²), u2 ~ N(0, 1): a curved valley."""
    return -0.5 * (u[0] ** 2 + ((u[1] - u[0] ** 2) / 0.3) ** 2 + u[2] ** 2)


def mode_fn_for(mode, cov):
    def mode_fn(key, data, map_opts):
        return mode, jnp.asarray(0.0), gaussian_from_cov(cov)

    return mode_fn


def init_fn(key):
    return jax.random.normal(key, (3,))


def test_t_proposal_density_is_normalised():
    """The multivariate-t log density integrates to one: E_q[1/q] over a box by importance."""
    g = gaussian_from_cov(COV)
    x, logq = multivariate_t(jax.random.PRNGKey(0), MU, g["sqrt_cov"], g["log_det_cov"], 5.0, 200_000)
    # mean and covariance of a t with df = 5: mu and 5/3 Sigma
    np.testing.assert_allclose(np.mean(x, axis=0), MU, atol=0.02)
    np.testing.assert_allclose(np.cov(np.asarray(x).T), 5 / 3 * np.asarray(COV), atol=0.05)
    # against scipy's multivariate t
    from scipy.stats import multivariate_t as mvt

    ref = mvt(loc=np.asarray(MU), shape=np.asarray(COV), df=5.0).logpdf(np.asarray(x[:50]))
    np.testing.assert_allclose(np.asarray(logq[:50]), ref, rtol=1e-10)
    # the density at given points (the adaptive rounds' mixture weights) is the same density
    np.testing.assert_allclose(np.asarray(t_logpdf(x[:50], MU, g["sqrt_cov"], g["log_det_cov"], 5.0)), ref, rtol=1e-10)


def test_is_recovers_a_gaussian_and_is_accepted():
    opts = ISOpts(n_draws=4000, n_samples=2000)
    out = jax.jit(lambda k: run_is(k, gaussian_logp, {}, init_fn, opts, mode_fn=mode_fn_for(MU, COV)))(jax.random.PRNGKey(1))
    assert float(out["k_hat"]) < 0.5 and float(out["psis_ess"]) >= 400 and bool(out["is_accepted"])
    s = np.asarray(out["samples"])
    assert s.shape == (2000, 3)
    np.testing.assert_allclose(s.mean(axis=0), MU, atol=0.1)
    np.testing.assert_allclose(np.cov(s.T), COV, atol=0.15)
    assert assess_status("is", {k: np.asarray(v) for k, v in out.items() if k != "samples"}, s) == ("ok", "")
    # the importance estimate of ln ∫ exp(logp) = ln((2π)^{d/2} |Σ|^{1/2})
    expect = 1.5 * np.log(2 * np.pi) + 0.5 * np.log(np.linalg.det(np.asarray(COV)))
    assert float(out["log_evidence"]) == pytest.approx(expect, abs=0.02)


def test_is_with_a_bad_proposal_fails():
    """A proposal 4x too narrow, not adapted: heavy-tailed weights, k-hat > 0.7, status failed with the reason."""
    opts = ISOpts(n_draws=4000, n_samples=500, n_adapt=0)
    out = run_is(jax.random.PRNGKey(2), gaussian_logp, {}, init_fn, opts, mode_fn=mode_fn_for(MU, COV / 16))
    assert float(out["k_hat"]) > 0.7 and not bool(out["is_accepted"])
    status, reason = assess_status("is", {k: np.asarray(v) for k, v in out.items() if k != "samples"}, np.asarray(out["samples"]))
    assert status == "failed" and "k-hat" in reason


def test_adaptive_rounds_repair_a_shifted_narrow_proposal():
    """The same target from a proposal 4x too narrow and 1.5 sd off: three adaptive rounds fit it."""
    bad_mode = MU + 1.5 * jnp.sqrt(jnp.diag(COV))
    run = lambda opts: jax.jit(lambda k: run_is(k, gaussian_logp, {}, init_fn, opts,  # noqa: E731
                                                mode_fn=mode_fn_for(bad_mode, COV / 16)))(jax.random.PRNGKey(2))
    assert not bool(run(ISOpts(n_adapt=0))["is_accepted"])
    out = run(ISOpts(n_draws=2000, n_samples=2000, n_adapt=3))
    assert float(out["k_hat"]) < 0.5 and float(out["psis_ess"]) >= 2000 and bool(out["is_accepted"])
    assert int(out["n_logdensity_evals"]) == 8000
    s = np.asarray(out["samples"])
    np.testing.assert_allclose(s.mean(axis=0), MU, atol=0.1)
    np.testing.assert_allclose(np.cov(s.T), COV, atol=0.15)
    # the covariance handed on (auto's HMC metric) is the weighted one, not the narrow proposal's
    np.testing.assert_allclose(np.asarray(out["cov"]), COV, atol=0.15)
    expect = 1.5 * np.log(2 * np.pi) + 0.5 * np.log(np.linalg.det(np.asarray(COV)))
    assert float(out["log_evidence"]) == pytest.approx(expect, abs=0.03)


@pytest.mark.parametrize("kernel", ["nuts", "chees"])
def test_auto_routes_easy_to_is_and_hard_to_hmc(kernel):
    opts = AutoOpts(n_samples=400, n_draws=2000, n_chains=4, n_warmup=100, hmc_draws_per_chain=200, max_num_doublings=6,
                    hmc_kernel=kernel)
    easy = jax.jit(lambda k: run_auto(k, gaussian_logp, {}, init_fn, opts, mode_fn=mode_fn_for(MU, COV)))(jax.random.PRNGKey(3))
    assert int(easy["path"]) == 0 and bool(easy["is_accepted"])
    assert np.isnan(float(easy["rhat_max"])) and int(easy["n_divergent"]) == -1  # HMC did not run
    # the banana defeats a unimodal t even after the adaptive rounds
    hard = jax.jit(lambda k: run_auto(k, banana_logp, {}, init_fn, opts, mode_fn=mode_fn_for(jnp.zeros(3), jnp.eye(3))))(
        jax.random.PRNGKey(3))
    assert int(hard["path"]) == 1 and not bool(hard["is_accepted"])
    assert np.isfinite(float(hard["rhat_max"])) and int(hard["n_transitions"]) == 800  # 4 x 200, thinned to 400
    s = np.asarray(hard["samples"])
    assert s.shape == (400, 3)
    d = {k: np.asarray(v) for k, v in hard.items() if k != "samples"}
    status, reason = assess_status("auto", d, s)
    assert ("IS rejected" in reason) or ("HMC not converged" in reason)
    # NUTS' draws follow the banana (E[u1] = E[u0^2] = 1). ChEES, with 4 chains and a metric
    # that ignores the curve, tunes short trajectories and has not mixed after 100 + 200
    # steps: its R-hat says so and the galaxy fails, never a wrong posterior marked ok.
    if kernel == "nuts" or bool(hard["hmc_converged"]):
        assert abs(s[:, 1].mean() - 1.0) < 0.3
    else:
        assert status == "failed" and "HMC not converged" in reason and float(hard["rhat_max"]) > 1.01


@pytest.mark.parametrize("kernel", ["nuts", "chees"])
def test_hmc_output_shapes_match_the_stage(kernel):
    """The filler's written-out shapes are the HMC stage's, for either kernel (no tracing of
    it for accepted galaxies)."""
    from sedjax.inference.backends.auto import hmc_output_shapes, stage_hmc

    opts = AutoOpts(n_samples=400, n_chains=4, n_warmup=10, hmc_draws_per_chain=200, hmc_kernel=kernel)
    traced = jax.eval_shape(lambda k: stage_hmc(k, gaussian_logp, {}, MU, COV, opts), jax.random.PRNGKey(0))
    written = hmc_output_shapes(opts, 3, MU.dtype)
    assert set(traced) == set(written)
    for k in traced:
        assert (traced[k].shape, traced[k].dtype) == (written[k].shape, written[k].dtype), k


def test_chees_stage_samples_the_target_from_a_poor_metric():
    """ChEES-HMC whitened by a Gaussian 2x too wide and off-centre still recovers the target's
    moments, tunes a trajectory of several leapfrog steps, and converges (R-hat, ESS)."""
    from sedjax.inference.backends.auto import stage_hmc

    opts = AutoOpts(n_samples=2000, n_chains=8, n_warmup=200, hmc_draws_per_chain=500, hmc_kernel="chees",
                    max_num_doublings=5, min_ess=400)
    out = jax.jit(lambda k: stage_hmc(k, gaussian_logp, {}, MU + 0.5, 4.0 * COV, opts))(jax.random.PRNGKey(5))
    s = np.asarray(out["samples"])
    assert s.shape == (2000, 3)
    np.testing.assert_allclose(s.mean(0), np.asarray(MU), atol=0.15)
    np.testing.assert_allclose(np.cov(s.T), np.asarray(COV), atol=0.25)
    assert bool(out["hmc_converged"]) and float(out["rhat_max"]) < 1.01
    assert 2.0 <= float(out["n_leapfrog_mean"]) <= 32.0
    assert int(out["n_max_treedepth"]) < 200  # the trajectory is not pinned at the cap
    # the draws' log densities are the target's at those draws
    np.testing.assert_allclose(np.asarray(out["logdensity"])[:5], [float(gaussian_logp(jnp.asarray(x), {})) for x in s[:5]],
                               rtol=1e-10)


def test_chees_is_rejected_as_an_unknown_kernel():
    with pytest.raises(ValueError, match="hmc_kernel"):
        AutoOpts(hmc_kernel="mala")
