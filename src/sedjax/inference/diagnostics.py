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

:func:`quantity_convergence`: split R-hat and bulk ESS of the physical quantities a user
reads (:data:`CONVERGENCE_QUANTITIES`: mass formed, surviving mass, SFR, metallicity, τ_diff)
from a batch of chain-ordered draws, after the physical and derived draws exist (the sampled
coordinates' R-hat says nothing about a derived quantity's).

:func:`all_finite` / :func:`samples_finite` are the NumPy checks the status policy
(:mod:`sedjax.inference.status`) and each backend's ``status_checks`` use.
"""

from __future__ import annotations

from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from blackjax import diagnostics as _bjd

RHAT_MAX = 1.1
# the quantities whose convergence a chain-based fit is judged on (those present in a fit)
CONVERGENCE_QUANTITIES = ("log_mass_formed", "log_mass_surviving", "sfr_100myr", "met_logzsol", "dust_tau_diff")


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


@jax.jit
def _rhat_ess_batch(x):  # (G, n_chains, n_draws, k) -> (G, k), (G, k)
    return jax.vmap(lambda c: (split_rhat(c), ess_bulk(c)))(x)


def quantity_convergence(draws: Mapping[str, np.ndarray], n_chains) -> dict[str, np.ndarray]:
    """Split R-hat and bulk ESS of :data:`CONVERGENCE_QUANTITIES` for a batch of galaxies.

    ``draws``: ``{name: (G, n)}`` physical or derived draws (the names not present are
    skipped); ``n_chains`` (G,) int: how many chains each galaxy's draws hold, chain-major
    (``n_draws = n / n_chains`` consecutive draws per chain); 0 or less: the draws are not
    chains (importance sampling, a variational fit), and the galaxy gets NaN.

    Returns ``{"rhat_quantities_max": (G,), "ess_quantities_min": (G,)}``: the worst R-hat and
    the smallest bulk ESS over the quantities (NaN where a galaxy's draws are not chains or
    not finite).
    """
    names = [q for q in CONVERGENCE_QUANTITIES if q in draws]
    n_chains = np.asarray(n_chains, dtype=np.int64).reshape(-1)
    g = n_chains.size
    out = {"rhat_quantities_max": np.full(g, np.nan), "ess_quantities_min": np.full(g, np.nan)}
    if not names:
        return out
    x = np.stack([np.asarray(draws[q], dtype=np.float64) for q in names], axis=-1)  # (G, n, k)
    for c in np.unique(n_chains[n_chains > 0]):
        idx = np.flatnonzero((n_chains == c) & np.all(np.isfinite(x), axis=(1, 2)))
        if idx.size == 0 or x.shape[1] % c or x.shape[1] // c < 4:
            continue
        chains = x[idx].reshape(idx.size, int(c), x.shape[1] // int(c), len(names))
        rhat, ess = (np.asarray(a) for a in _rhat_ess_batch(chains))
        out["rhat_quantities_max"][idx] = np.max(rhat, axis=1)
        out["ess_quantities_min"][idx] = np.min(ess, axis=1)
    return out


# ---------------------------------------------------------------------------
# finiteness checks shared by the status policy (sedjax.inference.status) and the
# backends' own status checks
# ---------------------------------------------------------------------------


def all_finite(x) -> bool:
    """True when every entry of ``x`` is finite (booleans and empty arrays count as finite)."""
    a = np.asarray(x)
    if a.dtype == bool or a.size == 0:
        return True
    return bool(np.all(np.isfinite(a)))


def samples_finite(samples) -> bool:
    """:func:`all_finite` of an array of draws or of every column of a ``{name: draws}`` dict."""
    if isinstance(samples, Mapping):
        return all(all_finite(v) for v in samples.values())
    return all_finite(samples)
