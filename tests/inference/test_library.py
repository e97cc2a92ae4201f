"""The prior library's best-k selection against a full sort."""

import jax.numpy as jnp
import numpy as np
import pytest

from sedjax.inference.library import library_starts, smallest_k
from sedjax import Uniform


@pytest.mark.parametrize("n,k", [(10_000, 6), (9_973, 4), (30, 6), (5, 5), (101, 1)])
def test_smallest_k_is_a_full_sort_prefix(n, k):
    rng = np.random.default_rng(n + k)
    values = rng.normal(size=n)
    values[rng.integers(0, n, size=n // 10)] = np.finfo(float).max  # non-finite, as the caller maps them
    got = np.asarray(smallest_k(jnp.asarray(values), k))
    np.testing.assert_array_equal(got, np.argsort(values, kind="stable")[:k])


def test_smallest_k_keeps_the_best_entries_clustered_in_one_row():
    # the k best all in one row of the sqrt(n) layout: every other row's minimum is larger
    values = np.linspace(1.0, 2.0, 400)
    values[[37, 38, 39, 22]] = [-4.0, -3.0, -2.0, -1.0]
    np.testing.assert_array_equal(np.asarray(smallest_k(jnp.asarray(values), 4)), [37, 38, 39, 22])


def test_library_starts_are_the_best_chi2_entries_of_a_large_library():
    rng = np.random.default_rng(1)
    n, n_band = 2_000, 6
    flux = rng.uniform(0.2, 3.0, size=(n, n_band))
    norm = rng.uniform(-1.0, 2.0, size=n)
    lib = {"u": rng.normal(size=(n, 3)), "flux": flux, "norm": norm}
    f_obs = flux[123] * 3.0 * (1 + 0.01 * rng.normal(size=n_band))
    err = np.full(n_band, 0.05)
    data = {"flux": jnp.asarray(f_obs), "flux_err": jnp.asarray(err), "mask": jnp.ones(n_band)}
    prior = Uniform(-3.0, 4.0)
    starts = np.asarray(library_starts(lib, data, 5, norm_index=1, norm_prior=prior))
    # brute force: per entry the best amplitude, its chi2, the 5 lowest
    w = 1 / err**2
    amp = (flux @ (w * f_obs)) / ((flux**2) @ w)
    chi2 = ((f_obs - amp[:, None] * flux) ** 2) @ w
    best = np.argsort(chi2)[:5]
    assert best[0] == 123
    np.testing.assert_allclose(starts[:, [0, 2]], lib["u"][best][:, [0, 2]])
    x = norm[best] + np.log10(amp[best])
    np.testing.assert_allclose(starts[:, 1], np.asarray(prior.to_unconstrained(jnp.asarray(x))), rtol=1e-9)


def test_library_ranking_is_scale_free_down_to_tiny_fluxes():
    # the float32 ranking works on fluxes divided by the library's largest: fluxes of 1e-18
    # with errors of 1e-20 (w = 1/e^2 ~ 1e39, beyond float32) give the same starts as O(1) ones
    rng = np.random.default_rng(2)
    n, n_band = 3_000, 5
    flux = rng.uniform(0.2, 3.0, size=(n, n_band))
    norm = rng.uniform(-1.0, 2.0, size=n)
    u = rng.normal(size=(n, 3))
    f_obs = flux[77] * 2.0 * (1 + 0.02 * rng.normal(size=n_band))
    err = np.full(n_band, 0.02)
    prior = Uniform(-3.0, 4.0)
    got = []
    for s in (1.0, 1e-18):
        lib = {"u": u, "flux": flux * s, "norm": norm}
        data = {"flux": jnp.asarray(f_obs * s), "flux_err": jnp.asarray(err * s), "mask": jnp.ones(n_band)}
        got.append(np.asarray(library_starts(lib, data, 4, norm_index=1, norm_prior=prior)))
    np.testing.assert_allclose(got[1], got[0], rtol=1e-9)
    np.testing.assert_allclose(got[0][0, [0, 2]], u[77, [0, 2]])


def test_prior_library_is_the_same_inside_a_backends_trace_and_observes_its_draws(default_model):
    """A backend first asks for the library while it is being traced: the library built there
    (concrete, not staged) equals the one built at top level, and its entries are the model's
    own photometry of the prior draws (by key), also through the per-redshift path."""
    import jax

    from sedjax.inference.library import build_prior_library

    model = default_model
    lib = build_prior_library(model, 300, seed=4)
    seen = {}

    def traced(x):
        seen["lib"] = build_prior_library(model, 300, seed=4)
        return x + 1.0

    jax.jit(traced)(1.0)
    for k in ("u", "flux", "norm"):
        assert isinstance(seen["lib"][k], np.ndarray)
        np.testing.assert_array_equal(seen["lib"][k], lib[k])
    draws = model.spec.sample_batch(jax.random.PRNGKey(4), 300)
    for i in (0, 7, 299):
        p = {n: v[i] for n, v in draws.items()}
        np.testing.assert_allclose(lib["flux"][i], np.asarray(model.predict_photometry(p, mode="fast")), rtol=1e-10)
        np.testing.assert_allclose(lib["u"][i], np.asarray(model.spec.to_unconstrained(p)), rtol=1e-12)
    at_z = build_prior_library(model, 300, seed=4, redshifts=[model.fixed_redshift])
    np.testing.assert_allclose(at_z["flux"][0], lib["flux"], rtol=1e-10)
