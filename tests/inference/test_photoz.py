"""Photo-z: the free-redshift fast photometry, the library's profile starts, the mixture
proposal and the p(z) summaries."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from testlib import default_spec

from sedjax import Fixed, SEDModel, Uniform
from sedjax.inference.backends.mixture_is import distinct_modes, run_mixture_is
from sedjax.inference.backends.importance import ISOpts
from sedjax.inference.library import profile_minima, redshift_bins
from sedjax.inference.photoz import mode_regions, redshift_summary
from sedjax.model.table_grid import RedshiftTables, grid_nodes
from sedjax.ssp.grid import load_ssp

BANDS = ["sdss_g", "sdss_r", "sdss_i", "sdss_z"]


@pytest.fixture(scope="module")
def shape_fixed_model(ssp_path):
    spec = default_spec(redshift=Uniform(0.05, 1.0), sfh_dpl_tau_gyr=Fixed(3.0), sfh_dpl_alpha=Fixed(3.0),
                        sfh_dpl_beta=Fixed(3.0), met_logzsol=Fixed(-0.3), dust_tau_bc=Fixed(0.0),
                        dust_tau_diff=Fixed(0.3))
    return SEDModel(spec, load_ssp(ssp_path), BANDS)


def _fixed_values(spec):
    return {k: v.value for k, v in spec.priors.items() if isinstance(v, Fixed)}


def test_free_redshift_fast_photometry_matches_the_exact_mode_at_sampled_redshifts(ssp_path):
    spec = default_spec(redshift=Uniform(0.02, 0.6))
    model = SEDModel(spec, load_ssp(ssp_path), ["sdss_u", "sdss_g", "sdss_r", "sdss_i", "sdss_z", "twomass_Ks"])
    draws = spec.sample_batch(jax.random.PRNGKey(3), 200)
    fast = np.asarray(jax.jit(jax.vmap(lambda p: model.predict_photometry(p, mode="fast")))(draws))
    exact = np.asarray(jax.jit(jax.vmap(lambda p: model.predict_photometry(p, mode="exact")))(draws))
    dmag = np.abs(2.5 * np.log10(fast / exact))
    assert np.all(np.isfinite(dmag))
    assert np.max(dmag) <= 1.5e-3 and np.percentile(dmag, 99) <= 1e-3, (np.max(dmag), np.percentile(dmag, 99))
    # the grid passed as an argument gives the same photometry as the model's own
    grid = model.z_tables.grid()
    p0 = {k: v[0] for k, v in draws.items()}
    np.testing.assert_allclose(model.predict_photometry(p0, tables=grid), fast[0], rtol=1e-12)


def test_batched_node_build_equals_one_node_at_a_time_to_rounding(ssp_path):
    model = SEDModel(default_spec(redshift=Uniform(0.1, 0.2)), load_ssp(ssp_path), BANDS)
    grid = model.z_tables.grid()
    assert len(model.z_tables) == grid_nodes(0.1, 0.2, 0.005, 1500).size
    one = RedshiftTables(model, model.z_range, 0.005, max_nodes=1500)
    for i in (0, len(one) // 2, len(one) - 1):
        z, young, old, wave = one._tables(i)
        # (vmapped contractions round differently: equal to 1e-15)
        np.testing.assert_allclose(np.asarray(young), np.asarray(grid.young_band_flux[i]), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(old), np.asarray(grid.old_band_flux[i]), rtol=1e-12)


def test_ages_are_capped_at_the_age_of_the_universe_at_the_sampled_redshift(shape_fixed_model):
    """The mass formed at two sampled redshifts, in the ratio of the SFH integrated from the Big
    Bang to t_univ(z) by scipy's adaptive quadrature (the normalisation cancels)."""
    from scipy.integrate import quad

    from sedjax.physics import cosmology

    m = shape_fixed_model
    p = dict(_fixed_values(m.spec), sfh_dpl_log_peak_sfr=1.0)
    tau, a, b = 3.0, 3.0, 3.0

    def sfr(t):
        return 1.0 / ((t / tau) ** a + (t / tau) ** -b)

    mass, ref = [], []
    for z in (0.05, 0.9):
        young, old = m.mass_per_age_bin(dict(p, redshift=z))
        mass.append(float(np.sum(np.asarray(young + old))))
        ref.append(quad(sfr, 0.0, float(cosmology.age_of_universe_gyr(z)))[0])
    assert mass[1] < mass[0]
    np.testing.assert_allclose(mass[1] / mass[0], ref[1] / ref[0], rtol=2e-3)


def test_profile_starts_take_the_best_entry_of_each_local_minimum():
    z = np.linspace(0.05, 2.0, 400)
    zbin = redshift_bins(z, (0.05, 2.0))
    chi2 = (np.log1p(z) - np.log1p(0.3)) ** 2 * 400 + 0.0
    chi2 = np.minimum(chi2, (np.log1p(z) - np.log1p(1.5)) ** 2 * 400 + 3.0)  # a second, worse minimum
    idx = np.asarray(profile_minima(jnp.asarray(chi2, jnp.float32), jnp.asarray(zbin), 2))
    picked = z[idx]
    assert abs(np.log1p(picked[0]) - np.log1p(0.3)) < 0.05
    assert abs(np.log1p(picked[1]) - np.log1p(1.5)) < 0.05


