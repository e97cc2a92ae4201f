"""Gaussian variational inference backend (blackjax meanfield_vi / fullrank_vi).

PSIS diagnostics (:mod:`sedjax.inference.psis`) of the draws' importance ratios p/q are
stored as ``k_hat`` and ``psis_ess``; ``k_hat > 0.7`` fails the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from blackjax.vi import fullrank_vi, meanfield_vi

from ._common import bind_logdensity
from sedjax.inference.diagnostics import all_finite
from sedjax.inference.psis import k_hat_check, psis_diagnostics


@dataclass(frozen=True)
class VIOpts:
    """Options for :func:`run_vi`.

    family: "fullrank" (Cholesky-parameterised covariance) or "meanfield".
    n_steps: Adam steps.
    n_mc: Monte-Carlo draws per step for the (STL) ELBO gradient estimator.
    learning_rate: Adam peak learning rate.
    lr_decay: cosine-decay the learning rate to ``lr_final_frac * learning_rate``
      over ``n_steps`` (damps the stochastic jitter of the final parameters).
    n_samples: draws from the final approximation.
    init_scale: initial standard deviation of q (per dimension); the initial mean
      is one ``init_fn`` draw.
    """

    family: str = "fullrank"
    n_steps: int = 2000
    n_mc: int = 8
    learning_rate: float = 0.1
    lr_decay: bool = True
    lr_final_frac: float = 0.01
    n_samples: int = 1000
    init_scale: float = 1.0


def _optimizer(opts: VIOpts):
    if opts.lr_decay:
        lr = optax.cosine_decay_schedule(
            opts.learning_rate, opts.n_steps, alpha=opts.lr_final_frac
        )
    else:
        lr = opts.learning_rate
    return optax.adam(lr)


def run_vi(key, logdensity_fn, data, init_fn, opts: VIOpts = VIOpts()):
    """Stochastic ELBO maximisation with Adam.

    Returns
    -------
    dict with
      samples (n_samples, d): draws from the final q;
      elbo_trace (n_steps,): ELBO estimate at each step (before its update);
      elbo (): ELBO of the final q from ``n_samples`` draws;
      mean (d,), cov (d, d): the final Gaussian;
      logdensity, log_ratio (n_samples,): log p and log p - log q at the draws;
      k_hat, psis_ess (): PSIS of those ratios.
    """
    if opts.family not in ("fullrank", "meanfield"):
        raise ValueError(f"VIOpts.family must be 'fullrank' or 'meanfield', got {opts.family!r}")
    init_key, fit_key, draw_key = jax.random.split(key, 3)
    logp = bind_logdensity(logdensity_fn, data)
    optimizer = _optimizer(opts)
    mu0 = init_fn(init_key)
    d = mu0.shape[0]
    log_s0 = jnp.log(opts.init_scale) * jnp.ones(d, dtype=mu0.dtype)

    if opts.family == "fullrank":
        module = fullrank_vi
        chol0 = jnp.concatenate([log_s0, jnp.zeros(d * (d - 1) // 2, dtype=mu0.dtype)])
        state = fullrank_vi.FRVIState(mu0, chol0, optimizer.init((mu0, chol0)))
    else:
        module = meanfield_vi
        state = meanfield_vi.MFVIState(mu0, log_s0, optimizer.init((mu0, log_s0)))

    def one_step(state, k):
        state, info = module.step(k, state, logp, optimizer, num_samples=opts.n_mc)
        return state, -info.elbo  # blackjax reports the loss E_q[log q - log p]

    state, elbo_trace = jax.lax.scan(
        one_step, state, jax.random.split(fit_key, opts.n_steps)
    )

    samples = module.sample(draw_key, state, opts.n_samples)
    if opts.family == "fullrank":
        chol = fullrank_vi._unflatten_cholesky(state.chol_params, d)
        cov = chol @ chol.T
        logq = jax.vmap(fullrank_vi.generate_fullrank_logdensity(state.mu, state.chol_params))(samples)
    else:
        cov = jnp.diag(jnp.exp(2.0 * state.rho))
        logq = jax.vmap(meanfield_vi.generate_meanfield_logdensity(state.mu, state.rho))(samples)
    lp = jax.vmap(logp)(samples)
    log_ratio = lp - logq
    return {
        "samples": samples,
        "elbo_trace": elbo_trace,
        "elbo": jnp.mean(log_ratio),
        "mean": state.mu,
        "cov": cov,
        "logdensity": lp,
        "log_ratio": log_ratio,
        **psis_diagnostics(log_ratio),
    }


# ----------------------------------------------------------------- registry hooks
def status_checks(d, **limits) -> tuple[list[str], list[str]]:
    """VI's own status checks on one galaxy's diagnostics: ``(failures, warnings)``.

    -inf trace entries can be draws outside a bounded support early on; NaN anywhere,
    or a non-finite final ELBO, means the fit broke.
    """
    trace = np.asarray(d.get("elbo_trace", 0.0))
    if np.any(np.isnan(trace)) or not all_finite(d.get("elbo", 0.0)):
        return ["non-finite ELBO"], []
    return k_hat_check(d), []


def iterations(opts: VIOpts) -> int:
    """Sequential iterations of one call (for a per-iteration time)."""
    return opts.n_steps
