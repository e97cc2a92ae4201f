"""Pathfinder backend (blackjax.vi.pathfinder: single path)."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
from blackjax.vi import pathfinder as bj_pathfinder

from ._common import bind_logdensity


@dataclass(frozen=True)
class PathfinderOpts:
    """Options for :func:`run_pathfinder`.

    n_samples: draws from the selected Gaussian approximation.
    n_elbo_samples: Monte-Carlo draws per path point used to pick the best ELBO.
    maxiter, maxcor, maxls, gtol, ftol: the L-BFGS path (blackjax defaults).
    """

    n_samples: int = 1000
    n_elbo_samples: int = 200
    maxiter: int = 30
    maxcor: int = 10
    maxls: int = 1000
    gtol: float = 1e-8
    ftol: float = 1e-5


def run_pathfinder(
    key, logdensity_fn, data, init_fn, opts: PathfinderOpts = PathfinderOpts()
):
    """Pathfinder from one ``init_fn`` draw.

    Returns
    -------
    dict with
      samples (n_samples, d);
      elbo (): ELBO of the selected approximation; elbo_path (maxiter+1,): ELBO
        along the L-BFGS path (-inf where not reached);
      best_index (): index of the selected path point; n_path (): number of
        finite path points;
      logdensity, log_ratio (n_samples,): log p and log p - log q at the draws.
    """
    init_key, approx_key, draw_key = jax.random.split(key, 3)
    logp = bind_logdensity(logdensity_fn, data)
    u0 = init_fn(init_key)
    state, info = bj_pathfinder.approximate(
        approx_key,
        logp,
        u0,
        num_samples=opts.n_elbo_samples,
        maxiter=opts.maxiter,
        maxcor=opts.maxcor,
        maxls=opts.maxls,
        gtol=opts.gtol,
        ftol=opts.ftol,
    )
    samples, logq = bj_pathfinder.sample(draw_key, state, opts.n_samples)
    lp = jax.vmap(logp)(samples)
    elbo_path = info.path.elbo
    return {
        "samples": samples,
        "elbo": state.elbo,
        "elbo_path": elbo_path,
        "best_index": jnp.argmax(elbo_path),
        "n_path": jnp.sum(jnp.isfinite(elbo_path)),
        "logdensity": lp,
        "log_ratio": lp - logq,
    }
