"""Physics kernels against independent references: astropy, scipy quadrature, analytic cases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from sedjax.physics import cosmology, dust, igm, sfh

AGE_LG = np.log10(np.geomspace(1e-4, 20.0, 220))


def test_cosmology_matches_astropy():
    from astropy.cosmology import FlatLambdaCDM

    ref = FlatLambdaCDM(H0=67.66, Om0=0.30966, Tcmb0=0)
    z = np.array([0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 4.0, 7.0, 10.0])
    np.testing.assert_allclose(np.asarray(cosmology.luminosity_distance_mpc(jnp.asarray(z))), ref.luminosity_distance(z).value, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(cosmology.age_of_universe_gyr(jnp.asarray(z))), ref.age(z).value, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(cosmology.lookback_time_gyr(jnp.asarray(z))), ref.lookback_time(z).value, rtol=1e-5)
    g = jax.grad(cosmology.luminosity_distance_mpc)(0.5)
    fd = (ref.luminosity_distance(0.5 + 1e-5).value - ref.luminosity_distance(0.5 - 1e-5).value) / 2e-5
    np.testing.assert_allclose(float(g), fd, rtol=1e-5)
    assert np.isfinite(float(jax.grad(cosmology.luminosity_distance_mpc)(0.0)))


def _quad_mass(sfr, edges, t_obs):
    out = []
    for a_lo, a_hi in zip(edges[:-1], edges[1:]):
        t_lo, t_hi = max(t_obs - a_hi, 0.0), max(t_obs - a_lo, 0.0)
        out.append(quad(sfr, t_lo, t_hi, limit=200, epsabs=0, epsrel=1e-10)[0] * 1e9 if t_hi > t_lo else 0.0)
    return np.array(out)


@pytest.mark.parametrize("seed", range(8))
def test_dpl_mass_per_bin_matches_quad(seed):
    """Per-bin mass vs adaptive quadrature, with and without the cheap rule on young bins."""
    rng = np.random.default_rng(seed)
    tau, alpha, beta = rng.uniform(0.1, 10), rng.uniform(1, 10), rng.uniform(1, 10)
    t_obs = rng.uniform(1, 13.7)
    edges = sfh.age_bin_edges_gyr(AGE_LG)
    # as the model does: intervals ending below min(0.5 Gyr, 0.3 t_obs) are "narrow"
    n_narrow = int(np.sum(edges[1:] <= min(0.5, 0.3 * t_obs))) if seed % 2 else 0
    ours = np.asarray(sfh.dpl_mass_in_age_intervals(jnp.asarray(edges), t_obs, tau, alpha, beta, n_narrow=n_narrow))
    ref = _quad_mass(lambda t: 1.0 / ((t / tau) ** alpha + (t / tau) ** -beta) if t > 0 else 0.0, edges, t_obs)
    big = ref > 1e-4 * ref.sum()
    np.testing.assert_allclose(ours[big], ref[big], rtol=1e-4)
    np.testing.assert_allclose(ours.sum(), ref.sum(), rtol=1e-4)
    assert np.all(ours[edges[:-1] > t_obs] == 0)


@pytest.mark.parametrize("seed", range(6))
def test_dpl_mass_jacobian_matches_finite_differences_of_quad(seed):
    """The custom JVP (quadrature of the analytic ∂SFR/∂θ plus boundary terms) against
    central differences of adaptive quadrature, in (t_obs, τ, α, β) and in one age edge;
    forward and reverse mode agree, and second derivatives are finite."""
    rng = np.random.default_rng(100 + seed)
    th0 = np.array([rng.uniform(1, 13.7), rng.uniform(0.1, 10), rng.uniform(1, 10), rng.uniform(1, 10)])
    edges0 = sfh.age_bin_edges_gyr(AGE_LG)
    n_narrow = int(np.sum(edges0[1:] <= min(0.5, 0.3 * th0[0]))) if seed % 2 else 0
    k_edge = int(np.searchsorted(edges0, 0.5 * th0[0]))  # an edge well inside the history

    def ours(th, shift=0.0):
        edges = jnp.asarray(edges0).at[k_edge].add(shift)
        return sfh.dpl_mass_in_age_intervals(edges, th[0], th[1], th[2], th[3], n_narrow=n_narrow)

    def ref(th, shift=0.0):
        t_obs, tau, a, b = th
        edges = edges0.copy()
        edges[k_edge] += shift
        return _quad_mass(lambda t: 1.0 / ((t / tau) ** a + (t / tau) ** -b) if t > 0 else 0.0, edges, t_obs)

    jac = np.asarray(jax.jacfwd(ours)(jnp.asarray(th0)))
    np.testing.assert_allclose(np.asarray(jax.jacrev(ours)(jnp.asarray(th0))), jac, rtol=1e-10, atol=0)
    total = ref(th0).sum()
    for k in range(4):
        h = 1e-4 * th0[k]
        e = np.zeros(4)
        e[k] = h
        fd = (ref(th0 + e) - ref(th0 - e)) / (2 * h)
        np.testing.assert_allclose(jac[:, k], fd, rtol=1e-5, atol=1e-7 * total / th0[k])
    d_edge = np.asarray(jax.jacfwd(lambda x: ours(jnp.asarray(th0), x))(0.0))
    h = 1e-4 * (edges0[k_edge + 1] - edges0[k_edge])
    fd = (ref(th0, h) - ref(th0, -h)) / (2 * h)
    np.testing.assert_allclose(d_edge, fd, rtol=1e-5, atol=1e-7 * total)
    hess = jax.hessian(lambda th: jnp.log(jnp.sum(ours(th))))(jnp.asarray(th0))
    assert np.all(np.isfinite(np.asarray(hess)))


def test_delayed_tau_and_constant_analytic_vs_quad():
    edges = sfh.age_bin_edges_gyr(AGE_LG)
    t_obs, tau, ts = 12.0, 2.0, 1.5
    ours = np.asarray(sfh.delayed_tau_mass_in_age_intervals(jnp.asarray(edges), t_obs, tau, ts))
    ref = _quad_mass(lambda t: (t - ts) * np.exp(-(t - ts) / tau) if t > ts else 0.0, edges, t_obs)
    big = ref > 1e-8 * ref.sum()
    np.testing.assert_allclose(ours[big], ref[big], rtol=1e-6)
    const = np.asarray(sfh.constant_mass_in_age_intervals(jnp.asarray(edges), t_obs, 0.3))
    np.testing.assert_allclose(const.sum(), 0.3e9, rtol=1e-12)  # integrates to its mass formed


def test_sfh_grads_finite_over_random_parameters():
    edges = jnp.asarray(sfh.age_bin_edges_gyr(AGE_LG))
    f = lambda th: jnp.log(jnp.sum(sfh.dpl_mass_in_age_intervals(edges, th[0], th[1], th[2], th[3])))
    th = jnp.stack([
        jnp.linspace(1.0, 13.7, 50), jnp.geomspace(0.1, 10, 50),
        jnp.geomspace(0.5, 500, 50), jnp.geomspace(500, 0.5, 50)], axis=1)
    g = jax.vmap(jax.grad(f))(th)
    assert np.all(np.isfinite(np.asarray(g)))


def test_dust_identities_and_calzetti_values():
    wave = jnp.geomspace(1000, 30000, 200)
    young, old = dust.cf00_transmission(wave, 0.0, 0.0, -0.7)
    np.testing.assert_array_equal(np.asarray(young), 1.0)
    young, old = dust.cf00_transmission(wave, 0.4, 0.8, -0.7)
    np.testing.assert_allclose(np.asarray(young / old), np.exp(-0.8 * (np.asarray(wave) / 5500) ** -0.7), rtol=1e-12)
    # Calzetti et al. (2000): k(5500 Å) ≈ R_V = 4.05; k(1500 Å) ≈ 10.3 (their eq. 4)
    np.testing.assert_allclose(float(dust.calzetti_k(5500.0)), 4.05, rtol=2e-3)
    np.testing.assert_allclose(float(dust.calzetti_k(1500.0)), 10.33, rtol=1e-2)
    assert float(dust.calzetti_k(1000.0)) > float(dust.calzetti_k(1200.0))
    assert float(dust.calzetti_k(50000.0)) == 0.0


def test_igm_madau():
    z = 3.0
    wave = jnp.linspace(3000, 6000, 500)
    t = np.asarray(igm.igm_transmission(wave, z))
    assert np.all((t >= 0) & (t <= 1))
    assert np.all(t[np.asarray(wave) > 1215.67 * (1 + z)] == 1.0)
    # Madau (1995) Lyα-forest decrement D_A at z = 3 is ≈ 0.3-0.4: mean transmission 1050–1170 Å rest
    band = (np.asarray(wave) > 1050 * (1 + z)) & (np.asarray(wave) < 1170 * (1 + z))
    assert 0.55 < t[band].mean() < 0.8
    assert float(igm.igm_transmission(jnp.asarray([1000.0 * 4.5]), 3.5)[0]) < float(igm.igm_transmission(jnp.asarray([1000.0 * 3.5]), 2.5)[0])


def test_jax_exact_matches_numpy_reference(default_model):
    from sedjax.model.reference import reference_photometry

    m = default_model
    draws = m.spec.sample_batch(jax.random.PRNGKey(11), 20)
    f = jax.jit(lambda p: m.predict_photometry(p, mode="exact"))
    for i in range(20):
        p = {k: v[i] for k, v in draws.items()}
        np.testing.assert_allclose(np.asarray(f(p)), reference_photometry(m, p), rtol=1e-8)
