"""The catalogue strategy ("auto"): MAP → importance-sampling triage → whitened HMC for the rest.

Per galaxy (key split once: ``k_is, k_hmc = split(key)``):

1. :func:`stage_is`: the ``is`` backend (:mod:`.importance`: LM MAP, Newton, multivariate-t
   proposal, PSIS). Accepted (k̂ < ``k_max`` and PSIS ESS ≥ ``min_ess``): done, ``path = 0``.
2. :func:`stage_hmc`, only for galaxies IS did not accept: ChEES-tuned jittered HMC in the
   coordinates whitened by IS's covariance (:mod:`.whmc`; ``hmc_kernel="nuts"``: whitened NUTS) from
   IS's mode, ``n_chains`` chains of ``hmc_draws_per_chain`` draws (thinned to
   ``n_samples / n_chains`` each for the result; R-hat and ESS use every draw), ``path = 1``; it
   converged when split R-hat ≤ ``rhat_max`` and bulk ESS ≥ ``min_ess`` (over the sampled
   coordinates), else the galaxy fails with that reason. The fitting layer then computes split
   R-hat and bulk ESS of the physical quantities (mass formed, surviving mass, SFR,
   metallicity, τ_diff: :func:`sedjax.inference.diagnostics.quantity_convergence`) from the
   returned (thinned, chain-ordered) draws, and :func:`status_checks` holds them to the same
   thresholds.

:func:`merge` gives every galaxy the same keys whichever path it took (the other path's
entries NaN, −1 or False). A single fit runs stage 2 under ``lax.cond`` (skipped when IS
accepts); a batch (:class:`sedjax.fitting.program.BatchProgram`) runs stage 1 on the whole
chunk and stage 2 on the rejected galaxies only, with the same keys, so batched == per galaxy.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import nuts as nuts_backend
from ._common import bind_logdensity
from .gaussian import gaussian_from_cov
from .importance import ISOpts, run_is
from .whmc import whitened_chees, whitened_nuts
from sedjax.inference.psis import K_HAT_MAX


@dataclass(frozen=True)
class AutoOpts:
    """Options for the ``auto`` backend.

    n_samples: draws per galaxy on either path (HMC: ``n_chains`` × ``n_samples / n_chains``,
      thinned from ``hmc_draws_per_chain`` per chain, a multiple of ``n_samples / n_chains``).
    n_draws, df, scale, n_newton, n_adapt, min_ess, k_max, n_starts, n_library_starts, lm_steps, n_modes: the IS
      stage (:class:`~sedjax.inference.backends.importance.ISOpts`); ``min_ess`` is also the
      HMC stage's bulk-ESS threshold.
    n_chains, n_warmup, hmc_draws_per_chain, max_num_doublings, target_accept: the HMC stage
      (4 × 1 000 draws: ChEES reaches bulk ESS >= 400 on most galaxies IS rejects).
    hmc_kernel: "chees" (the default: :func:`~sedjax.inference.backends.whmc.whitened_chees`,
      the galaxy's ``n_chains`` chains as ChEES's ensemble, at most ``2**max_num_doublings``
      leapfrog steps per transition, Adam at ``chees_learning_rate``; it aims at acceptance
      0.651) or "nuts" (whitened NUTS, tree depth capped at ``max_num_doublings``, dual
      averaging to ``target_accept``). Rule ``bench_hmc`` on the 22 galaxies of the 1 000-galaxy
      mock that IS rejects: ChEES 4 × 1 000 converged 16 at 0.46 converged galaxies per
      second, NUTS 4 × 500 15 at 0.24 and NUTS 4 × 1 000 21 at 0.19, all with 68/95 %
      coverage within 0.05 of nominal except NUTS 4 × 500 (0.58 at 68 %); ChEES takes
      ~20 gradients per bulk ESS where NUTS takes ~40, and its chains move in step under
      ``vmap`` where NUTS' wait for the longest tree.
    rhat_max: the HMC stage's convergence threshold on split R-hat.
    hmc_batch: galaxies per vmapped HMC call in a catalogue fit (``BatchProgram``). 1 on a CPU:
      every vmapped NUTS step costs the longest trajectory among all its chains (tree depth 6:
      up to 64 leapfrog steps where the mean is ~10), so batching galaxies there multiplies the
      work; raise it on a GPU.
    """

    n_samples: int = 1000
    n_draws: int = 1000
    df: float = 5.0
    scale: float = 1.0
    n_newton: int = 0
    n_adapt: int = 4
    min_ess: float = 400.0
    k_max: float = K_HAT_MAX
    n_starts: int = 2
    n_library_starts: int = 4
    lm_steps: int = 30
    n_modes: int = 3
    n_chains: int = 4
    n_warmup: int = 150
    hmc_draws_per_chain: int = 1000
    max_num_doublings: int = 6
    target_accept: float = 0.8
    rhat_max: float = 1.01
    hmc_batch: int = 1
    hmc_kernel: str = "chees"
    chees_learning_rate: float = 0.025

    def __post_init__(self):
        if self.hmc_kernel not in ("nuts", "chees"):
            raise ValueError(f"AutoOpts.hmc_kernel must be 'nuts' or 'chees', got {self.hmc_kernel!r}")
        if self.n_samples % self.n_chains:
            raise ValueError(f"AutoOpts.n_samples ({self.n_samples}) must be a multiple of n_chains ({self.n_chains})")
        kept = self.n_samples // self.n_chains
        if self.hmc_draws_per_chain % kept:
            raise ValueError(f"AutoOpts.hmc_draws_per_chain ({self.hmc_draws_per_chain}) must be a multiple of "
                             f"n_samples / n_chains ({kept})")

    def is_opts(self) -> ISOpts:
        return ISOpts(n_draws=self.n_draws, n_samples=self.n_samples, df=self.df, scale=self.scale,
                      n_newton=self.n_newton, n_adapt=self.n_adapt, min_ess=self.min_ess, k_max=self.k_max, n_starts=self.n_starts,
                      n_library_starts=self.n_library_starts, lm_steps=self.lm_steps, n_modes=self.n_modes)


# the HMC stage's outputs (NaN / -1 / False on the IS path)
HMC_KEYS = ("rhat", "ess_bulk", "rhat_max", "ess_bulk_min", "n_divergent", "n_transitions", "accept_mean",
            "accept_per_chain", "step_size", "n_leapfrog_mean", "n_leapfrog_warmup_mean", "n_max_treedepth",
            "hmc_converged", "draw_chains", "hmc_rhat_max", "hmc_min_ess")


def stage_is(key, logdensity_fn, data, init_fn, opts: AutoOpts, *, mode_fn, modes_fn=None):
    """Stage 1 (IS triage) of one galaxy (a mixture proposal when ``modes_fn`` is given)."""
    k_is, _ = jax.random.split(key)
    return run_is(k_is, logdensity_fn, data, init_fn, opts.is_opts(), mode_fn=mode_fn, modes_fn=modes_fn)


def stage_hmc(key, logdensity_fn, data, mode, cov, opts: AutoOpts):
    """Stage 2 (whitened NUTS or ChEES-HMC from IS's ``mode`` and Gaussian ``cov``) of one galaxy."""
    _, k_hmc = jax.random.split(key)
    logp, g = bind_logdensity(logdensity_fn, data), gaussian_from_cov(cov)
    if opts.hmc_kernel == "chees":
        out = whitened_chees(k_hmc, logp, mode, g, n_chains=opts.n_chains, n_warmup=opts.n_warmup,
                             n_samples=opts.hmc_draws_per_chain, max_leapfrog_steps=2**opts.max_num_doublings,
                             learning_rate=opts.chees_learning_rate)
    else:
        out = whitened_nuts(k_hmc, logp, mode, g, n_chains=opts.n_chains, n_warmup=opts.n_warmup,
                            n_samples=opts.hmc_draws_per_chain, max_num_doublings=opts.max_num_doublings,
                            target_accept=opts.target_accept)
    out["hmc_converged"] = (out["rhat_max"] <= opts.rhat_max) & (out["ess_bulk_min"] >= opts.min_ess)
    # the thresholds, kept with the fit: status_checks applies them to the physical quantities too
    out["hmc_rhat_max"] = jnp.asarray(opts.rhat_max, mode.dtype)
    out["hmc_min_ess"] = jnp.asarray(opts.min_ess, mode.dtype)
    thin = opts.hmc_draws_per_chain // (opts.n_samples // opts.n_chains)
    d = out["chains"].shape[-1]
    out["samples"] = out["chains"][:, ::thin].reshape(opts.n_samples, d)
    out["logdensity"] = out["logdensity"].reshape(opts.n_chains, -1)[:, ::thin].reshape(opts.n_samples)
    return {k: out[k] for k in ("samples", "logdensity") + HMC_KEYS}


def hmc_output_shapes(opts: AutoOpts, d: int, dtype) -> dict:
    """The shapes and dtypes of :func:`stage_hmc`'s output for ``d`` sampled coordinates,
    written out so a galaxy IS accepted gets its filler without tracing the HMC stage
    (``tests/inference/test_importance_auto.py`` checks them against ``jax.eval_shape``)."""
    f, i, b = jnp.dtype(dtype), jnp.asarray(0).dtype, jnp.dtype(jnp.bool_)
    c = opts.n_chains
    shapes = {"samples": ((opts.n_samples, d), f), "logdensity": ((opts.n_samples,), f), "rhat": ((d,), f),
              "ess_bulk": ((d,), f), "rhat_max": ((), f), "ess_bulk_min": ((), f), "n_divergent": ((), i),
              "n_transitions": ((), i), "accept_mean": ((), f), "accept_per_chain": ((c,), f), "step_size": ((c,), f),
              "n_leapfrog_mean": ((), f), "n_leapfrog_warmup_mean": ((), f), "n_max_treedepth": ((), i),
              "hmc_converged": ((), b), "draw_chains": ((), i), "hmc_rhat_max": ((), f), "hmc_min_ess": ((), f)}
    return {k: jax.ShapeDtypeStruct(*v) for k, v in shapes.items()}


def hmc_filler(shapes):
    """The HMC stage's outputs for a galaxy that did not run it (``shapes``: :func:`hmc_output_shapes`)."""
    def fill(s):
        if s.dtype == jnp.bool_:
            return jnp.zeros(s.shape, s.dtype)
        if jnp.issubdtype(s.dtype, jnp.integer):
            return jnp.full(s.shape, -1, s.dtype)
        return jnp.full(s.shape, jnp.nan, s.dtype)

    return jax.tree_util.tree_map(fill, shapes)


def merge(is_out, hmc_out):
    """One galaxy's result: IS's draws when accepted, else HMC's; both stages' diagnostics."""
    acc = is_out["is_accepted"]
    out = dict(is_out)
    out.update({k: hmc_out[k] for k in HMC_KEYS})
    out["samples"] = jnp.where(acc, is_out["samples"], hmc_out["samples"])
    out["logdensity"] = jnp.where(acc, is_out["logdensity"], hmc_out["logdensity"])
    out["path"] = jnp.where(acc, 0, 1)
    return out


def run_auto(key, logdensity_fn, data, init_fn, opts: AutoOpts = AutoOpts(), *, mode_fn, modes_fn=None):
    """One galaxy through both stages (stage 2 under ``lax.cond``: skipped when IS accepts).

    Returns the IS keys (:func:`~sedjax.inference.backends.importance.run_is`), the HMC
    keys :data:`HMC_KEYS` and ``path`` (0: IS, 1: HMC).
    """
    a = stage_is(key, logdensity_fn, data, init_fn, opts, mode_fn=mode_fn, modes_fn=modes_fn)

    def hmc():
        return stage_hmc(key, logdensity_fn, data, a["mode"], a["cov"], opts)

    h = jax.lax.cond(a["is_accepted"], lambda: hmc_filler(hmc_output_shapes(opts, a["mode"].shape[0], a["mode"].dtype)),
                     hmc)
    return merge(a, h)


# ----------------------------------------------------------------- registry hooks
def status_checks(d, *, rhat_max: float | None = None, max_divergence_frac: float | None = None, **limits):
    """IS path: ok (IS accepted it). HMC path: fails unless converged (R-hat and ESS at the
    options' thresholds, on the sampled coordinates and, when the fitting layer has added
    them, on the physical quantities), plus NUTS's own checks (zero acceptance, divergences)."""
    path = int(np.asarray(d.get("path", 0)))
    if path == 0:
        return [], []
    fails, warns = nuts_backend.status_checks(d, max_divergence_frac=max_divergence_frac)
    if "hmc_converged" in d and not bool(np.asarray(d["hmc_converged"])):
        fails.append(f"HMC not converged: R-hat {float(np.asarray(d['rhat_max'])):.3f}, "
                     f"bulk ESS {float(np.asarray(d['ess_bulk_min'])):.0f}")
    elif "rhat_quantities_max" in d and "hmc_rhat_max" in d:
        r, e = float(np.asarray(d["rhat_quantities_max"])), float(np.asarray(d["ess_quantities_min"]))
        if not (r <= float(np.asarray(d["hmc_rhat_max"])) and e >= float(np.asarray(d["hmc_min_ess"]))):
            fails.append(f"HMC not converged on the physical quantities: R-hat {r:.3f}, bulk ESS {e:.0f}")
    k = float(np.asarray(d.get("k_hat", np.nan)))
    warns.append(f"IS rejected (k-hat {k:.2f}, ESS {float(np.asarray(d.get('psis_ess', np.nan))):.0f}): HMC path")
    return fails, warns


def iterations(opts: AutoOpts) -> int | None:
    """No fixed count (the HMC stage runs for some galaxies only)."""
    return None
