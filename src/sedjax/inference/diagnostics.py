"""Convergence diagnostics (pure JAX, jit/vmap safe) and the fit-status policy.

* :func:`split_rhat` -- split R-hat.  ``rank_normalize=True`` (default) is the
  rank-normalised, folded split R-hat of Vehtari et al. (2021) (``max`` of the
  bulk and folded-tail values; ``blackjax.diagnostics.rhat``);
  ``rank_normalize=False`` is the classic split R-hat of Gelman et al. (BDA3).
* :func:`ess_bulk` -- bulk ESS (rank-normalised split chains, Vehtari et al.
  2021; ``blackjax.diagnostics.ess_bulk``).
* :func:`ess_basic` -- plain multi-chain ESS (Geyer initial monotone sequence).

All take chains laid out ``(n_chains, n_draws, d)`` and return ``(d,)``; they use
only sorts, FFTs and scans with static shapes, so they work inside ``jax.jit`` and
``jax.vmap`` (the NUTS backend computes them per galaxy inside the compiled run).

:func:`assess_status` is the Python-level policy turning a backend's raw output
into ``("ok" | "failed", reason)``.
"""

from __future__ import annotations

from typing import Mapping

import jax.numpy as jnp
import numpy as np
from blackjax import diagnostics as _bjd

RHAT_MAX = 1.1


def _check_chains(x):
    x = jnp.asarray(x)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise ValueError(f"chains must be (n_chains, n_draws[, d]), got {x.shape}")
    if x.shape[0] < 1 or x.shape[1] < 4:
        raise ValueError(f"need >= 1 chain and >= 4 draws, got {x.shape}")
    return x


def split_rhat(chains, rank_normalize: bool = True):
    """Split R-hat per parameter; ``chains`` is ``(n_chains, n_draws, d)`` -> ``(d,)``
    (a 2-D ``(n_chains, n_draws)`` input is treated as d = 1).

    Works with a single chain (splitting gives two halves).
    """
    x = _check_chains(chains)
    if rank_normalize:
        r = _bjd.rhat(x, chain_axis=0, sample_axis=1)
    else:
        r = _bjd.potential_scale_reduction(_bjd._split_chains(x), chain_axis=0, sample_axis=1)
    return jnp.reshape(r, x.shape[2:])


def ess_bulk(chains):
    """Bulk effective sample size per parameter (rank-normalised split chains)."""
    x = _check_chains(chains)
    return jnp.reshape(_bjd.ess_bulk(x, chain_axis=0, sample_axis=1), x.shape[2:])


def ess_basic(chains):
    """Multi-chain ESS of the raw draws (no split, no rank normalisation)."""
    x = _check_chains(chains)
    return jnp.reshape(_bjd.effective_sample_size(x, chain_axis=0, sample_axis=1), x.shape[2:])


# ---------------------------------------------------------------------------
# status policy
# ---------------------------------------------------------------------------


def _arr(x):
    return np.asarray(x)


def _all_finite(x) -> bool:
    a = _arr(x)
    if a.dtype == bool or a.size == 0:
        return True
    return bool(np.all(np.isfinite(a)))


def _samples_finite(samples) -> bool:
    if isinstance(samples, Mapping):
        return all(_all_finite(v) for v in samples.values())
    return _all_finite(samples)


def assess_status(
    backend: str,
    diagnostics: Mapping,
    samples,
    *,
    rhat_max: float = RHAT_MAX,
    max_divergence_frac: float | None = None,
) -> tuple[str, str]:
    """Decide whether one fit is usable.

    Parameters
    ----------
    backend : registry name ("map", "laplace", "pathfinder", "nuts", "vi", "ns").
    diagnostics : the backend's diagnostic arrays for ONE galaxy (the raw output
      dict minus ``samples`` is fine; extra keys are ignored).
    samples : ``(n, d)`` array or ``{name: (n,)}`` dict of posterior draws.
    rhat_max : NUTS fails if ``max(rhat) > rhat_max`` (default 1.1).
    max_divergence_frac : if given, NUTS fails when the fraction of divergent
      transitions exceeds it; otherwise divergences only produce a warning.

    Returns
    -------
    (status, reason): status is "ok" or "failed"; reason lists every failed check
    ("; "-separated), or warnings for an ok fit, or "" when clean.
    """
    d = diagnostics
    fails: list[str] = []
    warns: list[str] = []

    if not _samples_finite(samples):
        fails.append("non-finite samples")
    if "logdensity" in d and not _all_finite(d["logdensity"]):
        fails.append("non-finite log density")

    if backend == "map":
        if not _all_finite(d.get("loss", 0.0)):
            fails.append("non-finite loss")
    elif backend == "laplace":
        if "hessian_posdef" in d and not bool(_arr(d["hessian_posdef"])):
            fails.append(
                f"Hessian not positive definite (min eigenvalue "
                f"{float(_arr(d.get('hessian_min_eig', np.nan))):.3g})"
            )
        if not _all_finite(d.get("loss", 0.0)):
            fails.append("non-finite loss")
    elif backend == "pathfinder":
        if not _all_finite(d.get("elbo", 0.0)):
            fails.append("non-finite ELBO")
    elif backend == "vi":
        # -inf trace entries can be draws outside a bounded support early on;
        # NaN anywhere, or a non-finite final ELBO, means the fit broke.
        trace = _arr(d.get("elbo_trace", 0.0))
        if np.any(np.isnan(trace)) or not _all_finite(d.get("elbo", 0.0)):
            fails.append("non-finite ELBO")
    elif backend == "nuts":
        acc = _arr(d.get("accept_mean", 1.0))
        if np.any(~np.isfinite(acc)) or np.any(acc <= 0.0):
            fails.append("zero acceptance")
        if "accept_per_chain" in d and np.any(_arr(d["accept_per_chain"]) <= 0.0):
            if "zero acceptance" not in fails:
                fails.append("zero acceptance in some chain")
        if "rhat" in d:
            r = _arr(d["rhat"])
            rmax = float(np.max(r)) if r.size else np.nan
            if not np.isfinite(rmax) or rmax > rhat_max:
                fails.append(f"R-hat {rmax:.3f} > {rhat_max}")
        ndiv = int(_arr(d.get("n_divergent", 0)))
        if ndiv > 0:
            n_tot = int(_arr(d.get("n_transitions", 0))) or None
            frac = ndiv / n_tot if n_tot else np.nan
            msg = f"{ndiv} divergent transitions"
            if max_divergence_frac is not None and (not np.isfinite(frac) or frac > max_divergence_frac):
                fails.append(msg)
            else:
                warns.append("warning: " + msg)
    elif backend == "ns":
        for k in ("logZ", "logZ_err"):
            if k in d and not _all_finite(d[k]):
                fails.append(f"non-finite {k}")
        if "converged" in d and not bool(_arr(d["converged"])):
            fails.append("nested sampling hit max_steps before converging")

    if fails:
        return "failed", "; ".join(fails)
    return "ok", "; ".join(warns)
