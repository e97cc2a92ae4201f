"""Priors and the unconstrained bijection."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from testlib import default_spec

from sedjax import Fixed, LogUniform, Normal, Parameters, Uniform
from sedjax.model.priors import prior_from_config


@pytest.mark.parametrize("prior", [Uniform(-1, 2.5), LogUniform(0.1, 10), Normal(0.3, 2.0)])
def test_bijection_round_trip_and_log_jacobian(prior):
    u = jnp.linspace(-6, 6, 41)
    x, logdet = jax.vmap(prior.from_unconstrained)(u)
    np.testing.assert_allclose(np.asarray(jax.vmap(prior.to_unconstrained)(x)), np.asarray(u), atol=1e-8)
    dxdu = jax.vmap(jax.grad(lambda v: prior.from_unconstrained(v)[0]))(u)
    np.testing.assert_allclose(np.asarray(logdet), np.log(np.asarray(dxdu)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("prior", [Uniform(-1, 2.5), LogUniform(0.1, 10), Normal(0.3, 2.0)])
def test_prior_density_normalised(prior):
    """∫ p(x) dx = 1, by quadrature over the support."""
    from scipy.integrate import quad

    lo, hi = (prior.low, prior.high) if hasattr(prior, "low") else (prior.mu - 12 * prior.sigma, prior.mu + 12 * prior.sigma)
    total, _ = quad(lambda x: float(np.exp(prior.log_prob(x))), lo, hi, limit=200)
    assert abs(total - 1) < 1e-6


def test_spec_sampling_in_support_and_log_prior():
    spec = default_spec()
    assert spec.free_params == [
        "sfh_dpl_log_peak_sfr", "sfh_dpl_tau_gyr", "sfh_dpl_alpha", "sfh_dpl_beta",
        "met_logzsol", "dust_tau_bc", "dust_tau_diff",
    ]
    batch = spec.sample_batch(jax.random.PRNGKey(0), 500)
    for n in spec.free_params:
        pr = spec.priors[n]
        assert np.all((batch[n] >= pr.low) & (batch[n] <= pr.high))
    assert np.all(np.asarray(batch["redshift"]) == 0.1)
    p = spec.sample(jax.random.PRNGKey(1))
    expect = -np.sum([np.log(spec.priors[n].high - spec.priors[n].low) for n in spec.free_params])
    np.testing.assert_allclose(float(spec.log_prior(p)), expect)
    outside = dict(p, met_logzsol=1.0)
    assert float(spec.log_prior(outside)) == -np.inf


def test_spec_unconstrained_round_trip():
    spec = default_spec()
    p = spec.sample(jax.random.PRNGKey(2))
    u = spec.to_unconstrained(p)
    assert u.shape == (7,)
    q, logdet = spec.from_unconstrained(u)
    for n in spec.free_params:
        np.testing.assert_allclose(float(q[n]), float(p[n]), rtol=1e-10)
    assert np.isfinite(float(logdet))
    assert float(q["redshift"]) == 0.1


def test_config_forms():
    assert prior_from_config("x", 0.1) == Fixed(0.1)
    assert prior_from_config("x", {"uniform": [0, 1]}) == Uniform(0.0, 1.0)
    assert prior_from_config("x", {"log_uniform": [0.1, 1]}) == LogUniform(0.1, 1.0)
    with pytest.raises(ValueError, match="unknown prior"):
        prior_from_config("x", {"unifrom": [0, 1]})
    with pytest.raises(ValueError, match="low < high"):
        Uniform(2, 1)
    spec = Parameters.from_config(default_spec().to_config())
    assert spec.free_params == default_spec().free_params