def test_redshift_summary_finds_two_modes_and_the_best_modes_mass():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0.3, 0.02, 7000), rng.normal(1.2, 0.05, 3000)])
    s = redshift_summary(z, (0.01, 3.0))
    assert s["z_n_modes"] == 2
    assert abs(s["z_best_mode"] - 0.3) < 0.03
    assert abs(s["z_best_mode_prob"] - 0.7) < 0.02
    assert np.isclose(np.sum(s["pz"] * np.diff(np.expm1(np.linspace(np.log1p(0.01), np.log1p(3.0), 101)))), 1.0)
    one = redshift_summary(rng.normal(0.5, 0.03, 5000), (0.01, 3.0))
    assert one["z_n_modes"] == 1 and one["z_best_mode_prob"] == 1.0
    for n in (50, 200):  # few draws: histogram noise is not a mode
        assert redshift_summary(rng.normal(0.5, 0.1, n), (0.01, 3.0))["z_n_modes"] == 1
    assert mode_regions(np.zeros(10)) == []


def test_mixture_importance_sampling_recovers_both_modes_of_an_analytic_target():
    mus = jnp.asarray([[-4.0, 0.0], [5.0, 1.0]])
    w_true = jnp.asarray([0.3, 0.7])

    def logdensity(u, data):
        lp = jax.vmap(lambda m: -0.5 * jnp.sum((u - m) ** 2 / jnp.asarray([0.5, 2.0]) ** 2))(mus)
        return jax.scipy.special.logsumexp(lp + jnp.log(w_true))

    def modes_fn(key, data, map_opts):
        ends = jnp.concatenate([mus, mus[:1] + 1e-3])  # the third endpoint: a duplicate of the first
        cov = jnp.diag(jnp.asarray([0.25, 4.0]))
        sq = jnp.broadcast_to(jnp.linalg.cholesky(cov), (3, 2, 2))
        g = {"sqrt_cov": sq, "cov": jnp.broadcast_to(cov, (3, 2, 2)),
             "log_det_cov": jnp.full((3,), jnp.log(jnp.linalg.det(cov))), "hessian_posdef": jnp.ones(3, bool)}
        return ends, -jax.vmap(lambda u: logdensity(u, None))(ends), g

    idx, valid = distinct_modes(*modes_fn(None, None, None)[:1], jax.vmap(lambda u: logdensity(u, None))(
        modes_fn(None, None, None)[0]), modes_fn(None, None, None)[2]["sqrt_cov"],
        modes_fn(None, None, None)[2]["log_det_cov"], 3)
    assert int(np.sum(np.asarray(valid))) == 2
    out = run_mixture_is(jax.random.PRNGKey(0), logdensity, None, ISOpts(n_draws=1000, n_samples=4000),
                         modes_fn=modes_fn)
    assert int(out["n_modes"]) == 2 and bool(out["is_accepted"])
    frac_right = float(np.mean(np.asarray(out["samples"])[:, 0] > 0))
    assert abs(frac_right - 0.7) < 0.05
    assert abs(float(np.sum(out["mode_mass"])) - 1.0) < 1e-6


def test_free_redshift_batch_equals_single_and_reports_pz(ssp_path):
    """A catalogue chunk of free-redshift fits (the redshift grid an argument of the compiled
    programs) gives each galaxy's single fit, p(z) included."""
    from testlib import SMALL_OPTS

    from sedjax.fitting import fit, fit_batch

    spec = default_spec(redshift=Uniform(0.1, 0.3))
    model = SEDModel(spec, load_ssp(ssp_path), BANDS)
    draws = spec.sample_batch(jax.random.PRNGKey(5), 2)
    flux = np.asarray(jax.vmap(lambda p: model.predict_photometry(p, mode="exact"))(draws))
    cat = {"flux": flux, "flux_err": 0.05 * flux, "ids": np.arange(2)}
    opts = SMALL_OPTS["is"]
    res = fit_batch(model, cat, "is", seed=3, options=opts, chunk_size=2)
    assert res.diagnostics["pz"].shape == (2, 100) and res.diagnostics["z_n_modes"].shape == (2,)
    for i, r in enumerate(res.to_fit_results()):
        single = fit(model, {"flux": flux[i], "flux_err": 0.05 * flux[i]}, "is",
                     jax.random.fold_in(jax.random.PRNGKey(3), i), options=opts)
        np.testing.assert_allclose(r.samples["redshift"], single.samples["redshift"], rtol=1e-8)
        np.testing.assert_allclose(r.diagnostics["pz"], single.diagnostics["pz"])
        assert int(single.diagnostics["n_modes"]) >= 1


@pytest.mark.parametrize("backend", ["auto", "nuts"])
def test_free_redshift_fits_through_the_staged_and_gradient_backends(backend, ssp_path):
    """auto (the mixture stage, then HMC for a galaxy it rejects) and NUTS (gradients through
    the interpolated tables) at a free redshift: draws inside the prior, p(z) reported."""
    from testlib import SMALL_OPTS

    from sedjax.fitting import fit

    spec = default_spec(redshift=Uniform(0.1, 0.3))
    model = SEDModel(spec, load_ssp(ssp_path), BANDS)
    p = spec.sample(jax.random.PRNGKey(7))
    flux = np.asarray(model.predict_photometry(p, mode="exact"))
    r = fit(model, {"flux": flux, "flux_err": 0.05 * flux}, backend, jax.random.PRNGKey(0), options=SMALL_OPTS[backend])
    z = r.samples["redshift"]
    assert np.all(np.isfinite(z)) and np.all((z > 0.1) & (z < 0.3))
    assert r.diagnostics["pz"].shape == (100,) and int(r.diagnostics["z_n_modes"]) >= 1
    assert r.meta["redshift"] is None  # a free redshift: the data's is not used
