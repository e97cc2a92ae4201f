"""The sampling phase shared by both NUTS warm-ups: chains from adapted states, and their diagnostics."""

from __future__ import annotations

import blackjax
import jax
import jax.numpy as jnp

from .. import diagnostics as diag


def draw_chains(key, logp, states, step_sizes, imms, n_samples: int, max_num_doublings: int) -> dict:
    """``n_samples`` NUTS draws per chain (vmapped over chains) from warm ``states``.

    ``step_sizes`` (n_chains,) and ``imms`` (n_chains, d, d) or (n_chains, d): each chain's
    adapted step size and inverse mass matrix. Returns the keys of
    :func:`sedjax.inference.backends.nuts.run_nuts` (samples, chains, logdensity, rhat,
    ess_bulk, their extremes, divergences, acceptance, step sizes, leapfrog counts) and
    ``draw_chains`` (the number of chains in ``samples``, chain-major: the fitting layer
    computes the physical quantities' R-hat and ESS from them,
    :func:`sedjax.inference.diagnostics.quantity_convergence`).
    """
    n_chains = step_sizes.shape[0]

    def sample_one(k, state, step_size, imm):
        kernel = blackjax.nuts(logp, step_size, imm, max_num_doublings=max_num_doublings).step

        def one(state, kk):
            state, info = kernel(kk, state)
            return state, (state.position, state.logdensity, info.is_divergent, info.acceptance_rate,
                           info.num_integration_steps, info.num_trajectory_expansions)

        _, out = jax.lax.scan(one, state, jax.random.split(k, n_samples))
        return out

    pos, lp, div, acc, nsteps, nexp = jax.vmap(sample_one)(jax.random.split(key, n_chains), states, step_sizes, imms)
    return chain_summary(pos, lp, div, acc, nsteps, step_sizes, jnp.sum(nexp >= max_num_doublings))


def chain_summary(pos, lp, div, acc, nsteps, step_sizes, n_max_treedepth) -> dict:
    """The result keys of :func:`draw_chains` from per-chain traces (leading axes
    ``(n_chains, n_samples)``: positions, log densities, divergence flags, acceptance
    rates, leapfrog steps), the chains' step sizes and the count of draws at the depth cap."""
    n_chains, n_samples, d = pos.shape
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
        "draw_chains": jnp.asarray(n_chains),
        "accept_mean": jnp.mean(accept_per_chain),
        "accept_per_chain": accept_per_chain,
        "step_size": step_sizes,
        "n_leapfrog_mean": jnp.mean(nsteps.astype(pos.dtype)),
        "n_max_treedepth": n_max_treedepth,
    }
