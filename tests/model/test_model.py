"""Forward model against independent references (numpy sums over the grid, analytic cases)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from testlib import DEFAULT_BANDS, default_spec

from sedjax import Fixed, Parameters, SEDModel, Uniform
from sedjax.photometry.integration import band_weights, make_integration_grid, maggies_to_abmag
from sedjax.photometry.filters import load_filters


def test_ab_zero_point_flat_spectrum_is_one_maggie(ssp):
    """A flat f_ν of 3631 Jy gives 1 maggie in every band, at several redshifts."""
    bands = DEFAULT_BANDS + ["galex_fuv", "galex_nuv", "2mass_j", "2mass_ks", "wise_w1", "wise_w2"]
    filters = load_filters(bands)
    grid = make_integration_grid(ssp.ssp_wave, filters, 0.01, 2.0)
    for z in (0.01, 0.5, 2.0):
        w = np.asarray(band_weights(grid, z))
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=2e-4)


def test_photometry_converges_with_integration_grid(ssp):
    """Refining the integration grid 8x moves no band by more than 1e-3 mag."""
    bands = DEFAULT_BANDS + ["galex_fuv", "galex_nuv", "2mass_ks", "wise_w1", "wise_w3"]
    spec = default_spec(redshift=Fixed(0.3))
    p = spec.sample(jax.random.PRNGKey(3))
    m1 = SEDModel(spec, ssp, bands, oversample=1)
    m8 = SEDModel(spec, ssp, bands, oversample=8)
    f1 = maggies_to_abmag(m1.predict_photometry(p, mode="exact"))
    f8 = maggies_to_abmag(m8.predict_photometry(p, mode="exact"))
    assert np.max(np.abs(np.asarray(f1 - f8))) < 1e-3


def test_metallicity_at_grid_point_reproduces_grid_spectrum(default_model, ssp):
    """At a grid metallicity, no dust, one age bin: the spectrum is that SSP spectrum."""
    m = default_model
    for i_met in (0, 2, len(ssp.ssp_lgmet) - 1):
        p = dict(default_spec().sample(jax.random.PRNGKey(0)))
        p["met_logzsol"] = float(ssp.ssp_lgmet[i_met] - np.log10(ssp.zsun))
        p["dust_tau_diff"] = 0.0
        p["dust_tau_bc"] = 0.0
        mass_old = jnp.zeros(ssp.ssp_lg_age_gyr.size).at[150].set(1.0)
        mass_young = jnp.zeros(ssp.ssp_lg_age_gyr.size).at[10].set(2.0)
        lnu = m._rest_lnu_native(
            m._cast(p), mass_young, mass_old, jnp.asarray(ssp.ssp_flux), jnp.asarray(ssp.ssp_wave)
        )
        expect = ssp.ssp_flux[i_met, 150] + 2.0 * ssp.ssp_flux[i_met, 10]
        np.testing.assert_allclose(np.asarray(lnu), expect, rtol=1e-12)


def test_zero_dust_is_identity_and_birth_clouds_touch_only_young(default_model, ssp):
    m = default_model
    p = m._cast(dict(default_spec().sample(jax.random.PRNGKey(1))))
    wave, flux = jnp.asarray(ssp.ssp_wave), jnp.asarray(ssp.ssp_flux)
    n = ssp.ssp_lg_age_gyr.size
    young = jnp.zeros(n).at[5].set(1.0)
    old = jnp.zeros(n).at[200].set(1.0)
    zero = jnp.zeros(n)
    p0 = dict(p, dust_tau_diff=0.0, dust_tau_bc=0.0)
    # tau = 0: the dust-free sum
    ref = m._rest_lnu_native(p0, young, old, flux, wave)
    direct = m._rest_lnu_native(dict(p0, met_logzsol=p["met_logzsol"]), young, old, flux, wave)
    np.testing.assert_allclose(np.asarray(ref), np.asarray(direct))
    # birth clouds: old-only spectrum ignores tau_bc; young-only spectrum dims
    pa = dict(p0, dust_tau_bc=1.5)
    np.testing.assert_array_equal(
        np.asarray(m._rest_lnu_native(pa, zero, old, flux, wave)),
        np.asarray(m._rest_lnu_native(p0, zero, old, flux, wave)),
    )
    dimmed = np.asarray(m._rest_lnu_native(pa, young, zero, flux, wave))
    clear = np.asarray(m._rest_lnu_native(p0, young, zero, flux, wave))
    i5500 = np.searchsorted(ssp.ssp_wave, 5500.0)
    np.testing.assert_allclose(dimmed[i5500] / clear[i5500], np.exp(-1.5), rtol=1e-3)


def test_continuity_across_birth_cloud_age(ssp):
    """A constant SFH whose duration crosses 10 Myr changes the photometry continuously."""
    spec = Parameters(
        "constant",
        sfh_log_mass_formed=Fixed(9.0),
        sfh_const_duration_gyr=Uniform(0.001, 1.0),
        met_logzsol=Fixed(0.0),
        dust_tau_diff=Fixed(0.3),
        dust_tau_bc=Fixed(1.0),
        redshift=Fixed(0.1),
    )
    m = SEDModel(spec, ssp, DEFAULT_BANDS)
    f = jax.jit(lambda d: m.predict_photometry(spec.with_fixed({"sfh_const_duration_gyr": d}), mode="exact"))
    eps = 1e-7
    lo, hi = np.asarray(f(0.01 - eps)), np.asarray(f(0.01 + eps))
    np.testing.assert_allclose(lo, hi, rtol=1e-4)


def test_fast_matches_exact_over_1000_prior_draws(default_model):
    m = default_model
    spec = m.spec
    draws = spec.sample_batch(jax.random.PRNGKey(7), 1000)
    fast = jax.jit(jax.vmap(lambda p: m.predict_photometry(p, mode="fast")))(draws)
    exact = jax.jit(lambda d: jax.lax.map(lambda p: m.predict_photometry(p, mode="exact"), d, batch_size=10))(draws)
    dmag = np.abs(np.asarray(maggies_to_abmag(fast) - maggies_to_abmag(exact)))
    assert np.all(np.isfinite(dmag))
    assert dmag.max() <= 1e-3, dmag.max()


def test_grads_finite_over_1000_prior_draws_and_jit_vmap_grad(default_model):
    m = default_model
    spec = m.spec
    truth = spec.sample(jax.random.PRNGKey(42))
    obs = m.predict_photometry(truth)
    err = 0.1 * obs

    def loglike(u):
        p, _ = spec.from_unconstrained(u)
        return -0.5 * jnp.sum(((m.predict_photometry(p) - obs) / err) ** 2)

    draws = spec.sample_batch(jax.random.PRNGKey(8), 1000)
    u = jax.vmap(spec.to_unconstrained)({k: draws[k] for k in spec.free_params})
    g = jax.jit(jax.vmap(jax.grad(loglike)))(u)
    assert g.shape == (1000, spec.n_free)
    assert np.all(np.isfinite(np.asarray(g)))
    # gradient agrees with a central finite difference at one point
    u0 = u[0]
    g0 = np.asarray(jax.grad(loglike)(u0))
    h = 1e-6
    for i in range(spec.n_free):
        e = jnp.zeros_like(u0).at[i].set(h)
        fd = (loglike(u0 + e) - loglike(u0 - e)) / (2 * h)
        np.testing.assert_allclose(g0[i], float(fd), rtol=1e-4, atol=1e-6)


def test_float32_close_to_float64(ssp):
    spec = default_spec()
    m64 = SEDModel(spec, ssp, DEFAULT_BANDS)
    m32 = SEDModel(spec, ssp, DEFAULT_BANDS, dtype="float32")
    p = spec.sample(jax.random.PRNGKey(5))
    f64 = m64.predict_photometry(p)
    f32 = m32.predict_photometry(p)
    assert f32.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(f32), np.asarray(f64), rtol=1e-4)


def test_astype_is_the_same_model_at_the_new_precision(default_model):
    m64 = default_model
    m32 = m64.astype("float32")
    assert m64.astype("float64") is m64 and m32.dtype == jnp.float32 and m64.dtype == jnp.float64
    assert m32.own_tables.young_band_flux.dtype == jnp.float32
    draws = m64.spec.sample_batch(jax.random.PRNGKey(6), 20)
    f64 = np.asarray(jax.vmap(m64.predict_photometry)(draws))
    for mode in ("fast", "exact"):
        f32 = jax.vmap(lambda p: m32.predict_photometry(p, mode=mode))(draws)
        assert f32.dtype == jnp.float32
        ref = f64 if mode == "fast" else np.asarray(jax.vmap(lambda p: m64.predict_photometry(p, mode="exact"))(draws))
        np.testing.assert_allclose(np.asarray(f32), ref, rtol=2e-5)
    # tables at another redshift are built at the new precision; the original is untouched
    z = m64.fixed_redshift * 1.1
    t32, t64 = m32.tables_for(z), m64.tables_for(z)
    assert t32.old_band_flux.dtype == jnp.float32 and t64.old_band_flux.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(t32.old_band_flux), np.asarray(t64.old_band_flux), rtol=2e-5, atol=0)
    np.testing.assert_array_equal(np.asarray(jax.vmap(m64.predict_photometry)(draws)), f64)
    with pytest.raises(ValueError, match="float64' or 'float32"):
        m64.astype("float16")


def test_derived_quantities(default_model):
    m = default_model
    spec = Parameters(
        "constant",
        sfh_log_mass_formed=Fixed(10.0),
        sfh_const_duration_gyr=Fixed(0.5),
        met_logzsol=Fixed(0.0),
        redshift=Fixed(0.1),
    )
    mc = SEDModel(spec, m.ssp, DEFAULT_BANDS)
    d = mc.derived(spec.sample(jax.random.PRNGKey(0)))
    assert abs(float(d["log_mass_formed"]) - 10.0) < 1e-10
    # constant SFR = 1e10 Msun / 0.5 Gyr = 20 Msun/yr, over both windows
    np.testing.assert_allclose(float(d["sfr_100myr"]), 20.0, rtol=1e-8)
    np.testing.assert_allclose(float(d["sfr_10myr"]), 20.0, rtol=1e-8)
    assert 0 < float(d["log_mass_surviving"]) < 10.0
    assert 0.1 < float(d["mass_weighted_age_gyr"]) < 0.5


def test_both_normalisations_is_an_error():
    with pytest.raises(ValueError, match="exactly one normalisation"):
        default_spec(sfh_log_mass_formed=Uniform(8, 12))


def test_unknown_parameter_suggests_close_name():
    with pytest.raises(ValueError, match="sfh_dpl_tau_gyr"):
        default_spec(sfh_dpl_tau_gy=Uniform(0.1, 10))
