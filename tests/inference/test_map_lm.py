"""Levenberg–Marquardt MAP (the default optimiser) and its prior-library starts.

Against the reference: multi-start L-BFGS on the same real-model posteriors. The library's
amplitude solve is checked on a synthetic library with a known answer.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sedjax import Uniform
from sedjax.inference import MAPOpts, bind, run_map
from sedjax.inference.backends.lm import gauss_newton_precision, lm_minimize
from sedjax.inference.library import build_prior_library, library_starts
from sedjax.inference.posterior import gaussian_loglik, make_data, make_target


def _mock(model, seed, sys_frac=0.0):
    p = model.spec.sample(jax.random.PRNGKey(1000 + seed))
    f = np.asarray(model.predict_photometry(p))
    err = 0.05 * f
    noisy = f + err * np.random.default_rng(seed).normal(size=f.shape)
    return make_data(model, noisy, err)


def test_synthetic_library_start_solves_the_amplitude():
    prior = Uniform(-1.0, 2.5)
    rng = np.random.default_rng(0)
    flux = rng.uniform(0.5, 2.0, size=(5, 4))  # 5 entries, 4 bands, all shapes different
    norm = np.array([0.0, 0.3, 1.0, -0.5, 2.0])
    u = rng.normal(size=(5, 3))
    lib = {"u": u, "flux": flux, "norm": norm}
    # the galaxy is entry 3 scaled by 10**0.7 (norm -0.5 -> 0.2), with one band masked
    f_obs = flux[3] * 10**0.7
    f_obs[1] = 1e6  # masked: must not matter
    data = {"flux": jnp.asarray(f_obs), "flux_err": jnp.full(4, 0.01), "mask": jnp.array([1.0, 0.0, 1.0, 1.0])}
    starts = np.asarray(library_starts(lib, data, 2, norm_index=1, norm_prior=prior))
    assert starts.shape == (2, 3)
    np.testing.assert_allclose(starts[0, [0, 2]], u[3, [0, 2]])
    np.testing.assert_allclose(starts[0, 1], float(prior.to_unconstrained(0.2)), rtol=1e-10)
    # an amplitude beyond the prior is clipped into it (norm 2.0 + 1 -> just below 2.5)
    data_hi = dict(data, flux=jnp.asarray(flux[4] * 10.0), mask=jnp.ones(4))
    every = np.asarray(library_starts(lib, data_hi, 5, norm_index=1, norm_prior=prior))
    row = every[np.argmin(np.abs(every[:, 0] - u[4, 0]))]
    x = float(prior.from_unconstrained(jnp.asarray(row[1]))[0])
    assert 2.49 < x < 2.5


def test_real_library_and_residuals_match_the_model(default_model):
    m = default_model
    lib = build_prior_library(m, n_draws=20, seed=3)
    assert lib["u"].shape == (20, m.spec.n_free) and lib["flux"].shape == (20, len(m.bands))
    p, _ = m.spec.from_unconstrained(jnp.asarray(lib["u"][7]))
    np.testing.assert_allclose(lib["flux"][7], m.predict_photometry(p), rtol=1e-10)
    np.testing.assert_allclose(lib["norm"][7], p[m.spec.norm_param], rtol=1e-12)
    # -1/2 |r|^2 + c is the likelihood, also with a systematic floor
    data = _mock(m, 0)
    u = jnp.asarray(lib["u"][2])
    for s in (0.0, 0.1):
        t = make_target(m, sys_frac=s, library_size=0)
        assert t.start_fn is None
        r, c = t.residual_fn(u, data)
        pred = m.predict_photometry(m.spec.from_unconstrained(u)[0])
        ll = gaussian_loglik(pred, data["flux"], data["flux_err"], data["mask"], s)
        np.testing.assert_allclose(-0.5 * jnp.sum(r**2) + c, ll, rtol=1e-12)
        np.testing.assert_allclose(t.loglik_fn(u, data), ll, rtol=1e-12)


def test_redshift_library_observes_each_draw_at_the_galaxys_redshift(ssp):
    # galaxies at their own redshifts (z_range wider than the fixed z): the library holds the
    # same draws at nodes in ln(1+z), checked against direct calls, and a galaxy's starts come
    # from the node nearest its redshift
    from testlib import DEFAULT_BANDS, default_spec

    from sedjax import SEDModel
    from sedjax.inference.library import library_redshifts

    m = SEDModel(default_spec(), ssp, DEFAULT_BANDS, z_range=(0.05, 1.0))
    zs = library_redshifts(m)
    assert library_redshifts(SEDModel(default_spec(), ssp, DEFAULT_BANDS)) is None
    assert zs[0] == 0.05 and zs[-1] == 1.0 and 0.1 in zs and np.all(np.diff(np.log1p(zs)) <= 0.05 + 1e-12)
    lib = build_prior_library(m, n_draws=30, seed=3, redshifts=zs)
    fixed = build_prior_library(m, n_draws=30, seed=3)
    n = lib["u"].shape[0]
    assert lib["flux"].shape == (zs.size, n, len(m.bands)) and np.array_equal(lib["redshift"], zs)
    np.testing.assert_allclose(lib["flux"][list(zs).index(0.1)], fixed["flux"], rtol=1e-12)
    j = zs.size - 3
    p, _ = m.spec.from_unconstrained(jnp.asarray(lib["u"][7]))
    direct = m.predict_photometry(dict(p, redshift=zs[j]), tables=m.tables_for(zs[j]))
    np.testing.assert_allclose(lib["flux"][j, 7], direct, rtol=1e-10)
    # a galaxy that is entry 7 at node j, 10**shift brighter: its best start is entry 7 with
    # its normalisation moved by shift (at the fixed redshift's node it is not entry 7)
    z_gal = float(np.expm1(np.log1p(zs[j]) + 0.002))
    norm = m.spec.free_params.index(m.spec.norm_param)
    prior = m.spec.priors[m.spec.norm_param]
    shift = 0.5 if lib["norm"][7] < 0.5 * (prior.low + prior.high) else -0.5  # stay inside the prior
    for z, is_seven in ((z_gal, True), (0.1, False)):
        data = {"flux": jnp.asarray(lib["flux"][j, 7] * 10**shift), "flux_err": jnp.asarray(0.01 * lib["flux"][j, 7]),
                "mask": jnp.ones(len(m.bands)), "redshift": jnp.asarray(z)}
        start = np.asarray(library_starts(lib, data, 1, norm, prior))[0]
        assert np.allclose(np.delete(start, norm), np.delete(lib["u"][7], norm)) == is_seven
        if is_seven:
            x = float(prior.from_unconstrained(jnp.asarray(start[norm]))[0])
            np.testing.assert_allclose(x, lib["norm"][7] + shift, atol=1e-9)


def test_lm_generic_target_is_newton_and_gn_precision():
    # no residual_fn: damped Newton on the exact Hessian; a quadratic converges to the mode
    prec = jnp.array([[2.0, 0.5], [0.5, 1.0]])

    def logp(u, data):
        r = u - data["m"]
        return -0.5 * r @ prec @ r

    data = {"m": jnp.array([1.0, -3.0])}
    u, f, gnorm, n_acc = lm_minimize(jnp.array([10.0, 10.0]), data, logp, n_steps=10)
    np.testing.assert_allclose(u, data["m"], atol=1e-10)
    assert gnorm < 1e-8 and int(n_acc) >= 2
    np.testing.assert_allclose(gauss_newton_precision(u, data, logp), prec, atol=1e-12)
    with pytest.raises(ValueError, match="optimizer"):
        MAPOpts(optimizer="newton")


def test_geodesic_acceleration_follows_a_curved_valley():
    # Rosenbrock as least squares, r = (100 (y - x^2), 1 - x), flat prior: the valley
    # y = x^2 is the curved kind where plain LM crawls (Transtrum & Sethna 2012)
    def residuals(u, data):
        return jnp.array([100.0 * (u[1] - u[0] ** 2), 1.0 - u[0]]), 0.0

    def logprior(u, data):
        return 0.0 * u[0]

    def logp(u, data):
        r, c = residuals(u, data)
        return -0.5 * r @ r + c + logprior(u, data)

    u0 = jnp.array([-1.2, 1.0])
    plain = lm_minimize(u0, {}, logp, residuals, logprior, n_steps=40)
    bent = lm_minimize(u0, {}, logp, residuals, logprior, n_steps=40, geodesic=True)
    np.testing.assert_allclose(bent[0], [1.0, 1.0], atol=1e-6)
    assert float(bent[1]) < 1e-10 and float(plain[1]) > 0.1, (bent[1], plain[1])
    # without residuals (damped Newton) the option changes nothing
    newton = [lm_minimize(u0, {}, logp, n_steps=15, geodesic=g) for g in (False, True)]
    np.testing.assert_array_equal(newton[0][0], newton[1][0])


@pytest.mark.slow
def test_lm_matches_multistart_lbfgs_and_batch_equals_single(default_model):
    m = default_model
    target = make_target(m, library_size=2000)
    datas = [_mock(m, g) for g in range(3)]
    batch = jax.tree.map(lambda *x: jnp.stack(x), *datas)
    keys = jax.random.split(jax.random.PRNGKey(5), 3)
    lm_opts = MAPOpts(n_starts=2, n_library_starts=2)
    lm_b = jax.device_get(jax.jit(jax.vmap(bind("map", target, lm_opts)))(keys, batch))
    ref_opts = MAPOpts(optimizer="lbfgs", n_starts=10, n_library_starts=0)
    ref_b = jax.device_get(jax.jit(jax.vmap(bind("map", target, ref_opts)))(keys, batch))
    # the same log posterior as the reference's best of 10 L-BFGS starts (within 0.1)
    lp_lm, lp_ref = -lm_b["loss"], -ref_b["loss"]
    assert np.all(lp_lm > lp_ref - 0.1), (lp_lm, lp_ref)
    assert np.all(np.isfinite(lp_lm)) and lm_b["losses"].shape == (3, 4)
    # batched == per galaxy
    single = jax.jit(bind("map", target, lm_opts))
    for g in range(3):
        one = jax.device_get(single(keys[g], datas[g]))
        np.testing.assert_allclose(lm_b["samples"][g], one["samples"], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(lm_b["loss"][g], one["loss"], rtol=1e-10)
    # the library starts alone (no prior draws) also reach the mode here
    lib_only = jax.device_get(run_map(keys[0], target.logdensity_fn, datas[0], target.init_fn,
                                      MAPOpts(n_starts=0, n_library_starts=2), residual_fn=target.residual_fn,
                                      logprior_fn=target.logprior_fn, start_fn=target.start_fn))
    assert -lib_only["loss"] > lp_ref[0] - 0.1
    # geodesic acceleration: the same mode, batched == per galaxy
    geo_opts = MAPOpts(n_starts=2, n_library_starts=2, lm_geodesic=True, lm_steps=20)
    geo_b = jax.device_get(jax.jit(jax.vmap(bind("map", target, geo_opts)))(keys, batch))
    assert np.all(-geo_b["loss"] > lp_ref - 0.1), (-geo_b["loss"], lp_ref)
    one = jax.device_get(jax.jit(bind("map", target, geo_opts))(keys[1], datas[1]))
    np.testing.assert_allclose(geo_b["loss"][1], one["loss"], rtol=1e-10)
    # variable projection of the amplitude: the same mode from 12 steps, batched == per galaxy
    vp_opts = MAPOpts(n_starts=2, n_library_starts=2, lm_profile_amplitude=True, lm_steps=12)
    vp_b = jax.device_get(jax.jit(jax.vmap(bind("map", target, vp_opts)))(keys, batch))
    assert np.all(-vp_b["loss"] > lp_ref - 0.1), (-vp_b["loss"], lp_ref)
    one = jax.device_get(jax.jit(bind("map", target, vp_opts))(keys[2], datas[2]))
    np.testing.assert_allclose(vp_b["loss"][2], one["loss"], rtol=1e-10)
    # a full Jacobian every 3rd step, Broyden's secant between (bench_map's `secant` starts
    # and steps), profiled and plain: the same mode, batched == per galaxy
    for fields in ({"lm_profile_amplitude": True}, {}):
        sec_opts = MAPOpts(n_starts=4, n_library_starts=8, lm_screen_steps=2, lm_keep=3, lm_steps=20,
                           lm_jacobian_every=3, **fields)
        sec_b = jax.device_get(jax.jit(jax.vmap(bind("map", target, sec_opts)))(keys, batch))
        assert np.all(-sec_b["loss"] > lp_ref - 0.1), (fields, -sec_b["loss"], lp_ref)
        one = jax.device_get(jax.jit(bind("map", target, sec_opts))(keys[0], datas[0]))
        np.testing.assert_allclose(sec_b["loss"][0], one["loss"], rtol=1e-10)
    # the same iterations in float32 (the target's low_precision twin): the same mode, the
    # loss the float64 posterior's at the returned point, batched == per galaxy (to float32)
    f32_opts = dataclasses.replace(sec_opts, lm_profile_amplitude=True, lm_dtype="float32")
    f32_b = jax.device_get(jax.jit(jax.vmap(bind("map", target, f32_opts)))(keys, batch))
    assert f32_b["samples"].dtype == np.float64
    assert np.all(-f32_b["loss"] > lp_ref - 0.1), (-f32_b["loss"], lp_ref)
    for g in range(3):
        lp_at = target.logdensity_fn(jnp.asarray(f32_b["samples"][g, 0]), datas[g])
        np.testing.assert_allclose(-f32_b["loss"][g], lp_at, rtol=1e-12)
    one = jax.device_get(jax.jit(bind("map", target, f32_opts))(keys[1], datas[1]))
    np.testing.assert_allclose(f32_b["loss"][1], one["loss"], rtol=1e-4)


def test_sed_target_amplitude_profile_is_the_conditional_optimum(default_model):
    # the target's linear_amplitude claim, checked through its own log density: the
    # projection (lm_minimize with 0 steps) moves u_k only, its F is the target's -logp there,
    # and it did not lower logp; repeated, it finds the optimum (d logp / du_k = 0)
    m = default_model
    target = make_target(m, library_size=0)
    assert make_target(m, sys_frac=0.05, library_size=0).linear_amplitude is None
    k = target.linear_amplitude.index
    data = _mock(m, 3)
    u0 = target.init_fn(jax.random.PRNGKey(4))
    u, f, _, _ = lm_minimize(u0, data, target.logdensity_fn, target.residual_fn, target.logprior_fn,
                             n_steps=0, linear_amplitude=target.linear_amplitude)
    assert float(u[k]) != float(u0[k]) and np.all(np.asarray(u)[np.arange(len(u)) != k] == np.asarray(u0)[np.arange(len(u)) != k])
    np.testing.assert_allclose(-float(f), float(target.logdensity_fn(u, data)), rtol=1e-10)
    assert -float(f) >= float(target.logdensity_fn(u0, data))
    u2 = u  # repeated projections (3 Newton steps each) converge to the conditional optimum
    for _ in range(4):
        u2, _, _, _ = lm_minimize(u2, data, target.logdensity_fn, target.residual_fn, target.logprior_fn,
                                  n_steps=0, linear_amplitude=target.linear_amplitude)
    g_near = jax.grad(target.logdensity_fn)(u0, data)[k]
    g2 = jax.grad(target.logdensity_fn)(u2, data)[k]
    assert abs(float(g2)) < 1e-6 * max(1.0, abs(float(g_near))), (g2, g_near)


def test_sed_target_zero_amplitude_residuals_give_the_shape_only_jacobian(default_model):
    # the target's z (the residuals at A = 0): z - r(u) = -(dr/du_k) / (d ln A/du_k) on every
    # band, a masked one included; LM with the shape-only Jacobian (d - 1 tangents) then takes
    # the same steps as with the full one
    m = default_model
    target = make_target(m, library_size=0)
    k, log_amplitude_fn, zero_residual_fn = target.linear_amplitude
    p = m.spec.sample(jax.random.PRNGKey(7))
    f = np.asarray(m.predict_photometry(p))
    mask = np.ones(f.shape, bool)
    mask[2] = False
    data = make_data(m, f * (1 + 0.05 * np.random.default_rng(7).normal(size=f.shape)), 0.05 * f, mask=mask)
    full = target.linear_amplitude._replace(zero_residual_fn=None)
    for seed in range(3):
        u0 = target.init_fn(jax.random.PRNGKey(seed))
        r = target.residual_fn(u0, data)[0]
        jr = jax.jacfwd(lambda u: target.residual_fn(u, data)[0])(u0)
        q = -jr[:, k] / jax.grad(log_amplitude_fn)(u0)[k]
        np.testing.assert_allclose(zero_residual_fn(data) - r, q, rtol=1e-9, atol=1e-12 * float(jnp.max(jnp.abs(q))))
        assert float(zero_residual_fn(data)[2]) == 0.0 and float(jnp.max(jnp.abs(q))) > 0.0
        runs = [lm_minimize(u0, data, target.logdensity_fn, target.residual_fn, target.logprior_fn, n_steps=4,
                            linear_amplitude=la) for la in (target.linear_amplitude, full)]
        np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(float(runs[0][1]), float(runs[1][1]), rtol=1e-9)
        assert int(runs[0][3]) == int(runs[1][3])


def test_amplitude_projection_solves_a_separable_fit_in_fewer_steps():
    # y_i = A exp(-b t_i) with u = (ln A, b), flat prior: the residuals are affine in A, and
    # A and b are strongly correlated; with A profiled out the fit is a 1-d problem in b
    t = jnp.linspace(0.0, 4.0, 12)
    y = 3.0 * jnp.exp(-0.7 * t)

    def residuals(u, data):
        return (y - jnp.exp(u[0]) * jnp.exp(-u[1] * t)) / 0.01, 0.0

    def logprior(u, data):
        return 0.0 * u[0]

    def logp(u, data):
        r, c = residuals(u, data)
        return -0.5 * r @ r + c + logprior(u, data)

    u0 = jnp.array([np.log(1000.0), 0.01])  # amplitude off by 300x, decay rate by 70x
    amp = (0, lambda u: u[0])
    plain = lm_minimize(u0, {}, logp, residuals, logprior, n_steps=8)
    vp = lm_minimize(u0, {}, logp, residuals, logprior, n_steps=8, linear_amplitude=amp)
    np.testing.assert_allclose(vp[0], [np.log(3.0), 0.7], atol=1e-8)
    assert float(vp[1]) < 1e-12 and float(plain[1]) > 1.0, (vp[1], plain[1])
    # with the residuals at A = 0 given, the Jacobian is taken over b only: the same answer
    vp_z = lm_minimize(u0, {}, logp, residuals, logprior, n_steps=8, linear_amplitude=(0, lambda u: u[0], lambda d: y / 0.01))
    np.testing.assert_allclose(vp_z[0], vp[0], atol=1e-10)
    # a saturated amplitude transform (d ln A / du_k = 0) leaves the point as plain LM would
    la_sat = lambda u: 10.0 * jax.nn.sigmoid(u[0]) - 5.0  # noqa: E731

    def residuals_sat(u, data):
        return (y - jnp.exp(la_sat(u) - u[1] * t)) / 0.01, 0.0

    def logp_sat(u, data):
        r, c = residuals_sat(u, data)
        return -0.5 * r @ r + c

    far = jnp.array([800.0, 0.5])
    sat = [lm_minimize(far, {}, logp_sat, residuals_sat, logprior, n_steps=5, **kw)[1]
           for kw in ({}, {"linear_amplitude": (0, la_sat)})]
    assert np.isfinite(float(sat[1])) and float(sat[1]) == float(sat[0])
    # with geodesic acceleration as well
    both = lm_minimize(u0, {}, logp, residuals, logprior, n_steps=8, linear_amplitude=amp, geodesic=True)
    assert float(both[1]) < 1e-12


def test_secant_steps_are_exact_where_the_jacobian_is_constant():
    # Broyden's update leaves an exact Jacobian exact when the residuals are affine in the
    # step's coordinates, so LM with a full Jacobian only every 3 or 5 steps takes the same
    # steps as with one every step: plain (r affine in u), and with the amplitude profiled
    # (r = z - A B s: affine in the shape s at fixed A, the secant on rescaled residuals)
    rng = np.random.default_rng(3)
    b_mat = jnp.asarray(rng.normal(size=(9, 3)))
    y = jnp.asarray(rng.normal(size=9)) + 4.0

    def affine(u, data):
        return (y - b_mat @ u) / 0.1, 0.0

    def logprior(u, data):
        return -0.5 * jnp.sum(u**2) / 100.0

    def logp_of(res):
        return lambda u, data: -0.5 * jnp.sum(res(u, data)[0] ** 2) + logprior(u, data)

    u0 = jnp.array([3.0, -2.0, 1.0])
    ref = lm_minimize(u0, {}, logp_of(affine), affine, logprior, n_steps=6, lam0=10.0)
    for every in (3, 5):
        sec = lm_minimize(u0, {}, logp_of(affine), affine, logprior, n_steps=6, lam0=10.0, jacobian_every=every)
        np.testing.assert_allclose(sec[0], ref[0], rtol=1e-9)
        np.testing.assert_allclose(float(sec[1]), float(ref[1]), rtol=1e-10)

    def scaled(u, data):  # u = (ln A, s1, s2, s3)
        return (y - jnp.exp(u[0]) * (b_mat @ u[1:])) / 0.1, 0.0

    amp = (0, lambda u: u[0], lambda data: y / 0.1)
    u0 = jnp.array([np.log(0.2), 3.0, -2.0, 1.0])
    ref = lm_minimize(u0, {}, logp_of(scaled), scaled, logprior, n_steps=6, lam0=10.0, linear_amplitude=amp)
    for every in (3, 5):
        sec = lm_minimize(u0, {}, logp_of(scaled), scaled, logprior, n_steps=6, lam0=10.0, linear_amplitude=amp,
                          jacobian_every=every)
        np.testing.assert_allclose(sec[0], ref[0], rtol=1e-6)  # A and s nearly degenerate: roundoff grows
        np.testing.assert_allclose(float(sec[1]), float(ref[1]), rtol=1e-9)
    # where the Jacobian is not constant, the secant steps are not the full steps, and still
    # reach the separable fit's exact answer
    t = jnp.linspace(0.0, 4.0, 12)
    yd = 3.0 * jnp.exp(-0.7 * t)

    def decay(u, data):
        return (yd - jnp.exp(u[0]) * jnp.exp(-u[1] * t)) / 0.01, 0.0

    flat = lambda u, data: 0.0 * u[0]  # noqa: E731
    logp = lambda u, data: -0.5 * jnp.sum(decay(u, data)[0] ** 2)  # noqa: E731
    amp = (0, lambda u: u[0], lambda data: yd / 0.01)
    u0 = jnp.array([np.log(1000.0), 0.01])
    full = lm_minimize(u0, {}, logp, decay, flat, n_steps=3, linear_amplitude=amp)
    sec = lm_minimize(u0, {}, logp, decay, flat, n_steps=3, linear_amplitude=amp, jacobian_every=4)
    assert float(sec[1]) != float(full[1])
    sec = lm_minimize(u0, {}, logp, decay, flat, n_steps=16, linear_amplitude=amp, jacobian_every=4)
    np.testing.assert_allclose(sec[0], [np.log(3.0), 0.7], atol=1e-7)
    with pytest.raises(ValueError, match="zero_residual_fn"):
        lm_minimize(u0, {}, logp, decay, flat, n_steps=3, linear_amplitude=amp[:2], jacobian_every=2)
    with pytest.raises(ValueError, match="jacobian_every"):
        lm_minimize(u0, {}, logp, decay, flat, n_steps=3, jacobian_every=0)
    with pytest.raises(ValueError, match="lm_jacobian_every >= 1"):
        MAPOpts(lm_jacobian_every=0)


def test_secant_update_satisfies_the_secant_equation_also_for_a_rejected_step():
    # Broyden's update (lm._objective's at_secant): the Jacobian kept at the current point
    # (used when the step is rejected) and the trial's both map the step to the change of the
    # residuals; with the amplitude profiled, on the shape columns and the residuals rescaled
    # to the current amplitude, the amplitude's column staying exact
    from sedjax.inference.backends.lm import _objective

    t = jnp.linspace(0.0, 3.0, 10)
    y = 2.0 * (jnp.exp(-0.8 * t) + 0.1 * t**2)

    def res(u, data):  # u = (ln A, decay rate, curvature): not affine in u
        return (y - jnp.exp(u[0]) * (jnp.exp(-u[1] * t) + u[2] * t**2)) / 0.05, 0.0

    def prior(u, data):
        return -0.5 * jnp.sum(u**2) / 100.0

    def logp(u, data):
        return -0.5 * jnp.sum(res(u, data)[0] ** 2) + prior(u, data)

    u = jnp.array([0.3, 0.5, 0.3])
    step = jnp.array([0.2, 0.4, -0.25])
    at, at_secant = _objective(res, prior, logp, {})
    state = at(u)
    trial, here = at_secant(u + step, state)
    dr = res(u + step, {})[0] - state[4][1]
    np.testing.assert_allclose(here[4][0] @ step, dr, rtol=1e-10)
    np.testing.assert_allclose(trial[4][0], here[4][0], rtol=1e-12)
    np.testing.assert_array_equal(here[0], u)
    np.testing.assert_allclose(float(trial[1]), -float(logp(u + step, {})), rtol=1e-12)
    assert not np.allclose(here[4][0], state[4][0])  # the update changed the Jacobian

    z = y / 0.05
    at, at_secant = _objective(res, prior, logp, {}, (0, lambda v: v[0], lambda data: z))
    state = at(u)
    u_p, r_p, jr_p = state[0], state[4][1], state[4][0]
    trial, here = at_secant(u_p + step, state)
    scale = np.exp(float(step[0]))
    r_t = res(u_p + step, {})[0]
    shape = np.array([0.0, 1.0, 1.0])
    np.testing.assert_allclose(here[4][0] @ (step * shape), (r_t - z) / scale - (r_p - z), rtol=1e-10)
    np.testing.assert_allclose(here[4][0][:, 0], jr_p[:, 0], rtol=1e-12)
    jac = jax.jacfwd(lambda v: res(v, {})[0])(trial[0])
    np.testing.assert_allclose(trial[4][0][:, 0], jac[:, 0], rtol=1e-9)


def test_screened_lm_refines_only_the_best_starts():
    """lm_screen_steps / lm_keep: every start runs the screening steps, the lm_keep lowest run
    lm_steps more from where they stopped; the others keep their screened values."""
    from sedjax.inference.backends.map import run_map

    def logp(u, data):  # two wells, u0 = -2 (lower) and u0 = +2 (higher by 1), slow in u1
        return -((u[0] ** 2 - 4.0) ** 2) - 0.5 * (u[0] - 2.0) / 4.0 - 0.05 * u[1] ** 2

    def init_fn(key):
        return 3.0 * jax.random.normal(key, (2,))

    key = jax.random.PRNGKey(2)
    opts = MAPOpts(n_starts=6, n_library_starts=0, lm_screen_steps=2, lm_keep=2, lm_steps=25)
    out = jax.device_get(run_map(key, logp, {}, init_fn, opts))
    x0 = jax.device_get(out["start_positions"])
    screened = [lm_minimize(jnp.asarray(x), {}, logp, n_steps=2) for x in x0]
    f_screen = np.array([float(s[1]) for s in screened])
    kept = np.argsort(f_screen)[:2]
    for j in range(6):
        if j in kept:
            u2, f2, _, _ = lm_minimize(screened[j][0], {}, logp, n_steps=25)
            np.testing.assert_allclose(out["losses"][j], float(f2), rtol=1e-10)
            assert out["losses"][j] <= f_screen[j]
        else:
            np.testing.assert_allclose(out["losses"][j], f_screen[j], rtol=1e-10)
    assert out["loss"] == np.min(out["losses"]) and np.argmin(out["losses"]) in kept
    # every kept start ends at a well's bottom (gradient ~ 0)
    assert np.all(out["grad_norms"][kept] < 1e-6)
    with pytest.raises(ValueError, match="lm_keep"):
        MAPOpts(lm_screen_steps=3, lm_keep=0)


def test_float32_lm_runs_on_the_twin_and_reports_the_targets_loss():
    """lm_dtype="float32": the iterations use the target's low_precision twin on float32
    starts; the best point comes back in float64 with the target's own loss there."""
    from sedjax.inference import Target
    from sedjax.inference.backends.map import run_map

    def logp(u, data):
        return -0.5 * jnp.sum((u - jnp.asarray([1.0, -2.0], u.dtype)) ** 2 / jnp.asarray([0.3, 2.0], u.dtype) ** 2)

    def twin_logp(u, data):  # shifted: the mode shows which function LM iterated on
        return logp(u - jnp.asarray([0.0, 0.5], u.dtype), data)

    def init_fn(key):
        return jax.random.normal(key, (2,))

    key = jax.random.PRNGKey(4)
    opts = MAPOpts(n_starts=3, n_library_starts=0, lm_steps=20, lm_dtype="float32")
    out = jax.device_get(run_map(key, logp, {"x": jnp.zeros(2)}, init_fn, opts,
                                 low_precision=Target(twin_logp, init_fn)))
    assert out["samples"].dtype == np.float64 and out["loss"].dtype == np.float64
    np.testing.assert_allclose(out["samples"][0], [1.0, -1.5], atol=1e-5)
    np.testing.assert_allclose(out["loss"], -logp(jnp.asarray(out["samples"][0]), {}), rtol=1e-12)
    assert out["loss"] > 0.01  # the target's loss at the twin's mode, not the twin's (0)
    with pytest.raises(ValueError, match="low_precision"):
        run_map(key, logp, {}, init_fn, opts)
    with pytest.raises(ValueError, match="lm_dtype"):
        MAPOpts(lm_dtype="float16")
