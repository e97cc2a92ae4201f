"""Pareto-smoothed importance sampling (PSIS): k-hat and effective sample size, in JAX.

Vehtari, Simpson, Gelman, Yao & Gabry (2024, JMLR 25, 72), "Pareto smoothed importance
sampling": the largest ``M = ceil(min(0.2 S, 3 sqrt(S / r_eff)))`` of ``S`` importance
ratios are replaced by the expected order statistics of a generalized Pareto distribution
(GPD) fitted to them (Zhang & Stephens 2009, with the weakly informative prior on k of
Vehtari et al.), the weights are truncated at the largest raw weight and normalised.
The shape estimate ``k_hat`` says whether the proposal's draws can be trusted:
``k_hat < 0.5`` good, ``< 0.7`` usable, ``> 0.7`` not (:data:`K_HAT_MAX`).

This is a transcription of ArviZ 0.x's ``psislw`` / ``_gpdfit`` / ``_gpinv`` (the
reference implementation of the paper's authors) into JAX with static shapes, so the
Laplace, Pathfinder and VI backends compute it per galaxy inside their compiled, vmapped
programs (a NumPy library cannot run there, and importing ArviZ costs seconds per job).
``tests/inference/test_psis.py`` checks it against GPD draws of known shape.

Conventions: non-finite (NaN, -inf) log ratios count as zero weight. A flat tail (every
tail weight within a relative :data:`FLAT_TAIL_RTOL` of the largest: the proposal is the
target there, up to roundoff, whose quantised noise a GPD fit would misread) gets
``k_hat = -inf`` and no smoothing; a tail with a zero weight in it (fewer than ``M`` non-zero weights in
all) gives ``k_hat = +inf`` and no smoothing (ArviZ fits the shorter tail instead).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

K_HAT_MAX = 0.7  # above this the importance weights (and the draws) are not trustworthy
FLAT_TAIL_RTOL = 1e-6  # tail weights equal to this relative precision count as flat
_PRIOR_BS = 3.0
_PRIOR_K = 10.0


def tail_length(n_draws: int, r_eff: float = 1.0) -> int:
    """The number ``M`` of largest ratios fitted by the GPD (static, from ``n_draws``)."""
    return int(math.ceil(min(0.2 * n_draws, 3.0 * math.sqrt(n_draws / r_eff))))


def gpd_fit(x_sorted):
    """GPD ``(k, sigma)`` of ascending positive exceedances (Zhang & Stephens 2009 + prior)."""
    x = jnp.asarray(x_sorted)
    n = x.shape[0]
    m_est = 30 + int(n**0.5)
    b = 1.0 - jnp.sqrt(m_est / (jnp.arange(1, m_est + 1, dtype=x.dtype) - 0.5))
    b = b / (_PRIOR_BS * x[int(n / 4 + 0.5) - 1]) + 1.0 / x[-1]
    k_ary = jnp.mean(jnp.log1p(-b[:, None] * x[None, :]), axis=1)
    len_scale = n * (jnp.log(-(b / k_ary)) - k_ary - 1.0)
    weights = 1.0 / jnp.sum(jnp.exp(len_scale[None, :] - len_scale[:, None]), axis=1)
    weights = jnp.where(weights >= 10 * jnp.finfo(x.dtype).eps, weights, 0.0)
    weights = weights / jnp.sum(weights)
    b_post = jnp.sum(b * weights)
    k_post = jnp.mean(jnp.log1p(-b_post * x))
    sigma = -k_post / b_post
    k_post = (n * k_post + _PRIOR_K * 0.5) / (n + _PRIOR_K)
    return k_post, sigma


def gpd_quantile(probs, k, sigma):
    """Inverse CDF of the GPD(k, sigma) at ``probs`` in (0, 1)."""
    small = jnp.abs(k) < jnp.finfo(probs.dtype).eps
    k_safe = jnp.where(small, 1.0, k)
    x = jnp.where(small, -jnp.log1p(-probs), jnp.expm1(-k_safe * jnp.log1p(-probs)) / k_safe)
    return jnp.where(sigma > 0, x * sigma, jnp.nan)


def psis(log_ratios, r_eff: float = 1.0):
    """PSIS of one set of log importance ratios ``(S,)``.

    Returns
    -------
    dict with
      log_weights (S,): smoothed, truncated, normalised log weights (logsumexp = 0);
      k_hat (): the GPD shape of the tail;
      ess (): ``1 / sum(w**2)`` of the smoothed weights (the PSIS effective sample size).
    """
    lw = jnp.asarray(log_ratios)
    if lw.ndim != 1:
        raise ValueError(f"log_ratios must be one-dimensional (S,), got shape {lw.shape}")
    n = lw.shape[0]
    m = tail_length(n, r_eff)
    if m + 1 >= n:
        raise ValueError(f"PSIS needs more draws: {n} draws leave no body below a {m}-draw tail")
    lw = jnp.where(jnp.isnan(lw) | (lw == -jnp.inf), -jnp.inf, lw)
    lw = lw - jnp.max(lw)
    order = jnp.argsort(lw)  # ascending; -inf first
    srt = lw[order]
    tail_idx = order[n - m :]
    cutoff = jnp.maximum(srt[n - m - 1], jnp.log(jnp.finfo(lw.dtype).tiny))
    exp_cut = jnp.exp(cutoff)
    tail = srt[n - m :]
    x_tail = jnp.exp(tail) - exp_cut
    n_finite_tail = jnp.sum(tail > cutoff)
    flat = x_tail[-1] <= FLAT_TAIL_RTOL  # lw max is 0: x_tail[-1] = 1 - exp(cutoff)
    k, sigma = gpd_fit(jnp.where(flat, 1.0, x_tail))
    probs = (jnp.arange(m, dtype=lw.dtype) + 0.5) / m
    smoothed = jnp.log(gpd_quantile(probs, k, sigma) + exp_cut)
    smooth_ok = jnp.isfinite(k) & ~flat & (n_finite_tail == m)
    new_tail = jnp.where(smooth_ok, smoothed, tail)
    lw = lw.at[tail_idx].set(new_tail)
    lw = jnp.minimum(lw, 0.0)  # truncate at the largest raw ratio
    lw = lw - jax.scipy.special.logsumexp(lw)
    k = jnp.where(flat, -jnp.inf, jnp.where(n_finite_tail == m, k, jnp.inf))
    ess = 1.0 / jnp.sum(jnp.exp(2.0 * lw))
    return {"log_weights": lw, "k_hat": k, "ess": ess}


def psis_diagnostics(log_ratios, r_eff: float = 1.0) -> dict:
    """``{"k_hat", "psis_ess"}`` of :func:`psis`: the scalars a backend stores per galaxy."""
    out = psis(log_ratios, r_eff)
    return {"k_hat": out["k_hat"], "psis_ess": out["ess"]}


def k_hat_check(d, k_max: float = K_HAT_MAX) -> list[str]:
    """The failure (a one-item list) when ``d["k_hat"]`` exceeds ``k_max``; ``[]`` otherwise.

    NaN k-hat (no finite draws) fails too; a missing key is not checked.
    """
    if "k_hat" not in d:
        return []
    k = float(np.asarray(d["k_hat"]).reshape(()))
    if np.isnan(k):
        return ["PSIS k-hat is NaN: the importance ratios are not finite"]
    if k > k_max:
        return [f"PSIS k-hat {k:.2f} > {k_max}: draws not trustworthy"]
    return []
