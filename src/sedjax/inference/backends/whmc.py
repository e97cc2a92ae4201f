"""Whitened NUTS: the Laplace covariance at the mode as the dense metric, step size adapted only.

Instead of Stan's windowed warm-up (hundreds of steps per chain to learn a mass matrix from
scratch), the metric is the MAP stage's Gaussian (the Gauss–Newton covariance at the mode,
:mod:`.gaussian`; its marginal when the amplitude is collapsed), the chains start
from draws of that Gaussian, and a short warm-up adapts only the step size (dual averaging,
per chain); the tree depth is capped at ``max_num_doublings`` in warm-up and sampling.
Used by ``nuts`` with ``warmup="map"`` and by the ``auto`` backend's HMC stage.

:func:`whitened_chees` is the alternative kernel for ``auto`` (``hmc_kernel="chees"``):
jittered-trajectory HMC whose step size and trajectory length are tuned by ChEES
(``blackjax.chees_adaptation``, Hoffman et al. 2021) over the galaxy's chains as the
ensemble, in the coordinates whitened by the same Gaussian (``z = L^-1 (u - mode)``). Every
chain of a galaxy takes the same number of leapfrog steps per transition, so under ``vmap``
no chain waits for another's longer tree, as NUTS chains do.
"""

from __future__ import annotations

import blackjax
import jax
import jax.numpy as jnp
import optax
from blackjax.optimizers.dual_averaging import dual_averaging

from .nuts_draws import chain_summary, draw_chains


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


def whitened_chees(key, logp, mode, g, *, n_chains: int, n_warmup: int, n_samples: int, max_leapfrog_steps: int,
                   learning_rate: float = 0.025, target_accept: float = 0.651):
    """ChEES-tuned jittered HMC on ``logp`` in coordinates whitened by the Gaussian ``g`` at ``mode``.

    ``z = L^-1 (u - mode)`` with ``L = g["sqrt_cov"]`` (a linear map: ``logp`` in z differs by
    a constant, so the log densities returned are ``logp(u)``). The chains start at
    ``z ~ N(0, I)``; ``n_warmup`` steps of ``blackjax.chees_adaptation`` (Adam at
    ``learning_rate`` on the log trajectory length, dual averaging of the step size towards
    ``target_accept``, at most ``max_leapfrog_steps`` per transition) over the ``n_chains``
    chains as one ensemble; then ``n_samples`` transitions per chain with the tuned step size
    and (Halton-jittered) trajectory length.

    Returns the keys of :func:`whitened_nuts` (``n_max_treedepth``: transitions at
    ``max_leapfrog_steps``) and ``n_leapfrog_warmup_mean``.
    """
    init_key, warm_key, sample_key = jax.random.split(key, 3)
    d = mode.shape[0]
    sqrt_cov = g["sqrt_cov"]

    def logp_z(z):
        return logp(mode + sqrt_cov @ z)

    z0 = jax.random.normal(init_key, (n_chains, d), dtype=mode.dtype)
    warmup = blackjax.chees_adaptation(logp_z, n_chains, target_acceptance_rate=target_accept,
                                       max_leapfrog_steps=max_leapfrog_steps,
                                       adaptation_info_fn=lambda state, info, adapt: info.num_integration_steps)
    (states, params), warm_steps = warmup.run(warm_key, z0, 0.5 * d ** -0.25, optax.adam(learning_rate), n_warmup)
    step = blackjax.dynamic_hmc(logp_z, **params).step

    def one(states, k):
        states, info = jax.vmap(step)(jax.random.split(k, n_chains), states)
        return states, (states.position, states.logdensity, info.is_divergent, info.acceptance_rate,
                        info.num_integration_steps)

    _, (z, lp, div, acc, nsteps) = jax.lax.scan(one, states, jax.random.split(sample_key, n_samples))
    # (n_samples, n_chains, ...) -> chain-major, back to u
    z, lp, div, acc, nsteps = (jnp.swapaxes(a, 0, 1) for a in (z, lp, div, acc, nsteps))
    u = mode + z @ sqrt_cov.T
    step_sizes = jnp.full((n_chains,), params["step_size"], mode.dtype)
    out = chain_summary(u, lp, div, acc, nsteps, step_sizes, jnp.sum(nsteps >= max_leapfrog_steps))
    return {**out, "n_leapfrog_warmup_mean": jnp.mean(warm_steps.astype(mode.dtype)), "mode": mode,
            "hessian_posdef": g["hessian_posdef"]}
