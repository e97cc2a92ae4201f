"""Nested sampling backend: blackjax nested slice sampling (``blackjax.nss``).

Unlike the other backends, nested sampling needs the prior and likelihood
separately::

    run_ns(key, logdensity_fn, data, init_fn, opts, *, logprior_fn, loglik_fn=None)

``logprior_fn(u, data)`` is the prior density in u space (including the
log-Jacobian of the u -> theta map); ``init_fn`` must draw from exactly that
prior, because the initial live points are prior draws.  ``loglik_fn`` defaults
to ``logdensity_fn - logprior_fn``.

Run: live points are replaced ``num_delete`` at a time by constrained hit-and-run
slice sampling (live-covariance directions) inside a ``lax.while_loop`` that stops
when the live points could add less than ``dlogz`` to log Z (or at ``max_steps``).
Dead points go to a fixed-size buffer (``max_steps * num_delete``), so shapes are
static and the run vmaps over galaxies (each galaxy's loop state freezes once it
has converged).

Evidence: the prior-volume shrinkage of the i-th deleted point of a batch of k
deletions from n live points is t ~ Beta(n - i, 1), i = 0..k-1, and the final live
points are retired with n, n-1, ..., 1 (Skilling 2006; Fowlie, Handley & Su 2021,
which is what ``blackjax.ns.utils.compute_num_live`` computes).  ``logZ`` uses
E[log t] = -1/m; ``logZ_err`` is the standard deviation of log Z over
``n_sim`` simulated shrinkage sequences (log t = log U / m), the same
repeated-volume-sampling estimator as ``blackjax.ns.utils.logX``.  The classic
``sqrt(H / n_live)`` estimate is returned as ``logZ_err_skilling``.
(``blackjax.ns.utils`` itself needs the dead points without padding, which a
static-shape, early-stopping run cannot provide, so the weights are computed here
with its ``log1mexp``.)
"""

from __future__ import annotations

from dataclasses import dataclass

import blackjax
import jax
import jax.numpy as jnp
import numpy as np
from blackjax.ns.utils import log1mexp
from jax.scipy.special import logsumexp

from ._common import bind_logdensity, init_many
from sedjax.inference.diagnostics import all_finite


@dataclass(frozen=True)
class NSOpts:
    """Options for :func:`run_ns`.

    n_live: live points.
    num_delete: live points replaced per iteration (vectorised).
    num_inner_steps: slice steps per replacement; 0 means ``max(5, 3 * d)``.
    max_steps: cap on iterations; the dead-point buffer holds
      ``max_steps * num_delete`` points, i.e. up to ~``max_steps * num_delete /
      n_live`` nats of prior compression.
    dlogz: stop when ``log(Z_dead + Z_live) - log(Z_dead) < dlogz``.
    n_samples: equal-weight posterior draws returned.
    n_sim: simulated volume sequences for the evidence error.
    """

    n_live: int = 500
    num_delete: int = 50
    num_inner_steps: int = 0
    max_steps: int = 600
    dlogz: float = 1e-3
    n_samples: int = 1000
    n_sim: int = 100


def _nan_to_neginf(f):
    def g(u):
        v = f(u)
        return jnp.where(jnp.isnan(v), -jnp.inf, v)

    return g


