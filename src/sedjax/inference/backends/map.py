"""MAP backend: multi-start L-BFGS (optax, zoom line search), keep the best start."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax
import optax.tree_utils as otu

from ._common import bind_logdensity, init_many
from sedjax.inference.diagnostics import all_finite


@dataclass(frozen=True)
class MAPOpts:
    """Options for :func:`run_map`.

    n_starts: number of independent ``init_fn`` draws optimised in parallel.
    n_steps: maximum number of L-BFGS iterations per start.
    memory_size: L-BFGS history length.
    max_linesearch_steps: cap on zoom line-search evaluations per iteration.
    gtol: a start stops early once its gradient norm drops below ``gtol``.
    """

    n_starts: int = 8
    n_steps: int = 200
    memory_size: int = 10
    max_linesearch_steps: int = 20
    gtol: float = 1e-8


def lbfgs_minimize(fun, x0, opts: MAPOpts):
    """Minimise ``fun`` from ``x0``; returns ``(x, value, grad_norm, n_iter)``.

    A ``lax.while_loop`` with a fixed iteration cap; vmap-safe (finished batch
    members are frozen by the loop's select).
    """
    solver = optax.lbfgs(
        memory_size=opts.memory_size,
        linesearch=optax.scale_by_zoom_linesearch(
            max_linesearch_steps=opts.max_linesearch_steps,
            initial_guess_strategy="one",
        ),
    )
    value_and_grad = optax.value_and_grad_from_state(fun)

    def cond(carry):
        _, state = carry
        it = otu.tree_get(state, "count")
        gnorm = otu.tree_norm(otu.tree_get(state, "grad"))
        value = otu.tree_get(state, "value")
        # iteration 0 always runs; stop on small gradient or non-finite value
        keep = (it < opts.n_steps) & (gnorm >= opts.gtol) & jnp.isfinite(value)
        return (it == 0) | keep

    def body(carry):
        x, state = carry
        value, grad = value_and_grad(x, state=state)
        updates, state = solver.update(
            grad, state, x, value=value, grad=grad, value_fn=fun
        )
        return optax.apply_updates(x, updates), state

    x, state = jax.lax.while_loop(cond, body, (x0, solver.init(x0)))
    # the state's cached value/grad refer to the final x
    value, grad = jax.value_and_grad(fun)(x)
    n_iter = otu.tree_get(state, "count")
    return x, value, jnp.linalg.norm(grad), n_iter


def map_core(key, logdensity_fn, data, init_fn, opts: MAPOpts):
    """Multi-start MAP; returns a dict with the best point and per-start info."""
    logp = bind_logdensity(logdensity_fn, data)

    def loss(u):
        return -logp(u)

    x0 = init_many(init_fn, key, opts.n_starts)
    xs, values, gnorms, n_iters = jax.vmap(lambda x: lbfgs_minimize(loss, x, opts))(x0)
    ranked = jnp.where(jnp.isfinite(values), values, jnp.inf)
    best = jnp.argmin(ranked)
    return {
        "mode": xs[best],
        "loss": values[best],
        "grad_norm": gnorms[best],
        "losses": values,
        "grad_norms": gnorms,
        "n_iter": n_iters,
        "best_start": best,
        "start_positions": x0,
        "end_positions": xs,
    }


def run_map(key, logdensity_fn, data, init_fn, opts: MAPOpts = MAPOpts()):
    """MAP estimate by multi-start L-BFGS.

    Returns
    -------
    dict with
      samples (1, d): the best point;
      loss (): -logdensity at the best point; logdensity (1,): +logdensity there;
      grad_norm (): gradient norm at the best point;
      losses, grad_norms, n_iter (n_starts,): per-start final values;
      n_finite_starts (): number of starts ending at a finite loss;
      spread (): max distance of the finite starts' end points from the best
        (a multimodality hint).
    """
    r = map_core(key, logdensity_fn, data, init_fn, opts)
    finite = jnp.isfinite(r["losses"])
    dist = jnp.linalg.norm(r["end_positions"] - r["mode"], axis=-1)
    return {
        "samples": r["mode"][None, :],
        "logdensity": -r["loss"][None],
        "loss": r["loss"],
        "grad_norm": r["grad_norm"],
        "losses": r["losses"],
        "grad_norms": r["grad_norms"],
        "n_iter": r["n_iter"],
        "n_finite_starts": jnp.sum(finite),
        "spread": jnp.max(jnp.where(finite, dist, 0.0)),
    }


# ----------------------------------------------------------------- registry hooks
def status_checks(d, **limits) -> tuple[list[str], list[str]]:
    """MAP's own status checks on one galaxy's diagnostics: ``(failures, warnings)``."""
    fails = [] if all_finite(d.get("loss", 0.0)) else ["non-finite loss"]
    return fails, []


def iterations(opts: MAPOpts) -> int:
    """Sequential iterations of one call (for a per-iteration time)."""
    return opts.n_steps
