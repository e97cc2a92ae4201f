"""Importance-sampling backend ("is"): a multivariate-t around the mode, weighted by the exact posterior.

The MAP stage (``mode_fn``: multi-start LM on the full target and its Gauss–Newton
covariance, projected / marginalised to the sampled space when the amplitude is collapsed),
optionally ``n_newton`` Newton steps on the sampled density with the exact Hessian there
(default 0: the Hessian's compile costs more than it buys), ``n_draws`` draws from a multivariate t (``df`` degrees of
freedom, scale ``scale² × covariance``), Pareto-smoothed importance weights
(:mod:`sedjax.inference.psis`) and ``n_samples`` equally weighted draws by systematic
resampling.

Adaptive rounds (``n_adapt``, adaptive multiple importance sampling: Cornuet, Marin, Mira &
Robert 2012): after each round the next proposal is a t with the PSIS-weighted mean and
covariance of every draw so far; every draw is weighted against the equal mixture of all
the rounds' proposals (the deterministic-mixture, or balance-heuristic, weights), and the
final k̂ and ESS are those of all ``(1 + n_adapt) × n_draws`` draws. A posterior that is
skewed or shifted from the Laplace Gaussian (a bounded prior, a curved valley) gets a
proposal fitted to it instead of one fitted to the mode's curvature. PSIS cannot see mass that
no draw reaches (a thin curved valley whose arms the proposals miss can pass with a low k̂):
the mock calibration is what vouches for it on our posteriors.

The fit is ``accepted`` when ``k_hat < k_max`` and the PSIS ESS is at least
``min_ess``; otherwise it fails with that reason (the ``auto`` backend hands such galaxies
to HMC instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._common import bind_logdensity
from .gaussian import gaussian_at, gaussian_from_cov, multivariate_t, newton_refine, t_logpdf
from .importance_weights import MIN_ESS_FOR_COV, systematic_resample, weighted_moments
from .map import MAPOpts
from .mixture_is import run_mixture_is
from sedjax.inference.psis import K_HAT_MAX, k_hat_check, psis


@dataclass(frozen=True)
class ISOpts:
    """Options for :func:`run_is`.

    n_draws: proposal draws per round (each one log-density evaluation, no gradient).
    n_samples: equally weighted draws returned (systematic resampling of the weights).
    df: degrees of freedom of the multivariate-t proposal.
    scale: the proposal's scale relative to the Laplace covariance.
    n_newton: Newton steps from the MAP stage's mode on the sampled density.
    n_adapt: adaptive rounds after the first (each ``n_draws`` more draws; module docstring).
    min_ess, k_max: acceptance: PSIS ESS >= min_ess and k_hat < k_max.
    n_starts, n_library_starts, lm_steps: the MAP stage (LM; see MAPOpts).
    n_modes: at most this many mixture components, one per distinct mode, for a multimodal
      target (``Target.multimodal``: a free redshift; :mod:`.mixture_is`); 1: one t always.
    """

    n_draws: int = 1000
    n_samples: int = 1000
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

    def map_opts(self) -> MAPOpts:
        return MAPOpts(optimizer="lm", n_starts=self.n_starts, n_library_starts=self.n_library_starts,
                       lm_steps=self.lm_steps)


def run_is(key, logdensity_fn, data, init_fn, opts: ISOpts = ISOpts(), *, mode_fn, modes_fn=None):
    """Importance sampling around the mode (module docstring); with ``modes_fn`` (a
    multimodal target) and ``n_modes > 1``, around every distinct mode
    (:func:`~sedjax.inference.backends.mixture_is.run_mixture_is`, which adds ``n_modes`` and
    ``mode_mass`` to the outputs below).

    Returns
    -------
    dict with samples (n_samples, d); mode (d,), cov (d, d) (the proposal's Gaussian before
    ``scale``); map_loss (); hessian_posdef (); k_hat, psis_ess (); is_accepted () bool;
    log_evidence () (the importance estimate of ln ∫ p, relative to logdensity_fn's
    normalisation); logdensity (n_samples,); n_logdensity_evals () (draws + Newton's).
    """
    if modes_fn is not None and opts.n_modes > 1:
        return run_mixture_is(key, logdensity_fn, data, opts, modes_fn=modes_fn)
    map_key, draw_key, pick_key = jax.random.split(key, 3)
    mode, map_loss, g = mode_fn(map_key, data, opts.map_opts())
    logp = bind_logdensity(logdensity_fn, data)
    if opts.n_newton > 0:
        mode, _ = newton_refine(logp, mode, opts.n_newton)
        g = gaussian_at(logp, mode)
    d, n, n_rounds = mode.shape[0], opts.n_draws, 1 + opts.n_adapt
    log_det_scale = 2 * d * jnp.log(opts.scale)
    # every round's proposal and draws in fixed-size buffers, so one scan compiles the log density once
    mus = jnp.zeros((n_rounds, d), mode.dtype).at[0].set(mode)
    sqrts = jnp.zeros((n_rounds, d, d), mode.dtype).at[0].set(opts.scale * g["sqrt_cov"])
    log_dets = jnp.zeros((n_rounds,), mode.dtype).at[0].set(g["log_det_cov"] + log_det_scale)
    xs = jnp.zeros((n_rounds, n, d), mode.dtype)
    lps = jnp.full((n_rounds, n), -jnp.inf, mode.dtype)

    def log_ratios(xs, lps, mus, sqrts, log_dets, n_used):
        """Log weights of the drawn rounds' draws against the equal mixture of their proposals (-inf: not drawn)."""
        flat = xs.reshape(-1, d)
        logq = jax.vmap(lambda m, sq, ld: t_logpdf(flat, m, sq, ld, opts.df))(mus, sqrts, log_dets)
        used = jnp.arange(n_rounds) < n_used
        logq = jax.scipy.special.logsumexp(jnp.where(used[:, None], logq, -jnp.inf), axis=0) - jnp.log(n_used)
        lp = lps.reshape(-1)
        return jnp.where(jnp.repeat(used, n) & jnp.isfinite(lp), lp - logq, -jnp.inf)

    def one_round(carry, rk):
        xs, lps, mus, sqrts, log_dets = carry
        r, k = rk
        xr, _ = multivariate_t(k, mus[r], sqrts[r], log_dets[r], opts.df, n)
        xs, lps = xs.at[r].set(xr), lps.at[r].set(jax.vmap(logp)(xr))
        # the next round's proposal: the weighted moments of every draw so far (after the last round: unused)
        ps = psis(log_ratios(xs, lps, mus, sqrts, log_dets, r + 1))
        mean, c = weighted_moments(xs.reshape(-1, d), ps["log_weights"])
        ga = gaussian_from_cov(c)
        nxt, more = jnp.minimum(r + 1, n_rounds - 1), r + 1 < n_rounds
        mus = mus.at[nxt].set(jnp.where(more, mean, mus[nxt]))
        sqrts = sqrts.at[nxt].set(jnp.where(more, opts.scale * ga["sqrt_cov"], sqrts[nxt]))
        log_dets = log_dets.at[nxt].set(jnp.where(more, ga["log_det_cov"] + log_det_scale, log_dets[nxt]))
        return (xs, lps, mus, sqrts, log_dets), None

    rounds = (jnp.arange(n_rounds), jax.random.split(draw_key, n_rounds))
    (xs, lps, mus, sqrts, log_dets), _ = jax.lax.scan(one_round, (xs, lps, mus, sqrts, log_dets), rounds)
    x, lp = xs.reshape(-1, d), lps.reshape(-1)
    log_ratio = log_ratios(xs, lps, mus, sqrts, log_dets, n_rounds)
    ps = psis(log_ratio)
    cov = g["cov"]
    if opts.n_adapt:  # the metric handed on (auto's HMC stage): the weighted covariance unless the weights degenerated
        cov = jnp.where(ps["ess"] >= MIN_ESS_FOR_COV, weighted_moments(x, ps["log_weights"])[1], cov)
    n_total = (1 + opts.n_adapt) * opts.n_draws
    idx = systematic_resample(pick_key, ps["log_weights"], opts.n_samples)
    finite_k = jnp.isfinite(ps["k_hat"])
    accepted = finite_k & (ps["k_hat"] < opts.k_max) & (ps["ess"] >= opts.min_ess)
    return {
        "samples": x[idx],
        "mode": mode,
        "cov": cov,
        "map_loss": map_loss,
        "hessian_posdef": g["hessian_posdef"],
        "k_hat": ps["k_hat"],
        "psis_ess": ps["ess"],
        "is_accepted": accepted,
        "log_evidence": jax.scipy.special.logsumexp(log_ratio) - jnp.log(n_total),
        "logdensity": lp[idx],
        "n_logdensity_evals": jnp.asarray(n_total + opts.n_newton * (3 + 2 * d) + (d if opts.n_newton else 0)),
    }


# ----------------------------------------------------------------- registry hooks
def status_checks(d, *, min_ess: float | None = None, **limits) -> tuple[list[str], list[str]]:
    """IS's own checks: PSIS k-hat above K_HAT_MAX, or (when the diagnostics say the draws
    were not accepted) an ESS below the acceptance threshold."""
    fails = list(k_hat_check(d))
    if not fails and "is_accepted" in d and not bool(np.asarray(d["is_accepted"])):
        ess = float(np.asarray(d.get("psis_ess", np.nan)))
        fails.append(f"PSIS ESS {ess:.0f} below the acceptance threshold")
    return fails, []


def iterations(opts: ISOpts) -> int:
    """Sequential iterations of one call: the MAP stage's LM steps and the Newton steps."""
    return opts.lm_steps + opts.n_newton
