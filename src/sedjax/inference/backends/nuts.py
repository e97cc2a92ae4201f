"""NUTS backend: per-chain Stan-style window adaptation + blackjax.nuts, or the whitened warm-up.

``warmup="window"``: blackjax's window adaptation (step size and mass matrix) per chain from
prior draws. ``warmup="map"``: the MAP stage (``mode_fn``), the Laplace covariance there as
the dense metric, chains started from that Gaussian and the step size adapted only
(:mod:`sedjax.inference.backends.whmc`).
"""

from __future__ import annotations

from dataclasses import dataclass

import blackjax
import jax
import numpy as np
from blackjax.adaptation.base import get_filter_adapt_info_fn

from .. import diagnostics as diag
from ._common import bind_logdensity, init_many
from .map import MAPOpts
from .nuts_draws import draw_chains
from .whmc import whitened_nuts


@dataclass(frozen=True)
class NUTSOpts:
    """Options for :func:`run_nuts`.

    n_chains: independent chains (vmapped), each with its own adaptation.
    n_warmup: window-adaptation steps per chain (step size + mass matrix).
    n_samples: kept draws per chain.
    target_accept: dual-averaging target acceptance rate.
    max_num_doublings: NUTS maximum tree depth.
    dense_mass: adapt a dense (True) or diagonal (False) inverse mass matrix (window warm-up).
    warmup: "window" (Stan-style adaptation from prior draws) or "map" (whitened: Laplace
      metric at the MAP, step size only; needs the target's MAP stage).
    """

    n_chains: int = 4
    n_warmup: int = 500
    n_samples: int = 1000
    target_accept: float = 0.8
    max_num_doublings: int = 10
    dense_mass: bool = True
    warmup: str = "window"

    def __post_init__(self):
        if self.warmup not in ("window", "map"):
            raise ValueError(f"NUTSOpts.warmup must be 'window' or 'map', got {self.warmup!r}")


# the MAP stage of the whitened warm-up
WHITENED_MAP_OPTS = MAPOpts(optimizer="lm", n_starts=2, n_library_starts=4, lm_steps=30)


def run_nuts(key, logdensity_fn, data, init_fn, opts: NUTSOpts = NUTSOpts(), *, mode_fn=None):
    """Multi-chain NUTS.

    Returns
    -------
    dict with
      samples (n_chains * n_samples, d): chain-stacked draws (chain-major);
      chains (n_chains, n_samples, d): the same draws, per chain;
      logdensity (n_chains * n_samples,): log density at the draws;
      rhat (d,), ess_bulk (d,): rank-normalised split R-hat and bulk ESS;
      rhat_max, ess_bulk_min (): their worst values;
      n_divergent () int, divergent_per_chain (n_chains,) int, n_transitions ();
      accept_mean (), accept_per_chain (n_chains,);
      step_size (n_chains,): adapted step sizes;
      n_leapfrog_mean (): mean integration steps per draw;
      n_max_treedepth (): draws that hit ``max_num_doublings``;
      with ``warmup="map"`` also mode (d,), hessian_posdef (), n_leapfrog_warmup_mean ().
    """
    logp = bind_logdensity(logdensity_fn, data)
    if opts.warmup == "map":
        if mode_fn is None:
            raise ValueError("NUTS warmup='map' needs the target's MAP stage (mode_fn)")
        map_key, key = jax.random.split(key)
        mode, _, gauss = mode_fn(map_key, data, WHITENED_MAP_OPTS)
        return whitened_nuts(key, logp, mode, gauss, n_chains=opts.n_chains, n_warmup=opts.n_warmup,
                             n_samples=opts.n_samples, max_num_doublings=opts.max_num_doublings,
                             target_accept=opts.target_accept)
    init_key, warm_key, sample_key = jax.random.split(key, 3)
    n = opts.n_chains
    u0 = init_many(init_fn, init_key, n)

    warmup = blackjax.window_adaptation(
        blackjax.nuts,
        logp,
        is_mass_matrix_diagonal=not opts.dense_mass,
        target_acceptance_rate=opts.target_accept,
        adaptation_info_fn=get_filter_adapt_info_fn(),
        max_num_doublings=opts.max_num_doublings,
    )

    def warm_one(k, u):
        (state, params), _ = warmup.run(k, u, num_steps=opts.n_warmup)
        return state, params["step_size"], params["inverse_mass_matrix"]

    states, step_sizes, imms = jax.vmap(warm_one)(jax.random.split(warm_key, n), u0)

    return draw_chains(sample_key, logp, states, step_sizes, imms, opts.n_samples, opts.max_num_doublings)


# ----------------------------------------------------------------- registry hooks
def status_checks(d, *, rhat_max: float = diag.RHAT_MAX, max_divergence_frac: float | None = None, **limits):
    """NUTS's own status checks on one galaxy's diagnostics: ``(failures, warnings)``.

    Zero acceptance (overall or in some chain) and ``max(rhat) > rhat_max`` (on the sampled
    coordinates, or on the physical quantities when ``rhat_quantities_max`` is there) fail;
    divergent transitions fail when their fraction exceeds ``max_divergence_frac``
    (when given), otherwise they only warn.
    """
    fails: list[str] = []
    warns: list[str] = []
    acc = np.asarray(d.get("accept_mean", 1.0))
    if np.any(~np.isfinite(acc)) or np.any(acc <= 0.0):
        fails.append("zero acceptance")
    if "accept_per_chain" in d and np.any(np.asarray(d["accept_per_chain"]) <= 0.0):
        if "zero acceptance" not in fails:
            fails.append("zero acceptance in some chain")
    if "rhat" in d:
        r = np.asarray(d["rhat"])
        rmax = float(np.max(r)) if r.size else np.nan
        if not np.isfinite(rmax) or rmax > rhat_max:
            fails.append(f"R-hat {rmax:.3f} > {rhat_max}")
    if "rhat_quantities_max" in d:  # the physical quantities' (added by the fitting layer)
        rq = float(np.asarray(d["rhat_quantities_max"]))
        if np.isfinite(rq) and rq > rhat_max:
            fails.append(f"R-hat of the physical quantities {rq:.3f} > {rhat_max}")
    ndiv = int(np.asarray(d.get("n_divergent", 0)))
    if ndiv > 0:
        n_tot = int(np.asarray(d.get("n_transitions", 0))) or None
        frac = ndiv / n_tot if n_tot else np.nan
        msg = f"{ndiv} divergent transitions"
        if max_divergence_frac is not None and (not np.isfinite(frac) or frac > max_divergence_frac):
            fails.append(msg)
        else:
            warns.append("warning: " + msg)
    return fails, warns


def iterations(opts: NUTSOpts) -> int:
    """Sequential iterations of one call: warmup + sampling (all chains advance together)."""
    return opts.n_warmup + opts.n_samples
