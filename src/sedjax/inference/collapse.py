"""The amplitude-collapsed posterior: the SFH normalisation integrated out exactly.

Every photometric band (stellar and nebular) is linear in the SFH normalisation: with
``x = spec.norm_param`` (a log10 amplitude: ``sfh_dpl_log_peak_sfr`` or
``sfh_log_mass_formed``) and the other free parameters θ (the "shape"),

    f̂_b(x, θ) = 10^x g_b(θ),     g_b = f̂_b(0, θ),

so one forward call gives the prediction at every amplitude. The collapsed target lives
in the shape's unconstrained space (the full ``u`` without the normalisation's coordinate):

    ln p_c(θ | data) = ln ∫ L(x, θ) π_x(x) dx  +  ln π(θ) + ln |dθ/du|

with π_x the normalisation's own (normalised) prior, so nested sampling's evidence is the
full model's. The integral is a ``n_nodes``-point Gauss–Legendre quadrature in x over a
window around the analytic optimum: Â = Σ w f g / Σ w g², σ_A = (Σ w g²)^-½ with
``w_b = m_b / (e_b² + (s f_b)²)``, the window ``[Â − kσ_A, Â + kσ_A]`` (k = ``window_sigma``)
clipped to the prior's support (a Normal prior: μ ± 10σ) and mapped to x = log10 A. The
integrand itself is the exact likelihood of :func:`sedjax.inference.posterior.gaussian_loglik`
at each node: with ``sys_frac > 0`` the likelihood is not Gaussian in the amplitude (σ_b
depends on the prediction) and the quadrature handles that exactly too; only the window
uses the observed flux in place of the prediction. With k = 8 the window's truncation is
below e^-32 of the integral; the quadrature error is checked against direct integration
in the tests.

After sampling, :attr:`Collapse.expand_fn` draws the normalisation per draw from its exact
conditional p(x | θ, data) (inverse CDF on a ``n_grid``-point grid over the same window,
linear between grid points), so results carry every parameter and derived quantity.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.model.priors import Normal

LN10 = float(np.log(10.0))


class Collapse(NamedTuple):
    """The collapsed target and the maps between its space and the full one.

    ``logdensity_fn``, ``loglik_fn``, ``logprior_fn`` take ``(u_shape, data)``;
    ``init_fn(key) -> u_shape``; ``expand_fn(key, u_shape (n, d-1), data) -> u (n, d)``
    draws the normalisation per row; ``project_fn(u (..., d)) -> u_shape (..., d-1)``
    drops it; ``index``: the normalisation's position in the full ``u``; ``name``: its name.
    """

    logdensity_fn: Callable
    loglik_fn: Callable
    logprior_fn: Callable
    init_fn: Callable
    expand_fn: Callable
    project_fn: Callable
    index: int
    name: str


def amplitude_bounds(prior) -> tuple[float, float]:
    """The normalisation prior's support in x = log10 A (a Normal prior: μ ± 10σ)."""
    if isinstance(prior, Normal):
        return prior.mu - 10.0 * prior.sigma, prior.mu + 10.0 * prior.sigma
    return float(prior.low), float(prior.high)


