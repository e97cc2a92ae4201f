"""The fast photometry's custom JVP against JAX's own derivative of the plain contraction."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sedjax.model.fast_photometry import _flux, band_flux

N_MET, B, K, N_Y, N_O = 3, 4, 5, 6, 9


def _inputs(seed):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0, 1, N_MET)
    return (jnp.asarray(rng.uniform(0, 2, N_Y)), jnp.asarray(rng.uniform(0, 2, N_O)), jnp.asarray(w / w.sum()),
            jnp.asarray(rng.uniform(0.2, 1, (B, K))), jnp.asarray(rng.uniform(0.2, 1, (B, K))),
            jnp.asarray(rng.uniform(0, 1, (N_Y, N_MET * B * K))), jnp.asarray(rng.uniform(0, 1, (N_O, N_MET * B * K))))


def _parametrised(fn, args, theta, with_tables):
    """Every input moved by its own smooth function of theta (3,), the tables only if asked."""
    my, mo, w, ty, to, tab_y, tab_o = args
    a, b, c = theta
    my2 = my * jnp.exp(a * jnp.arange(N_Y) / N_Y) * (1 + b)
    mo2 = mo * jnp.exp(-a) + b * jnp.linspace(0, 1, N_O)
    w2 = w * jnp.exp(c * jnp.arange(N_MET))
    ty2, to2 = ty * jnp.exp(-c * ty), to * jnp.exp(-(a + c) * to)
    if with_tables:
        tab_y, tab_o = tab_y * (1 + c * tab_y), tab_o * jnp.exp(b * tab_o)
    return fn(my2, mo2, w2 / w2.sum(), ty2, to2, tab_y, tab_o)


@pytest.mark.parametrize("with_tables", [False, True])
def test_band_flux_jvp_matches_autodiff_of_the_contraction(with_tables):
    args = _inputs(3)
    theta = jnp.asarray([0.3, -0.2, 0.5])
    ours = lambda th: _parametrised(band_flux, args, th, with_tables)  # noqa: E731
    plain = lambda th: _parametrised(_flux, args, th, with_tables)  # noqa: E731
    np.testing.assert_allclose(np.asarray(ours(theta)), np.asarray(plain(theta)), rtol=1e-13)
    ref = np.asarray(jax.jacfwd(plain)(theta))
    assert np.all(np.abs(ref) > 1e-3)  # every direction moves every band
    np.testing.assert_allclose(np.asarray(jax.jacfwd(ours)(theta)), ref, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.jacrev(ours)(theta)), ref, rtol=1e-12)
    hess = lambda f: np.asarray(jax.hessian(lambda th: jnp.sum(f(th) ** 2))(theta))  # noqa: E731
    np.testing.assert_allclose(hess(ours), hess(plain), rtol=1e-10)


def test_band_flux_under_vmap_and_grad_of_one_input():
    args = _inputs(4)
    batch = jax.tree.map(lambda x: jnp.stack([x, 1.1 * x]), args)
    out = jax.vmap(jax.jacfwd(band_flux, argnums=0))(*batch)
    ref = jax.vmap(jax.jacfwd(_flux, argnums=0))(*batch)
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-12)
