"""PSIS (sedjax.inference.psis): k-hat on tails of known shape, importance sampling on a
Gaussian target, and the failed status of a deliberately bad proposal."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sedjax.inference import assess_status
from sedjax.inference.psis import K_HAT_MAX, k_hat_check, psis, tail_length


def _gpd_draws(rng, k, n):
    # inverse CDF of the GPD(k, sigma=1): x = ((1 - p)^-k - 1) / k
    p = rng.uniform(size=n)
    return np.expm1(-k * np.log1p(-p)) / k


@pytest.mark.parametrize("k_true", [0.2, 0.5, 0.9])
def test_k_hat_recovers_a_known_tail_shape(k_true):
    # log ratios whose exponentials are GPD(k) draws: the fitted tail shape is k
    rng = np.random.default_rng(3)
    n = 20_000  # tail M = 425 draws: the GPD fit's sd is ~ (1 + k) / sqrt(M) < 0.1
    lw = np.log(_gpd_draws(rng, k_true, n) + 1e-300)
    out = psis(jnp.asarray(lw))
    assert abs(float(out["k_hat"]) - k_true) < 0.15, (float(out["k_hat"]), k_true)
    lwt = np.asarray(out["log_weights"])
    np.testing.assert_allclose(np.exp(lwt).sum(), 1.0, rtol=1e-12)
    # smoothing only touches the tail; no smoothed weight exceeds the largest raw one
    body = np.argsort(lw)[: n - tail_length(n)]
    np.testing.assert_allclose(lwt[body] - lwt[body][0], lw[body] - lw[body][0], atol=1e-10)
    assert np.max(lwt) <= np.max(lw) - lw[body][0] + lwt[body][0] + 1e-10


def _is_gaussian(q_mean, q_sd, n=4000, seed=0, dof=None):
    """Importance sampling of N(0, 1)^2 from a Gaussian (or Student-t) proposal."""
    key = jax.random.PRNGKey(seed)
    if dof is None:
        z = jax.random.normal(key, (n, 2))
        logq = jnp.sum(jax.scipy.stats.norm.logpdf(z), axis=1) - 2 * jnp.log(q_sd)
    else:
        z = jax.random.t(key, dof, (n, 2))
        logq = jnp.sum(jax.scipy.stats.t.logpdf(z, dof), axis=1) - 2 * jnp.log(q_sd)
    x = q_mean + q_sd * z
    logp = jnp.sum(jax.scipy.stats.norm.logpdf(x), axis=1)
    return x, logp - logq


def test_is_on_a_gaussian_recovers_its_moments_with_small_k_hat():
    x, log_ratio = _is_gaussian(q_mean=0.3, q_sd=1.3, dof=7)  # wider, heavier-tailed q
    out = psis(log_ratio)
    k, ess = float(out["k_hat"]), float(out["ess"])
    assert k < 0.5, k
    w = np.exp(np.asarray(out["log_weights"]))
    x = np.asarray(x)
    mean = w @ x
    var = w @ (x - mean) ** 2
    # tolerance: 4 standard errors of an IS mean / variance with this ESS
    se_mean, se_var = 1 / np.sqrt(ess), np.sqrt(2 / ess)
    np.testing.assert_allclose(mean, 0.0, atol=4 * se_mean)
    np.testing.assert_allclose(var, 1.0, atol=4 * se_var)
    assert 0.2 * x.shape[0] < ess <= x.shape[0]
    assert k_hat_check({"k_hat": k}) == []


def test_bad_proposal_gives_large_k_hat_and_a_failed_status():
    # a proposal far too narrow (sd 0.3 for a unit-variance target): weights explode in the tail
    x, log_ratio = _is_gaussian(q_mean=0.0, q_sd=0.3)
    d = {"k_hat": psis(log_ratio)["k_hat"], "logdensity": np.zeros(3)}
    k = float(d["k_hat"])
    assert k > K_HAT_MAX, k
    for backend in ("laplace", "pathfinder", "vi"):
        extra = {"hessian_posdef": True, "loss": 0.0, "elbo": 0.0, "elbo_trace": np.zeros(3)}
        status, reason = assess_status(backend, {**extra, **d}, np.asarray(x))
        assert status == "failed", backend
        assert f"PSIS k-hat {k:.2f} > 0.7: draws not trustworthy" in reason
    # a good one passes the same checks
    status, _ = assess_status("vi", {"elbo": 0.0, "k_hat": 0.3}, np.zeros((3, 2)))
    assert status == "ok"


def test_flat_ratios_and_vmap():
    # an exact proposal: every ratio equal -> the tail is flat, k-hat = -inf, weights uniform
    out = psis(jnp.zeros(100))
    assert float(out["k_hat"]) == -np.inf
    np.testing.assert_allclose(float(out["ess"]), 100.0)
    # vmapped over galaxies == one by one
    _, lr1 = _is_gaussian(0.0, 1.2, n=500, seed=1)
    _, lr2 = _is_gaussian(0.5, 0.5, n=500, seed=2)
    batched = jax.vmap(psis)(jnp.stack([lr1, lr2]))
    for i, lr in enumerate((lr1, lr2)):
        np.testing.assert_allclose(batched["k_hat"][i], psis(lr)["k_hat"], rtol=1e-10)
    with pytest.raises(ValueError, match="one-dimensional"):
        psis(jnp.zeros((3, 4)))
