"""Pathfinder backend: multi-path Pathfinder on blackjax.vi.pathfinder.

``n_paths`` single-path Pathfinder runs (Zhang et al. 2022) from independent prior draws,
vmapped; their draws are pooled and importance-resampled with weights p/q, q the equal
mixture of the paths' Gaussians (the density the pooled draws come from; multi-path
Pathfinder). One path (``n_paths=1``) is plain Pathfinder, which can sit on a local mode
and underestimate the spread: several paths with importance resampling fix most of that.

PSIS diagnostics (:mod:`sedjax.inference.psis`) of the pooled importance ratios (before the
resampling) are stored as ``k_hat`` and ``psis_ess``; ``k_hat > 0.7`` fails the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
from blackjax.vi import pathfinder as bj_pathfinder

from ._common import bind_logdensity
from sedjax.inference.diagnostics import all_finite
from sedjax.inference.psis import k_hat_check, psis_diagnostics


def gaussian_of(state):
    """One path's Gaussian as arrays: (mu, sqrt(alpha), Q, L^-1, log det Sigma).

    blackjax draws ``mu + sqrt(alpha) * (I + Q (L - I) Q^T) z`` (``bfgs_sample``); with Q's
    orthonormal columns that map inverts as ``I + Q (L^-1 - I) Q^T``.
    """
    pos = state.position
    alpha, beta, gamma = state.alpha, state.beta, state.gamma
    q, r = jnp.linalg.qr(beta / jnp.sqrt(alpha)[:, None], mode="reduced")
    eye = jnp.eye(r.shape[0], dtype=alpha.dtype)
    chol = jnp.linalg.cholesky(eye + r @ gamma @ r.T)
    logdet = jnp.sum(jnp.log(alpha)) + 2.0 * jnp.sum(jnp.log(jnp.diag(chol)))
    mu = pos + alpha * state.grad_position + beta @ (gamma @ (beta.T @ state.grad_position))
    chol_inv = jax.scipy.linalg.solve_triangular(chol, eye, lower=True)
    return mu, jnp.sqrt(alpha), q, chol_inv, logdet


def gaussian_logpdf(g, x):
    """log density at ``x`` of a :func:`gaussian_of` Gaussian."""
    mu, sqrt_alpha, q, chol_inv, logdet = g
    y = (x - mu) / sqrt_alpha
    z = y + q @ ((chol_inv - jnp.eye(chol_inv.shape[0], dtype=y.dtype)) @ (q.T @ y))
    return -0.5 * (logdet + z @ z + x.shape[0] * jnp.log(2.0 * jnp.pi))


@dataclass(frozen=True)
class PathfinderOpts:
    """Options for :func:`run_pathfinder`.

    n_samples: draws returned (importance-resampled from all paths' draws).
    n_paths: independent single paths (vmapped); 1 = single-path Pathfinder.
    n_elbo_samples: Monte-Carlo draws per path point used to pick the best ELBO.
    maxiter, maxcor, maxls, gtol, ftol: the L-BFGS path (blackjax defaults).
    """

    n_samples: int = 1000
    n_paths: int = 8
    n_elbo_samples: int = 200
    maxiter: int = 30
    maxcor: int = 10
    maxls: int = 1000
    gtol: float = 1e-8
    ftol: float = 1e-5


def run_pathfinder(
    key, logdensity_fn, data, init_fn, opts: PathfinderOpts = PathfinderOpts()
):
    """Multi-path Pathfinder from ``opts.n_paths`` ``init_fn`` draws.

    Returns
    -------
    dict with
      samples (n_samples, d);
      elbo (): ELBO of the selected approximation; elbo_path (maxiter+1,): ELBO
        along the L-BFGS path (-inf where not reached);
      best_index (): index of the selected path point; n_path (): number of
        finite path points (of the path with the best ELBO);
      importance_ess (): effective sample size of the pooled importance weights;
      k_hat, psis_ess (): PSIS of the pooled importance ratios (before resampling);
      logdensity, log_ratio (n_samples,): log p and log p - log q at the draws.
    """
    paths_key, resample_key = jax.random.split(key)
    logp = bind_logdensity(logdensity_fn, data)

    def one_path(k):
        init_key, approx_key, draw_key = jax.random.split(k, 3)
        state, info = bj_pathfinder.approximate(
            approx_key,
            logp,
            init_fn(init_key),
            num_samples=opts.n_elbo_samples,
            maxiter=opts.maxiter,
            maxcor=opts.maxcor,
            maxls=opts.maxls,
            gtol=opts.gtol,
            ftol=opts.ftol,
        )
        draws, logq = bj_pathfinder.sample(draw_key, state, opts.n_samples)
        return draws, logq, state.elbo, info.path.elbo, gaussian_of(state)

    if opts.n_paths == 1:
        draws, logq, elbo, elbo_path, _ = one_path(paths_key)
        lp = jax.vmap(logp)(draws)
        ess = jnp.asarray(opts.n_samples, lp.dtype)
        samples = draws
        psis_d = psis_diagnostics(lp - logq)
    else:
        draws, logq, elbo, elbo_path, gauss = jax.vmap(one_path)(jax.random.split(paths_key, opts.n_paths))
        draws = draws.reshape(-1, draws.shape[-1])
        lp = jax.vmap(logp)(draws)
        # the pooled draws come from the equal mixture of the paths' Gaussians: weight by it
        per_path = jax.vmap(lambda g: jax.vmap(lambda x: gaussian_logpdf(g, x))(draws))(gauss)
        logq = jax.scipy.special.logsumexp(per_path, axis=0) - jnp.log(opts.n_paths)
        log_w = lp - logq
        log_w = jnp.where(jnp.isfinite(log_w), log_w, -jnp.inf)
        psis_d = psis_diagnostics(log_w)
        w = jax.nn.softmax(log_w)
        ess = 1.0 / jnp.sum(w**2)
        idx = jax.random.choice(resample_key, draws.shape[0], (opts.n_samples,), replace=True, p=w)
        samples, lp, logq = draws[idx], lp[idx], logq[idx]
        best = jnp.argmax(elbo)
        elbo, elbo_path = elbo[best], elbo_path[best]
    return {
        "samples": samples,
        "elbo": elbo,
        "elbo_path": elbo_path,
        "best_index": jnp.argmax(elbo_path),
        "n_path": jnp.sum(jnp.isfinite(elbo_path)),
        "importance_ess": ess,
        "logdensity": lp,
        "log_ratio": lp - logq,
        **psis_d,
    }


# ----------------------------------------------------------------- registry hooks
def status_checks(d, **limits) -> tuple[list[str], list[str]]:
    """Pathfinder's own status checks on one galaxy's diagnostics: ``(failures, warnings)``."""
    fails = [] if all_finite(d.get("elbo", 0.0)) else ["non-finite ELBO"]
    return fails + k_hat_check(d), []


def iterations(opts: PathfinderOpts) -> int:
    """Sequential iterations of one call (for a per-iteration time)."""
    return opts.maxiter
