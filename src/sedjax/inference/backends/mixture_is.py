"""Importance sampling with a mixture proposal: one multivariate-t per distinct mode.

Used by the ``is`` backend (and ``auto``'s first stage) when the target says its posterior may
have several separated modes (``Target.multimodal``: a free redshift, where a Balmer break and a
Lyman break, or the 4000 Å break and a dusty continuum, fit the same colours at different z).
The single-t proposal of :mod:`.importance` sits on one mode: PSIS can accept it while the other
mode's mass is never drawn, a silent collapse onto one redshift.

Per galaxy:

1. the MAP stage's every endpoint (``modes_fn``: multi-start LM from the library's starts,
   which for a free redshift are the best entries of distinct local minima of the coarse
   χ²(z) profile, :func:`sedjax.inference.library.library_starts`) with its Gauss–Newton
   Gaussian;
2. distinct modes: the endpoints sorted by log density, an endpoint kept when it is within
   ``DELTA_LOGP`` of the best and its Mahalanobis distance² to every kept one (under that one's
   covariance) exceeds ``DUPLICATE_MAHA2_PER_DIM`` × d; at most ``n_modes`` components;
3. a mixture of multivariate t's, weights from each mode's Laplace evidence
   ``p(mode) |Σ|^{1/2}``; adaptive rounds (as :mod:`.importance`) refit each component to the
   PSIS-weighted draws it is responsible for (the EM step of mixture population Monte Carlo,
   Cappé et al. 2008), with a defensive floor ``MIN_COMPONENT_WEIGHT`` on each component's
   proposal weight so that no mode is dropped on the strength of a few early draws. Every
   draw is weighted against the equal mixture of all the rounds' proposals (deterministic
   mixture), so the posterior mass of each mode comes from the exact density, not from the
   Laplace weights.

The outputs are those of :func:`~sedjax.inference.backends.importance.run_is`, plus
``n_modes`` (distinct modes found) and ``mode_mass`` (M,): each component's share of the
importance weights under the last round's proposal (0 for unused components).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._common import bind_logdensity
from .gaussian import gaussian_from_cov, t_logpdf
from .importance_weights import MIN_ESS_FOR_COV, systematic_resample, weighted_moments
from sedjax.inference.psis import psis

DELTA_LOGP = 15.0
"""Endpoints more than this below the best in log density are not modes worth a component
(a Laplace mass ratio of ~3e-7 at equal widths)."""
DUPLICATE_MAHA2_PER_DIM = 4.0
"""Endpoints closer than this × d (Mahalanobis distance², under the kept one's covariance)
are the same mode."""
MIN_COMPONENT_WEIGHT = 0.1
"""Each distinct mode keeps at least this share (divided by their number) of the proposal."""
DRAW_BATCH = 100
"""Draws whose log density is evaluated at once (``lax.map`` batches): each evaluation at a free
redshift reads its own interpolated tables (~0.4 MB for 8 bands), so a chunk of galaxies vmapped
over all its draws at once would hold gigabytes."""


def distinct_modes(ends, log_dens, covs_sqrt, log_dets, n_modes: int):
    """``(index (M,), valid (M,))``: the endpoints that are distinct modes, best first.

    ``ends`` (S, d), ``log_dens`` (S,) the sampled density at each (-inf: failed), ``covs_sqrt``
    (S, d, d), ``log_dets`` (S,); ``M = min(n_modes, S)``; ``valid`` is False for padding.
    """
    s, d = ends.shape
    lp = jnp.where(jnp.isfinite(log_dens), log_dens, -jnp.inf)
    order = jnp.argsort(-lp)
    best = lp[order[0]]
    kept = jnp.zeros((s,), bool)
    for r in range(s):  # S is small (the MAP starts): a static greedy pass
        j = order[r]
        diff = ends[j][None, :] - ends[order]  # (S, d) against every endpoint, masked to the kept
        y = jax.vmap(jnp.linalg.solve)(covs_sqrt[order], diff)
        maha2 = jnp.sum(y * y, axis=-1)
        dup = jnp.any(kept & (maha2 <= DUPLICATE_MAHA2_PER_DIM * d))
        ok = jnp.isfinite(lp[j]) & (lp[j] >= best - DELTA_LOGP) & ~dup
        kept = kept.at[r].set(ok)
    m = min(int(n_modes), s)
    rank = jnp.argsort(~kept, stable=True)[:m]  # kept positions first, in density order
    return order[rank], kept[rank]


def _mixture_logq(x, log_pis, mus, sqrts, log_dets, df):
    """log of the mixture density at ``x`` (n, d): components (M,), ``log_pis`` -inf where unused."""
    logq = jax.vmap(lambda mu, sq, ld: t_logpdf(x, mu, sq, ld, df))(mus, sqrts, log_dets)  # (M, n)
    # an unused component (log_pi -inf) adds nothing, even where its padding gives a NaN density
    terms = jnp.where(jnp.isfinite(log_pis)[:, None], log_pis[:, None] + logq, -jnp.inf)
    return logq, jax.scipy.special.logsumexp(terms, axis=0)


def _mixture_draws(key, log_pis, mus, sqrts, df, n):
    kc, kz, kw = jax.random.split(key, 3)
    c = jax.random.categorical(kc, log_pis, shape=(n,))
    d = mus.shape[-1]
    z = jax.random.normal(kz, (n, d), dtype=mus.dtype)
    w = 2.0 * jax.random.gamma(kw, df / 2.0, (n,), dtype=mus.dtype) / df
    y = z / jnp.sqrt(w)[:, None]
    return mus[c] + jnp.einsum("nij,nj->ni", sqrts[c], y)


def _floored(log_pis, valid):
    """Proposal weights with the defensive floor on every valid component, renormalised."""
    p = jnp.where(valid, jnp.exp(log_pis - jax.scipy.special.logsumexp(jnp.where(valid, log_pis, -jnp.inf))), 0.0)
    n_valid = jnp.maximum(jnp.sum(valid), 1)
    p = jnp.where(valid, jnp.maximum(p, MIN_COMPONENT_WEIGHT / n_valid), 0.0)
    return jnp.log(p / jnp.sum(p))


def run_mixture_is(key, logdensity_fn, data, opts, *, modes_fn):
    """Mixture importance sampling (module docstring); ``opts`` an ``ISOpts``
    (:mod:`.importance`)."""
    map_key, draw_key, pick_key = jax.random.split(key, 3)
    ends, map_losses, g = modes_fn(map_key, data, opts.map_opts())
    logp = bind_logdensity(logdensity_fn, data)
    lp_end = jax.vmap(logp)(ends)
    idx, valid = distinct_modes(ends, lp_end, g["sqrt_cov"], g["log_det_cov"], opts.n_modes)
    m, d, n, n_rounds = idx.shape[0], ends.shape[1], opts.n_draws, 1 + opts.n_adapt
    log_det_scale = 2 * d * jnp.log(opts.scale)
    mus0, sq0 = ends[idx], opts.scale * g["sqrt_cov"][idx]
    ld0 = g["log_det_cov"][idx] + log_det_scale
    log_pi0 = _floored(jnp.where(valid, lp_end[idx] + 0.5 * g["log_det_cov"][idx], -jnp.inf), valid)
    mus = jnp.zeros((n_rounds, m, d), ends.dtype).at[0].set(mus0)
    sqrts = jnp.zeros((n_rounds, m, d, d), ends.dtype).at[0].set(sq0)
    log_dets = jnp.zeros((n_rounds, m), ends.dtype).at[0].set(ld0)
    log_pis = jnp.full((n_rounds, m), -jnp.inf, ends.dtype).at[0].set(log_pi0)
    xs = jnp.zeros((n_rounds, n, d), ends.dtype)
    lps = jnp.full((n_rounds, n), -jnp.inf, ends.dtype)

    def log_ratios(xs, lps, mus, sqrts, log_dets, log_pis, n_used):
        flat = xs.reshape(-1, d)
        per_round = jax.vmap(lambda lpi, mu, sq, ld: _mixture_logq(flat, lpi, mu, sq, ld, opts.df)[1])(
            log_pis, mus, sqrts, log_dets)
        used = jnp.arange(n_rounds) < n_used
        logq = jax.scipy.special.logsumexp(jnp.where(used[:, None], per_round, -jnp.inf), axis=0) - jnp.log(n_used)
        lp = lps.reshape(-1)
        return jnp.where(jnp.repeat(used, n) & jnp.isfinite(lp), lp - logq, -jnp.inf)

    def responsibilities(x, lpi, mu, sq, ld):
        logq_c, logq = _mixture_logq(x, lpi, mu, sq, ld, opts.df)
        r = jnp.exp(lpi[:, None] + logq_c - logq[None, :])  # (M, n)
        return jnp.where(jnp.isfinite(lpi)[:, None] & jnp.isfinite(r), r, 0.0)

    def refit(x, log_w, r, mu, sq, ld, lpi):
        """Each component refitted to its responsibility-weighted draws (kept where fewer than d + 2
        effective draws)."""
        w = jnp.exp(log_w - jax.scipy.special.logsumexp(log_w))

        def one(rc, mu_c, sq_c, ld_c):
            wc = w * rc
            mass = jnp.sum(wc)
            ess = mass**2 / jnp.maximum(jnp.sum(wc**2), jnp.finfo(w.dtype).tiny)
            mean = wc @ x / jnp.maximum(mass, jnp.finfo(w.dtype).tiny)
            res = x - mean[None, :]
            cov = (res * wc[:, None]).T @ res / jnp.maximum(mass, jnp.finfo(w.dtype).tiny)
            gc = gaussian_from_cov(cov)
            # as the single-t rounds, which refit on any weights: a component keeps its proposal
            # only when too few draws carry its weight to estimate a covariance
            ok = (ess >= d + 2) & jnp.all(jnp.isfinite(gc["sqrt_cov"]))
            return (jnp.where(ok, mean, mu_c), jnp.where(ok, opts.scale * gc["sqrt_cov"], sq_c),
                    jnp.where(ok, gc["log_det_cov"] + log_det_scale, ld_c), mass)

        mu2, sq2, ld2, mass = jax.vmap(one)(r, mu, sq, ld)
        return mu2, sq2, ld2, _floored(jnp.log(jnp.maximum(mass, jnp.finfo(w.dtype).tiny)), valid)

    def one_round(carry, rk):
        xs, lps, mus, sqrts, log_dets, log_pis = carry
        rnd, k = rk
        xr = _mixture_draws(k, log_pis[rnd], mus[rnd], sqrts[rnd], opts.df, n)
        xs, lps = xs.at[rnd].set(xr), lps.at[rnd].set(jax.lax.map(logp, xr, batch_size=min(DRAW_BATCH, n)))
        ps = psis(log_ratios(xs, lps, mus, sqrts, log_dets, log_pis, rnd + 1))
        flat = xs.reshape(-1, d)
        r = responsibilities(flat, log_pis[rnd], mus[rnd], sqrts[rnd], log_dets[rnd])
        mu2, sq2, ld2, lpi2 = refit(flat, ps["log_weights"], r, mus[rnd], sqrts[rnd], log_dets[rnd], log_pis[rnd])
        nxt, more = jnp.minimum(rnd + 1, n_rounds - 1), rnd + 1 < n_rounds
        mus = mus.at[nxt].set(jnp.where(more, mu2, mus[nxt]))
        sqrts = sqrts.at[nxt].set(jnp.where(more, sq2, sqrts[nxt]))
        log_dets = log_dets.at[nxt].set(jnp.where(more, ld2, log_dets[nxt]))
        log_pis = log_pis.at[nxt].set(jnp.where(more, lpi2, log_pis[nxt]))
        return (xs, lps, mus, sqrts, log_dets, log_pis), None

    rounds = (jnp.arange(n_rounds), jax.random.split(draw_key, n_rounds))
    carry, _ = jax.lax.scan(one_round, (xs, lps, mus, sqrts, log_dets, log_pis), rounds)
    xs, lps, mus, sqrts, log_dets, log_pis = carry
    x, lp = xs.reshape(-1, d), lps.reshape(-1)
    log_ratio = log_ratios(xs, lps, mus, sqrts, log_dets, log_pis, n_rounds)
    ps = psis(log_ratio)
    w = jnp.exp(ps["log_weights"] - jax.scipy.special.logsumexp(ps["log_weights"]))
    r_last = responsibilities(x, log_pis[-1], mus[-1], sqrts[-1], log_dets[-1])
    mode_mass = jnp.where(valid, r_last @ w, 0.0)
    best = idx[0]
    cov = g["cov"][best]
    cov = jnp.where(ps["ess"] >= MIN_ESS_FOR_COV, weighted_moments(x, ps["log_weights"])[1], cov)
    n_total = n_rounds * n
    pick = systematic_resample(pick_key, ps["log_weights"], opts.n_samples)
    accepted = jnp.isfinite(ps["k_hat"]) & (ps["k_hat"] < opts.k_max) & (ps["ess"] >= opts.min_ess)
    return {
        "samples": x[pick],
        "mode": ends[best],
        "cov": cov,
        "map_loss": map_losses[best],
        "hessian_posdef": g["hessian_posdef"][best],
        "k_hat": ps["k_hat"],
        "psis_ess": ps["ess"],
        "is_accepted": accepted,
        "log_evidence": jax.scipy.special.logsumexp(log_ratio) - jnp.log(n_total),
        "logdensity": lp[pick],
        "n_logdensity_evals": jnp.asarray(n_total + ends.shape[0]),
        "n_modes": jnp.sum(valid),
        "mode_mass": mode_mass,
    }
