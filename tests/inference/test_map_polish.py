"""LM on a posterior with a kink: the frozen coordinate, the metallicity's kinks, polishing.

The SED model interpolates the spectrum linearly in log Z between the SSP grid's
metallicities, so the log posterior's derivative in ``met_logzsol`` jumps at each grid
metallicity; a mode often sits on one, where LM's quadratic model fails across it.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from sedjax.inference import MAPOpts, run_map
from sedjax.inference.backends import Kinks
from sedjax.inference.backends.lm import lm_minimize
from sedjax.inference.posterior import make_data, make_target, metallicity_kinks

NODE = 0.3  # the toy's kink in u[1]


def _kinked(u, data):
    """Residuals with a V-shaped valley along u[1] = NODE (the optimum sits on it)."""
    v = u[1] - NODE
    r = jnp.stack([4 * jnp.abs(v) + u[0] + 0.3 * u[0] ** 2, u[0] - 1 - 0.5 * v + 0.2 * jnp.sin(3 * u[0]),
                   0.5 * (u[0] - 0.2) * v + 0.3 * u[0]])
    return r, 0.0


def _flat(u, data):
    return 0.0 * u[0]


def _logp(u, data):
    r, c = _kinked(u, data)
    return -0.5 * r @ r + c


def _loss_on_the_kink():
    """min over u0 of F(u0, NODE), by scipy (not LM)."""
    f = lambda x: float(-_logp(jnp.asarray([x, NODE]), {}))  # noqa: E731
    return minimize_scalar(f, bounds=(-3, 3), method="bounded", options={"xatol": 1e-10}).fun


def test_lm_stalls_on_a_kink_and_solves_it_with_the_coordinate_frozen():
    best = _loss_on_the_kink()
    # the kink is the optimum: F rises on both sides of it, at the best u0
    u0_best = minimize_scalar(lambda x: float(-_logp(jnp.asarray([x, NODE]), {})), bounds=(-3, 3), method="bounded").x
    for dv in (-1e-3, 1e-3):
        assert float(-_logp(jnp.asarray([u0_best, NODE + dv]), {})) > best
    for start in ([2.0, 1.5], [-1.0, -0.8]):
        free = lm_minimize(jnp.asarray(start), {}, _logp, _kinked, _flat, n_steps=40)
        assert float(free[1]) > best + 1e-3  # stalls beside the valley's floor, its gradient large
        on = lm_minimize(free[0].at[1].set(NODE), {}, _logp, _kinked, _flat, n_steps=40, frozen=1)
        assert float(on[0][1]) == NODE  # exactly: the frozen coordinate never moves
        np.testing.assert_allclose(float(on[1]), best, rtol=1e-7)
        assert float(on[2]) < 1e-8  # the gradient over the free coordinates


def test_a_frozen_coordinate_is_the_problem_without_it():
    """frozen=j takes the same steps as LM on the other coordinates with u[j] fixed; also with
    a profiled amplitude whose Jacobian skips the frozen column, and with secant steps."""
    t = jnp.linspace(0.0, 4.0, 12)
    y = 3.0 * jnp.exp(-0.7 * t) + 0.4 * t
    c_fixed = 0.25

    def res3(u, data):  # u = (ln A, b, c): A exp(-b t) + c t
        return (y - jnp.exp(u[0]) * jnp.exp(-u[1] * t) - u[2] * t) / 0.01, 0.0

    def res2(u, data):
        return res3(jnp.append(u, c_fixed), data)

    def logp3(u, data):
        r, c = res3(u, data)
        return -0.5 * r @ r + c

    def logp2(u, data):
        return logp3(jnp.append(u, c_fixed), data)

    amp3 = (0, lambda u: u[0], lambda d: (y - c_fixed * t) / 0.01)  # z for the frozen c only
    amp2 = (0, lambda u: u[0], lambda d: (y - c_fixed * t) / 0.01)
    u0 = jnp.asarray([np.log(50.0), 0.2, c_fixed])
    for kw in ({}, {"jacobian_every": 3}):
        three = lm_minimize(u0, {}, logp3, res3, _flat, n_steps=9, linear_amplitude=amp3, frozen=2, **kw)
        two = lm_minimize(u0[:2], {}, logp2, res2, _flat, n_steps=9, linear_amplitude=amp2, **kw)
        np.testing.assert_allclose(three[0][:2], two[0], rtol=1e-9, atol=1e-12)
        assert float(three[0][2]) == c_fixed
        np.testing.assert_allclose(float(three[1]), float(two[1]), rtol=1e-9)
        assert int(three[3]) == int(two[3])
    with pytest.raises(ValueError, match="profiled amplitude"):
        lm_minimize(u0, {}, logp3, res3, _flat, linear_amplitude=amp3, frozen=0)


def _init(key):
    return jnp.asarray([2.0, 1.5]) + 0.3 * jax.random.normal(key, (2,))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_polishing_snaps_the_best_start_to_its_kink(dtype):
    """lm_polish_steps with the target's Kinks: the best start, snapped to its nearest node and
    held there, reaches the optimum on the kink; without Kinks the same polish stalls."""
    from sedjax.inference import Target

    best = _loss_on_the_kink()
    kinks = Kinks(1, jnp.asarray([-1.0, NODE, 1.2]))
    opts = MAPOpts(n_starts=3, n_library_starts=0, lm_steps=10, lm_polish_steps=8, lm_dtype=dtype)
    twin = Target(_logp, _init, residual_fn=_kinked, logprior_fn=_flat)
    kw = dict(residual_fn=_kinked, logprior_fn=_flat, low_precision=twin)
    key = jax.random.PRNGKey(0)
    snapped = jax.device_get(run_map(key, _logp, {"x": jnp.zeros(1)}, _init, opts, kinks=kinks, **kw))
    plain = jax.device_get(run_map(key, _logp, {"x": jnp.zeros(1)}, _init, opts, **kw))
    np.testing.assert_allclose(snapped["loss"], best, rtol=1e-5 if dtype == "float32" else 1e-7)
    assert snapped["samples"][0, 1] == pytest.approx(NODE, abs=1e-6)
    assert float(plain["loss"]) > best + 5e-4  # 1.4e-3 measured
    # polishing only lowers: the polished start is the best, no other start changed
    unpolished = jax.device_get(run_map(key, _logp, {"x": jnp.zeros(1)}, _init,
                                        MAPOpts(**{**opts.__dict__, "lm_polish_steps": 0}), **kw))
    j = int(np.argmin(unpolished["losses"]))
    assert snapped["losses"][j] < unpolished["losses"][j]
    others = np.arange(3) != j
    np.testing.assert_allclose(snapped["losses"][others], unpolished["losses"][others], rtol=1e-12)
    with pytest.raises(ValueError, match="lm_polish"):
        MAPOpts(lm_polish_starts=0)


def test_the_metallicity_kinks_are_the_grid_metallicities_inside_the_prior(default_model):
    m = default_model
    kinks = metallicity_kinks(m)
    k = m.spec.free_params.index("met_logzsol")
    prior = m.spec.priors["met_logzsol"]
    lo, hi = float(prior.low), float(prior.high)
    zsun = np.log10(m.ssp.zsun)
    inside = [x - zsun for x in np.asarray(m.ssp.ssp_lgmet) if lo < x - zsun < hi]
    assert kinks.index == k and len(inside) >= 2
    expected = [np.log((x - lo) / (hi - x)) for x in inside]  # logit of the uniform prior's position
    np.testing.assert_allclose(np.asarray(kinks.nodes), expected, rtol=1e-10)
    # the log density's slope in the metallicity jumps at a node, and not between two
    p = m.spec.sample(jax.random.PRNGKey(5))
    flux = np.asarray(m.predict_photometry(p))
    data = make_data(m, flux * 1.05, 0.05 * flux)
    target = make_target(m, library_size=0)
    u = m.spec.to_unconstrained(p)
    h = 1e-5

    def slopes(at):
        f = [float(target.logdensity_fn(u.at[k].set(at + d), data)) for d in (-h, 0.0, h)]
        return (f[1] - f[0]) / h, (f[2] - f[1]) / h

    left, right = slopes(float(kinks.nodes[1]))
    assert abs(right - left) > 100 * h * (abs(left) + 1.0)
    mid = 0.5 * float(kinks.nodes[1] + kinks.nodes[2])
    left, right = slopes(mid)
    assert abs(right - left) < 1e-2 * (abs(left) + 1.0)
    assert target.kinks.index == k and target.low_precision.kinks is not None