def make_collapse(model, loglik_of_pred: Callable, params_of: Callable, *, n_nodes: int = 32,
                  n_grid: int = 512, window_sigma: float = 8.0, sys_frac: float = 0.0,
                  mode: str = "fast") -> Collapse | None:
    """The collapsed target of ``model`` (None when its normalisation is not free).

    ``loglik_of_pred(pred, data)``: the log-likelihood of predicted fluxes (broadcasting over
    leading axes); ``params_of(u, data) -> (params, logdet)``: the full u -> parameters map
    (fixed redshift filled in), as in :func:`sedjax.inference.posterior.make_target`.
    """
    spec = model.spec
    name = spec.norm_param
    if name not in spec.free_params:
        return None
    index = spec.free_params.index(name)
    prior_x = spec.priors[name]
    x_min, x_max = amplitude_bounds(prior_x)
    a_min, a_max = 10.0**x_min, 10.0**x_max
    shape_names = [n for n in spec.free_params if n != name]
    _, logdet_x0 = prior_x.from_unconstrained(jnp.asarray(0.0))
    t_nodes, w_nodes = np.polynomial.legendre.leggauss(n_nodes)
    t_nodes, log_w_nodes = jnp.asarray(t_nodes), jnp.asarray(np.log(w_nodes))

    def full_u(u_shape, u_x):
        return jnp.concatenate([u_shape[:index], jnp.atleast_1d(u_x), u_shape[index:]])

    def shape_terms(u_shape, data):
        """Unit-amplitude fluxes g (n_band,), and the shape's log prior + log-Jacobian."""
        params, logdet = params_of(full_u(u_shape, 0.0), data)
        params = dict(params, **{name: jnp.zeros_like(params[name])})
        g = model.predict_photometry(params, mode=mode, tables=data.get("tables"))
        logprior = sum(spec.priors[n].log_prob(params[n]) for n in shape_names) + logdet - logdet_x0
        return g, logprior

    def window(g, data):
        """[x_lo, x_hi]: the optimum's ±kσ window in A, clipped to the prior, in log10."""
        w = data["mask"] / (data["flux_err"] ** 2 + (sys_frac * data["flux"]) ** 2)
        s_gg = jnp.sum(w * g * g)
        ok = jnp.isfinite(s_gg) & (s_gg > 0)
        s_gg = jnp.where(ok, s_gg, 1.0)
        a_hat = jnp.sum(w * data["flux"] * g) / s_gg
        half = window_sigma / jnp.sqrt(s_gg)
        centre = jnp.clip(a_hat, a_min, a_max)
        a_lo = jnp.maximum(centre - half, a_min)
        a_hi = jnp.minimum(centre + half, a_max)
        x_lo = jnp.where(ok, jnp.log10(a_lo), x_min)
        x_hi = jnp.where(ok, jnp.log10(a_hi), x_max)
        return x_lo, jnp.maximum(x_hi, x_lo + 1e-12 * (x_max - x_min))

    def integrand(x, g, data):
        """ln L(x, θ) + ln π_x(x) at amplitudes ``x`` (k,)."""
        pred = (10.0 ** x)[:, None] * g[None, :]
        return loglik_of_pred(pred, data) + prior_x.log_prob(x)

    def marginal(g, data):
        """ln ∫ L π_x dx: Gauss–Legendre nodes over the window."""
        x_lo, x_hi = window(g, data)
        half = 0.5 * (x_hi - x_lo)
        x = x_lo + half * (t_nodes + 1.0)
        return jax.scipy.special.logsumexp(integrand(x, g, data) + log_w_nodes + jnp.log(half))

    def loglik_fn(u_shape, data):
        return marginal(shape_terms(u_shape, data)[0], data)

    def logprior_fn(u_shape, data):
        return shape_terms(u_shape, data)[1]

    def logdensity_fn(u_shape, data):
        g, logprior = shape_terms(u_shape, data)
        return marginal(g, data) + logprior

    def init_fn(key):
        draw = spec.sample(key)
        return project_fn(spec.to_unconstrained(draw))

    def draw_x(key, u_shape, data):
        """One draw of x from p(x | θ, data): inverse CDF on the window's grid."""
        g, _ = shape_terms(u_shape, data)
        x_lo, x_hi = window(g, data)
        x = jnp.linspace(x_lo, x_hi, n_grid)
        logp = integrand(x, g, data)
        p = jnp.exp(logp - jnp.max(logp))
        cdf = jnp.concatenate([jnp.zeros(1), jnp.cumsum(0.5 * (p[1:] + p[:-1]))])
        cdf = cdf / cdf[-1]
        r = jax.random.uniform(key, dtype=x.dtype)
        x_draw = jnp.interp(r, cdf, x)
        eps = 1e-9 * (x_max - x_min)
        return jnp.clip(x_draw, x_min + eps, x_max - eps)

    def expand_fn(key, u_shape, data):
        keys = jax.random.split(key, u_shape.shape[0])
        finite = jnp.all(jnp.isfinite(u_shape), axis=-1)
        safe = jnp.where(finite[:, None], u_shape, 0.0)
        x = jax.vmap(draw_x, in_axes=(0, 0, None))(keys, safe, data)
        u_x = jnp.where(finite, prior_x.to_unconstrained(x), jnp.nan)
        return jax.vmap(full_u)(u_shape, u_x)

    def project_fn(u):
        return jnp.delete(u, index, axis=-1)

    return Collapse(jax.jit(logdensity_fn), jax.jit(loglik_fn), jax.jit(logprior_fn), init_fn, expand_fn, project_fn,
                    index, name)
