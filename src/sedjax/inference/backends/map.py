"""MAP backend: multi-start Levenberg–Marquardt (default) or L-BFGS, keep the best start.

``optimizer="lm"`` (:mod:`sedjax.inference.backends.lm`): a fixed number of damped
Gauss–Newton iterations on the whitened residuals plus the prior's exact curvature (when the
target gives ``residual_fn``; a damped Newton step on the exact Hessian otherwise), so a
``vmap`` over galaxies costs the same per galaxy. ``optimizer="lbfgs"``: optax L-BFGS with a
zoom line search (the reference; under ``vmap`` it runs to the slowest galaxy's length).

Starts: ``n_library_starts`` best-chi2 entries of a prior library when the target gives a
``start_fn(data, k) -> (k, d)`` (:mod:`sedjax.inference.library`), plus ``n_starts`` prior
draws from ``init_fn``.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax
import optax.tree_utils as otu

from ._common import bind_logdensity, init_many
from .lm import lm_minimize
from sedjax.inference.diagnostics import all_finite


@dataclass(frozen=True)
class MAPOpts:
    """Options for :func:`run_map`.

    optimizer: "lm" (Levenberg–Marquardt, fixed iterations) or "lbfgs" (the reference).
    n_starts: number of independent ``init_fn`` (prior) draws optimised in parallel.
    n_library_starts: best-chi2 prior-library starts added when the target has a
      ``start_fn`` (ignored otherwise).
    lm_steps: LM iterations per start (exactly this many: no early stop).
    lm_screen_steps, lm_keep: successive halving for LM. With ``lm_screen_steps`` > 0 every
      start first runs that many iterations, and only the ``lm_keep`` lowest then run
      ``lm_steps`` more (0: every start runs ``lm_steps``). Measured by rule bench_map (1 000
      mock galaxies, 500 against the best of 20 L-BFGS starts, CPU time of one worker, at
      32a6a6d): 4 library + 8 prior starts × 5 screening steps, the best 3 × 25 more, put
      99.2 % of galaxies within 0.1 of the reference at 3 360 galaxies/min per core; the
      same 12 starts × 22 steps unscreened 100 % (1 950/min); 2 library starts × 20 steps
      93.8 % (9 800/min). Screening loses galaxies whose best start is not yet among the
      lowest after a few steps: with 3 screening steps 97–98 %.
    lm_geodesic: LM steps with geodesic acceleration (:func:`~sedjax.inference.backends.lm.lm_minimize`):
      one more forward pass per step, more progress per step along curved valleys (bench_map:
      the screened setting above 99.2 % -> 99.6 %; 4 + 8 starts, 4 -> 3 x 18 steps, 99.0 % at
      1.23x its speed).
    lm_profile_amplitude: at every LM point the SFH normalisation is moved to its conditional
      optimum first (variable projection; ``linear_amplitude`` of
      :func:`~sedjax.inference.backends.lm.lm_minimize`), when the target gives
      ``linear_amplitude`` (no systematic floor); otherwise plain LM. bench_map: 4 + 8 starts,
      4 -> 3 x 18 steps, 99.2 % at 1.26x the screened setting's rate; with 8 library + 4 prior
      starts, 2 -> 3 x 14 steps (bench_map's ``lean``), 99.0–99.2 % at 1.75–1.9x.
    lm_jacobian_every: a full Jacobian every this many LM steps; the steps between take it
      from Broyden's secant update (one forward pass instead of a Jacobian;
      ``jacobian_every`` of :func:`~sedjax.inference.backends.lm.lm_minimize`). 1: every step.
      bench_map's ``secant`` (``lean``'s starts, 2 -> 3 x 20 steps, every 3rd step a full
      Jacobian), rule at 2136359 beside the test suite, 500 checked: 6 248 galaxies/min per
      core at 99.2 % (1.62x ``lean``'s 3 848 at 99.0 %, 2.93x ``screened``); a one-off harness
      with all 1 000 checked: 99.3 %; every 3rd step with 14 steps 98.3 %, every 2nd with
      18 steps 99.0 %.
    lm_dtype: "float64" or "float32": the precision of the LM iterations. With "float32" they
      run on the target's ``low_precision`` twin (the model's tables cast to float32) on the
      data cast to float32, from the same starts (the library's, and the prior draws, cast);
      the end points are cast back, the best start by its float32 loss, and that start's
      loss (``loss``, and its entry of ``losses``) is re-evaluated in the target's own
      precision. The other starts' losses and every gradient norm are the float32 ones.
      bench_map's ``float32`` (``secant`` in float32), rule at b4349da with another job on
      the other core, 500 checked: 10 511 galaxies/min per core at 99.2 % (``secant``
      7 872 at 99.2 %); both cores at once, 21 300/min (``secant`` 12 800).
    lm_polish_steps, lm_polish_jacobian_every, lm_polish_starts: after the LM phases, the
      ``lm_polish_starts`` lowest starts each run ``lm_polish_steps`` more LM steps from a fresh
      Jacobian and damping (a full Jacobian every ``lm_polish_jacobian_every``-th step), and,
      when the target gives ``kinks`` (:class:`~sedjax.inference.backends.Kinks`: the
      metallicity, interpolated linearly in log Z between the SSP grid's), as many again from
      the start with that coordinate snapped to its nearest node and held there; each start
      keeps the lower of the two. A mode on a kink stalls LM (its quadratic model is wrong
      across the kink; one-off check on 11 misses: 100 more full steps left them 0.15-0.43
      below the reference, where L-BFGS from the same point reached it), and with the
      metallicity held at the node the rest is smooth. 0: no polishing. bench_map's
      ``polished`` (``float32`` with 2 prior starts and 12 refinement steps, then 10 polishing
      steps for the best 3), rule at 0873ec3, 1 000 mocks at z = 0.03-1.4, 300 checked against
      20 L-BFGS starts: 99.0 % within 0.1 (worst -0.25) at 5 903 galaxies/min per core, against
      ``float32``'s 94.0 % (worst -2.40) at 11 651; both cores at once 10 132-10 253/min. At the
      model's redshift (500 checked) 99.6 % at 11 065/min per core (``float32`` 99.2 %). A
      one-off harness on the same mocks: the same polish without the snap 96.0 %, the best
      start only 98.3 % (300 checked); ``polished`` 99.0 % of 500.
    n_steps: maximum number of L-BFGS iterations per start.
    memory_size: L-BFGS history length.
    max_linesearch_steps: cap on zoom line-search evaluations per iteration.
    gtol: an L-BFGS start stops early once its gradient norm drops below ``gtol``.
    """

    optimizer: str = "lm"
    n_starts: int = 8
    n_library_starts: int = 4
    lm_steps: int = 30
    n_steps: int = 200
    memory_size: int = 10
    max_linesearch_steps: int = 20
    gtol: float = 1e-8
    lm_screen_steps: int = 0
    lm_keep: int = 2
    lm_geodesic: bool = False
    lm_profile_amplitude: bool = False
    lm_jacobian_every: int = 1
    lm_dtype: str = "float64"
    lm_polish_steps: int = 0
    lm_polish_jacobian_every: int = 1
    lm_polish_starts: int = 1

    def __post_init__(self):
        if self.lm_screen_steps < 0 or self.lm_keep < 1 or self.lm_jacobian_every < 1:
            raise ValueError(f"MAPOpts needs lm_screen_steps >= 0, lm_keep >= 1 and lm_jacobian_every >= 1, got "
                             f"{self.lm_screen_steps}, {self.lm_keep} and {self.lm_jacobian_every}")
        if self.lm_polish_steps < 0 or self.lm_polish_jacobian_every < 1 or self.lm_polish_starts < 1:
            raise ValueError(f"MAPOpts needs lm_polish_steps >= 0, lm_polish_jacobian_every >= 1 and lm_polish_starts "
                             f">= 1, got {self.lm_polish_steps}, {self.lm_polish_jacobian_every} and "
                             f"{self.lm_polish_starts}")
        if self.lm_dtype not in ("float64", "float32"):
            raise ValueError(f"MAPOpts.lm_dtype must be 'float64' or 'float32', got {self.lm_dtype!r}")
        if self.optimizer not in ("lm", "lbfgs"):
            raise ValueError(f"MAPOpts.optimizer must be 'lm' or 'lbfgs', got {self.optimizer!r}")
        if self.n_starts < 0 or self.n_library_starts < 0 or self.n_starts + self.n_library_starts < 1:
            raise ValueError(
                f"MAPOpts needs at least one start: n_starts={self.n_starts}, "
                f"n_library_starts={self.n_library_starts}"
            )


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


def start_positions(key, data, init_fn, opts: MAPOpts, start_fn=None):
    """The starts: ``n_library_starts`` from ``start_fn`` (if given) then ``n_starts`` prior draws."""
    parts = []
    if start_fn is not None and opts.n_library_starts > 0:
        parts.append(start_fn(data, opts.n_library_starts))
    if opts.n_starts > 0 or not parts:
        parts.append(init_many(init_fn, key, max(opts.n_starts, 1)))
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=0)


def _screened_lm(lm, x0, screen_steps: int, keep: int, steps: int):
    """Successive halving: every start ``screen_steps`` LM iterations, the ``keep`` lowest
    ``steps`` more. Per-start outputs (the kept starts' after both phases, the others' after
    screening; ``n_iter`` the accepted steps of both phases)."""
    xs, values, gnorms, n_iters = jax.vmap(lambda x: lm(x, screen_steps))(x0)
    kept = jnp.argsort(jnp.where(jnp.isfinite(values), values, jnp.inf))[:keep]
    x2, v2, g2, n2 = jax.vmap(lambda x: lm(x, steps))(xs[kept])
    return xs.at[kept].set(x2), values.at[kept].set(v2), gnorms.at[kept].set(g2), n_iters.at[kept].add(n2)


def _polished(lm, lm_frozen, kinks, xs, values, gnorms, n_iters, n_best: int):
    """The ``n_best`` lowest starts run again by ``lm`` (from a fresh Jacobian and damping);
    with ``kinks`` (:class:`~sedjax.inference.backends.Kinks`) each also from its point with
    the kinked coordinate snapped to the nearest node and held there (``lm_frozen``), and
    each keeps the lower of its two runs. Per-start outputs, those starts' replaced."""
    order = jnp.argsort(jnp.where(jnp.isfinite(values), values, jnp.inf))[:n_best]
    x0 = xs[order]
    x, v, g, n = jax.vmap(lm)(x0)
    if kinks is not None:
        k, nodes = kinks.index, jnp.asarray(kinks.nodes, x0.dtype)
        snapped = x0.at[:, k].set(nodes[jnp.argmin(jnp.abs(x0[:, k, None] - nodes[None, :]), axis=1)])
        x_k, v_k, g_k, n_k = jax.vmap(lm_frozen)(snapped)
        on_kink = v_k < v
        x = jnp.where(on_kink[:, None], x_k, x)
        v, g, n = jnp.where(on_kink, v_k, v), jnp.where(on_kink, g_k, g), n + n_k
    return xs.at[order].set(x), values.at[order].set(v), gnorms.at[order].set(g), n_iters.at[order].add(n)


def _as_float32(tree):
    """Every floating leaf of ``tree`` cast to float32 (other leaves as they are)."""
    return jax.tree.map(lambda a: a.astype(jnp.float32) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree)


def _lm_fns(opts: MAPOpts, x0, data, logdensity_fn, residual_fn, logprior_fn, linear_amplitude, low_precision):
    """``(x0, data, logdensity_fn, residual_fn, logprior_fn, linear_amplitude)`` for LM: as given,
    or the ``low_precision`` twin's on float32 starts and data (``opts.lm_dtype``)."""
    fns = (logdensity_fn, residual_fn, logprior_fn, linear_amplitude)
    if opts.lm_dtype == "float64" or x0.dtype == jnp.float32:
        return (x0, data) + fns
    if low_precision is None:
        raise ValueError("MAPOpts.lm_dtype='float32' needs the target's low_precision twin (make_target gives one "
                         "for a float64 model); use lm_dtype='float64' for this target")
    lp = low_precision
    return (x0.astype(jnp.float32), _as_float32(data), lp.logdensity_fn, lp.residual_fn, lp.logprior_fn,
            lp.linear_amplitude)


def map_core(key, logdensity_fn, data, init_fn, opts: MAPOpts, *, residual_fn=None, logprior_fn=None, start_fn=None,
             linear_amplitude=None, low_precision=None, kinks=None):
    """Multi-start MAP; returns a dict with the best point and per-start info.

    ``linear_amplitude``: the target's (used when ``opts.lm_profile_amplitude``);
    ``low_precision``: its float32 twin (used when ``opts.lm_dtype`` is "float32");
    ``kinks``: its :class:`~sedjax.inference.backends.Kinks` (used by ``opts.lm_polish_steps``).

    ``n_iter`` is the L-BFGS iteration count per start, or LM's accepted steps.
    """
    x0 = start_positions(key, data, init_fn, opts, start_fn)
    recast = False  # LM ran in float32: the best start's loss is re-evaluated
    if opts.optimizer == "lm":
        x_lm, d_lm, ld_lm, res_lm, lp_lm, la_lm = _lm_fns(opts, x0, data, logdensity_fn, residual_fn, logprior_fn,
                                                          linear_amplitude, low_precision)
        profile = la_lm if opts.lm_profile_amplitude else None

        def lm(x, n_steps, every=opts.lm_jacobian_every, frozen=None):
            return lm_minimize(x, d_lm, ld_lm, res_lm, lp_lm, n_steps=n_steps,
                               geodesic=opts.lm_geodesic, linear_amplitude=profile,
                               jacobian_every=every, frozen=frozen)

        if 0 < opts.lm_screen_steps and opts.lm_keep < x0.shape[0]:
            xs, values, gnorms, n_iters = _screened_lm(lm, x_lm, opts.lm_screen_steps, opts.lm_keep, opts.lm_steps)
        else:
            xs, values, gnorms, n_iters = jax.vmap(lambda x: lm(x, opts.lm_steps))(x_lm)
        if opts.lm_polish_steps > 0:
            n, every = opts.lm_polish_steps, opts.lm_polish_jacobian_every
            frozen = None if kinks is None else kinks.index
            xs, values, gnorms, n_iters = _polished(
                lambda x: lm(x, n, every), lambda x: lm(x, n, every, frozen), kinks, xs, values, gnorms, n_iters,
                min(opts.lm_polish_starts, x0.shape[0]))
        recast = xs.dtype != x0.dtype
        xs, values, gnorms = (a.astype(x0.dtype) for a in (xs, values, gnorms))
    else:
        logp = bind_logdensity(logdensity_fn, data)

        def loss(u):
            return -logp(u)

        def one(x):
            return lbfgs_minimize(loss, x, opts)

        xs, values, gnorms, n_iters = jax.vmap(one)(x0)
    ranked = jnp.where(jnp.isfinite(values), values, jnp.inf)
    best = jnp.argmin(ranked)
    if recast:  # the best of the float32 ranking, its loss in the target's precision
        loss = -logdensity_fn(xs[best], data)
        values = values.at[best].set(jnp.where(jnp.isfinite(loss), loss, jnp.inf))
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


def run_map(key, logdensity_fn, data, init_fn, opts: MAPOpts = MAPOpts(), *, residual_fn=None, logprior_fn=None, start_fn=None,
            linear_amplitude=None, low_precision=None, kinks=None):
    """MAP estimate by multi-start LM (or L-BFGS).

    ``residual_fn``, ``logprior_fn``, ``start_fn``, ``linear_amplitude``, ``low_precision``,
    ``kinks``: the optional :class:`Target` fields (whitened residuals, u-space prior, library
    starts, the separable amplitude, the float32 twin, the metallicity's kinks); the registry
    passes them when the target has them.

    Returns
    -------
    dict with
      samples (1, d): the best point;
      loss (): -logdensity at the best point; logdensity (1,): +logdensity there;
      grad_norm (): gradient norm at the best point;
      losses, grad_norms, n_iter (n_library_starts + n_starts,): per-start final values
        (library starts first);
      n_finite_starts (): number of starts ending at a finite loss;
      start_positions (n_library_starts + n_starts, d): where the starts began;
      spread (): max distance of the finite starts' end points from the best
        (a multimodality hint).
    """
    r = map_core(key, logdensity_fn, data, init_fn, opts, residual_fn=residual_fn, logprior_fn=logprior_fn, start_fn=start_fn,
                 linear_amplitude=linear_amplitude, low_precision=low_precision, kinks=kinks)
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
        "start_positions": r["start_positions"],
        "spread": jnp.max(jnp.where(finite, dist, 0.0)),
    }


# ----------------------------------------------------------------- registry hooks
def status_checks(d, **limits) -> tuple[list[str], list[str]]:
    """MAP's own status checks on one galaxy's diagnostics: ``(failures, warnings)``."""
    fails = [] if all_finite(d.get("loss", 0.0)) else ["non-finite loss"]
    return fails, []


def iterations(opts: MAPOpts) -> int:
    """Sequential iterations of one call (for a per-iteration time). Polishing counts its steps
    once, though with a target's ``kinks`` it runs them twice (as they are, and snapped)."""
    if opts.optimizer == "lm":
        return opts.lm_steps + (opts.lm_screen_steps if opts.lm_screen_steps > 0 else 0) + opts.lm_polish_steps
    return opts.n_steps
