"""The shared log-posterior: masks, systematic floor, Jacobian, and fit() on the real model."""

import jax
import numpy as np
import pytest

from sedjax.fitting.single import fit
from sedjax.inference.posterior import make_data, make_target


@pytest.fixture(scope="module")
def obs(default_model):
    truth = default_model.spec.sample(jax.random.PRNGKey(4))
    flux = np.asarray(default_model.predict_photometry(truth))
    return truth, flux, 0.05 * flux


def test_likelihood_is_gaussian_in_flux(default_model, obs):
    m = default_model
    truth, flux, err = obs
    target = make_target(m)
    data = make_data(m, flux * 1.1, err)
    u = m.spec.to_unconstrained(truth)
    expect = -0.5 * np.sum((0.1 * flux / err) ** 2 + np.log(2 * np.pi * err**2))
    np.testing.assert_allclose(float(target.loglik_fn(u, data)), expect, rtol=1e-9)
    # log density = loglik + log prior + log|Jacobian|
    params, logdet = m.spec.from_unconstrained(u)
    np.testing.assert_allclose(
        float(target.logdensity_fn(u, data)),
        expect + float(m.spec.log_prior(params)) + float(logdet), rtol=1e-9,
    )
    # systematic floor adds (s f)^2 in quadrature
    t_sys = make_target(m, sys_frac=0.1)
    var = err**2 + (0.1 * flux) ** 2
    expect_sys = -0.5 * np.sum((0.1 * flux) ** 2 / var + np.log(2 * np.pi * var))
    np.testing.assert_allclose(float(t_sys.loglik_fn(u, data)), expect_sys, rtol=1e-9)


def test_bad_bands_are_masked_and_contribute_nothing(default_model, obs):
    m = default_model
    truth, flux, err = obs
    u = m.spec.to_unconstrained(truth)
    target = make_target(m)
    bad_flux = flux.copy()
    bad_flux[1] = np.nan
    bad_err = err.copy()
    bad_err[3] = 0.0
    data = make_data(m, bad_flux, bad_err)
    np.testing.assert_array_equal(np.asarray(data["mask"]), [1, 0, 1, 0, 1])
    keep = [0, 2, 4]
    expect = -0.5 * np.sum(np.log(2 * np.pi * err[keep] ** 2))  # at the truth, chi2 = 0
    np.testing.assert_allclose(float(target.loglik_fn(u, data)), expect, rtol=1e-9)
    assert np.isfinite(float(jax.grad(target.logdensity_fn)(u, data).sum()))
    with pytest.raises(ValueError, match="no usable band"):
        make_data(m, np.full(5, np.nan), err)
    with pytest.raises(ValueError, match="shape"):
        make_data(m, flux[:3], err[:3])


@pytest.mark.parametrize("backend", ["map", "vi"])
def test_fit_same_key_same_samples(default_model, obs, backend):
    truth, flux, err = obs
    opts = {"map": {"n_starts": 2, "n_steps": 30}, "vi": {"n_steps": 50, "n_samples": 50}}[backend]
    a = fit(default_model, {"flux": flux, "flux_err": err}, backend, jax.random.PRNGKey(1), options=opts)
    b = fit(default_model, {"flux": flux, "flux_err": err}, backend, jax.random.PRNGKey(1), options=opts)
    for k in a.samples:
        np.testing.assert_array_equal(a.samples[k], b.samples[k])
    assert set(a.derived) >= {"log_mass_formed", "sfr_100myr", "log_mass_surviving", "mass_weighted_age_gyr"}
    assert a.meta["bands"] == default_model.bands