def run_ns(
    key,
    logdensity_fn,
    data,
    init_fn,
    opts: NSOpts = NSOpts(),
    *,
    logprior_fn,
    loglik_fn=None,
):
    """Nested slice sampling.

    Returns
    -------
    dict with
      samples (n_samples, d): equal-weight posterior draws (resampled);
      logdensity (n_samples,): logprior + loglik at the draws;
      logZ (), logZ_err (): log evidence (of loglik w.r.t. the normalised prior)
        and its std from ``n_sim`` simulated volume sequences;
      logZ_err_skilling (): sqrt(H / n_live); information (): H in nats;
      logZ_sim (n_sim,): the simulated log-evidences;
      logZ_live (): live-point contribution at termination;
      converged () bool; n_steps () iterations; n_dead (); ess (): Kish ESS of
      the weights; inner_accept_frac (); n_loglik_evals ().
    """
    if logprior_fn is None:
        raise ValueError("run_ns needs logprior_fn")
    if loglik_fn is None:

        def loglik_fn(u, data):  # noqa: F811
            return logdensity_fn(u, data) - logprior_fn(u, data)

    logprior = _nan_to_neginf(bind_logdensity(logprior_fn, data))
    loglik = _nan_to_neginf(bind_logdensity(loglik_fn, data))

    n, k = opts.n_live, opts.num_delete
    if not (1 <= k < n):
        raise ValueError("need 1 <= num_delete < n_live")
    init_key, run_key, sim_key, draw_key = jax.random.split(key, 4)
    live0 = init_many(init_fn, init_key, n)
    d = live0.shape[-1]
    n_inner = opts.num_inner_steps or max(5, 3 * d)
    algo = blackjax.nss(logprior, loglik, num_inner_steps=n_inner, num_delete=k)
    state = algo.init(live0)

    nbuf = opts.max_steps * k
    dtype = live0.dtype
    buf_u = jnp.zeros((nbuf, d), dtype)
    buf_ll = jnp.full((nbuf,), -jnp.inf, dtype)
    buf_lp = jnp.full((nbuf,), -jnp.inf, dtype)

    def remaining(integ):
        return jnp.logaddexp(integ.logZ, integ.logZ_live) - integ.logZ

    def cond(carry):
        state, *_, i, _, _, _ = carry
        return (i < opts.max_steps) & ~(remaining(state.integrator) < opts.dlogz)

    def body(carry):
        state, bu, bll, blp, i, rkey, n_acc, n_eval = carry
        rkey, sk = jax.random.split(rkey)
        state, info = algo.step(sk, state)
        dead = info.particles
        start = i * k
        bu = jax.lax.dynamic_update_slice(bu, dead.position, (start, 0))
        bll = jax.lax.dynamic_update_slice(bll, dead.loglikelihood, (start,))
        blp = jax.lax.dynamic_update_slice(blp, dead.logdensity, (start,))
        ui = info.update_info
        n_acc = n_acc + jnp.sum(ui.is_accepted)
        n_eval = n_eval + jnp.sum(2 + ui.num_expansions + ui.num_shrink)
        return state, bu, bll, blp, i + 1, rkey, n_acc, n_eval

    zero = jnp.zeros((), dtype=int)
    carry = (state, buf_u, buf_ll, buf_lp, zero, run_key, zero, zero)
    state, buf_u, buf_ll, buf_lp, n_steps, _, n_acc, n_eval = jax.lax.while_loop(
        cond, body, carry
    )
    converged = remaining(state.integrator) < opts.dlogz

    # ---- combine dead buffer + final live points (sorted ascending in logL) ----
    live = state.particles
    order = jnp.argsort(live.loglikelihood)
    u_all = jnp.concatenate([buf_u, live.position[order]], axis=0)
    ll_all = jnp.concatenate([buf_ll, live.loglikelihood[order]])
    lp_all = jnp.concatenate([buf_lp, live.logdensity[order]])
    idx = jnp.arange(nbuf)
    valid_dead = idx < n_steps * k
    m_dead = jnp.where(valid_dead, (n - idx % k).astype(dtype), jnp.inf)
    m_live = jnp.arange(n, 0, -1).astype(dtype)
    m_all = jnp.concatenate([m_dead, m_live])
    valid = jnp.concatenate([valid_dead, jnp.ones((n,), bool)])

    def log_weights(log_t):
        # X_i = prod_{j<=i} t_j ; weight_i = L_i (X_{i-1} - X_i)
        log_t = jnp.where(valid, log_t, 0.0)
        log_x = jnp.cumsum(log_t)
        log_x_prev = jnp.concatenate([jnp.zeros((1,), dtype), log_x[:-1]])
        lw = ll_all + log_x_prev + log1mexp(log_t)
        return jnp.where(valid & jnp.isfinite(ll_all), lw, -jnp.inf)

    logw = log_weights(-1.0 / m_all)
    logZ = logsumexp(logw)

    def sim_one(kk):
        u = jax.random.uniform(kk, m_all.shape, dtype)
        return logsumexp(log_weights(jnp.log1p(-u) / m_all))

    logZ_sim = jax.lax.map(sim_one, jax.random.split(sim_key, opts.n_sim))
    logZ_err = jnp.std(logZ_sim, ddof=1)

    p = jnp.exp(logw - logZ)
    info_h = jnp.sum(jnp.where(p > 0, p * (ll_all - logZ), 0.0))
    ess = 1.0 / jnp.sum(p**2)
    pick = jax.random.choice(draw_key, u_all.shape[0], (opts.n_samples,), p=p)
    n_inner_total = n_steps * k * n_inner
    return {
        "samples": u_all[pick],
        "logdensity": ll_all[pick] + lp_all[pick],
        "logZ": logZ,
        "logZ_err": logZ_err,
        "logZ_err_skilling": jnp.sqrt(jnp.maximum(info_h, 0.0) / n),
        "information": info_h,
        "logZ_sim": logZ_sim,
        "logZ_live": state.integrator.logZ_live,
        "converged": converged,
        "n_steps": n_steps,
        "n_dead": n_steps * k,
        "ess": ess,
        "inner_accept_frac": n_acc / jnp.maximum(n_inner_total, 1),
        "n_loglik_evals": n_eval + n,
    }


# ----------------------------------------------------------------- registry hooks
def status_checks(d, **limits) -> tuple[list[str], list[str]]:
    """Nested sampling's own status checks on one galaxy's diagnostics: ``(failures, warnings)``."""
    fails = [f"non-finite {k}" for k in ("logZ", "logZ_err") if k in d and not all_finite(d[k])]
    if "converged" in d and not bool(np.asarray(d["converged"])):
        fails.append("nested sampling hit max_steps before converging")
    return fails, []


def iterations(opts: NSOpts) -> None:
    """No fixed iteration count (runs until converged or ``max_steps``)."""
    return None
