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

from .nuts_draws import draw_chains


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

    imms = jnp.broadcast_to(imm, (n_chains,) + imm.shape)
    out = draw_chains(sample_key, logp, states, step_sizes, imms, n_samples, max_num_doublings)
    return {**out, "n_leapfrog_warmup_mean": jnp.mean(warm_steps), "mode": mode, "hessian_posdef": g["hessian_posdef"]}
