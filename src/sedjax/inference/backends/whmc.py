"""Whitened NUTS: the Laplace covariance at the mode as the dense metric, step size adapted only.

Instead of Stan's windowed warm-up (hundreds of steps per chain to learn a mass matrix from
scratch), the metric is the MAP stage's Gaussian (the Gauss–Newton covariance at the mode,
:mod:`.gaussian`; its marginal when the amplitude is collapsed), the chains start
from draws of that Gaussian, and a short warm-up adapts only the step size (dual averaging,
per chain); the tree depth is capped at ``max_num_doublings`` in warm-up and sampling.
Used by ``nuts`` with ``warmup="map"`` and by the ``auto`` backend's HMC stage.
"""

from __future__ import annotations

import blackjax
import jax
import jax.numpy as jnp
from blackjax.optimizers.dual_averaging import dual_averaging

from .. import diagnostics as diag


def whitened_nuts(key, logp, mode, g, *, n_chains: int, n_warmup: int, n_samples: int, max_num_doublings: int,
                  target_accept: float = 0.8):
    """NUTS on ``logp`` with the Gaussian ``g`` (:mod:`.gaussian`: ``cov``, ``sqrt_cov``,
    ``hessian_posdef``) at ``mode`` as the metric and the chains' start distribution.

    Returns the same keys as :func:`sedjax.inference.backends.nuts.run_nuts` plus ``mode``,
    ``hessian_posdef`` and ``n_leapfrog_warmup_mean``.
    """
    init_key, warm_key, sample_key = jax.random.split(key, 3)
    d = mode.shape[0]
    imm = g["cov"]
    u0 = mode[None, :] + jax.random.normal(init_key, (n_chains, d), dtype=mode.dtype) @ g["sqrt_cov"].T
    da_init, da_update, da_final = dual_averaging()

    def warm_one(k, u):
        state = blackjax.nuts.init(u, logp)

        def one(carry, kk):
            state, da = carry
            step = jnp.exp(da.log_x)
            kernel = blackjax.nuts(logp, step, imm, max_num_doublings=max_num_doublings)
            new, info = kernel.step(kk, state)
            acc = jnp.where(jnp.isfinite(info.acceptance_rate), info.acceptance_rate, 0.0)
            return (new, da_update(da, target_accept - acc)), info.num_integration_steps

        (state, da), nsteps = jax.lax.scan(one, (state, da_init(0.5 * d ** -0.25)), jax.random.split(k, n_warmup))
        return state, da_final(da), jnp.mean(nsteps.astype(mode.dtype))

    states, step_sizes, warm_steps = jax.vmap(warm_one)(jax.random.split(warm_key, n_chains), u0)

    def sample_one(k, state, step_size):
        kernel = blackjax.nuts(logp, step_size, imm, max_num_doublings=max_num_doublings).step

        def one(state, kk):
            state, info = kernel(kk, state)
            return state, (state.position, state.logdensity, info.is_divergent, info.acceptance_rate,
                           info.num_integration_steps, info.num_trajectory_expansions)

        _, out = jax.lax.scan(one, state, jax.random.split(k, n_samples))
        return out

    pos, lp, div, acc, nsteps, nexp = jax.vmap(sample_one)(jax.random.split(sample_key, n_chains), states, step_sizes)
    rhat = diag.split_rhat(pos)
    ess = diag.ess_bulk(pos)
    accept_per_chain = jnp.mean(acc, axis=1)
    div_per_chain = jnp.sum(div, axis=1)
    return {
        "samples": pos.reshape(n_chains * n_samples, d),
        "chains": pos,
        "logdensity": lp.reshape(n_chains * n_samples),
        "rhat": rhat,
        "ess_bulk": ess,
        "rhat_max": jnp.max(rhat),
        "ess_bulk_min": jnp.min(ess),
        "n_divergent": jnp.sum(div_per_chain),
        "divergent_per_chain": div_per_chain,
        "n_transitions": jnp.asarray(n_chains * n_samples),
        "accept_mean": jnp.mean(accept_per_chain),
        "accept_per_chain": accept_per_chain,
        "step_size": step_sizes,
        "n_leapfrog_mean": jnp.mean(nsteps.astype(pos.dtype)),
        "n_leapfrog_warmup_mean": jnp.mean(warm_steps),
        "n_max_treedepth": jnp.sum(nexp >= max_num_doublings),
        "mode": mode,
        "hessian_posdef": g["hessian_posdef"],
    }
