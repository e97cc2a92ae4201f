"""Laplace backend: MAP (multi-start LM or L-BFGS) + Gaussian with the inverse exact Hessian.

The draws carry PSIS diagnostics (:mod:`sedjax.inference.psis`): ``k_hat`` and ``psis_ess``
of the importance ratios p/q; a fit with ``k_hat > 0.7`` fails (the Gaussian is not the
posterior).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._common import bind_logdensity
from .map import MAPOpts, map_core
from sedjax.inference.diagnostics import all_finite
from sedjax.inference.psis import k_hat_check, psis_diagnostics


@dataclass(frozen=True)
class LaplaceOpts:
    """Options for :func:`run_laplace`.

    n_samples: Gaussian draws returned.
    optimizer, n_starts, n_library_starts, lm_steps, n_steps, memory_size,
      max_linesearch_steps, gtol: the MAP stage (see
      :class:`~sedjax.inference.backends.map.MAPOpts`).
    min_eig_rtol: the Hessian of -logdensity counts as positive definite iff its
      smallest eigenvalue exceeds ``min_eig_rtol * max|eigenvalue|`` (0 gives the
      plain ``> 0`` test).  Nothing is regularised: a failing Hessian gives NaN
      samples and ``hessian_posdef=False``.
    eval_logdensity: also evaluate the target at the draws (``logdensity`` and the
      importance log-ratio ``log_ratio = logp - logq``, with its PSIS ``k_hat`` and
      ``psis_ess``).
    """

    n_samples: int = 1000
    optimizer: str = "lm"
    n_starts: int = 8
    n_library_starts: int = 4
    lm_steps: int = 30
    n_steps: int = 200
    memory_size: int = 10
    max_linesearch_steps: int = 20
    gtol: float = 1e-8
    min_eig_rtol: float = 1e-12
    eval_logdensity: bool = True

    def map_opts(self) -> MAPOpts:
        return MAPOpts(
            optimizer=self.optimizer,
            n_starts=self.n_starts,
            n_library_starts=self.n_library_starts,
            lm_steps=self.lm_steps,
            n_steps=self.n_steps,
            memory_size=self.memory_size,
            max_linesearch_steps=self.max_linesearch_steps,
            gtol=self.gtol,
        )


def run_laplace(
    key, logdensity_fn, data, init_fn, opts: LaplaceOpts = LaplaceOpts(), *, residual_fn=None, logprior_fn=None, start_fn=None,
    linear_amplitude=None,
):
    """Laplace approximation at the MAP (the MAP stage of :func:`run_map`, same keywords).

    Returns
    -------
    dict with
      samples (n_samples, d): draws from N(mode, H^-1) (all NaN if H is not
        positive definite);
      mode (d,), cov (d, d): the Gaussian (cov NaN if not positive definite);
      hessian_min_eig, hessian_max_eig (), hessian_posdef () bool;
      loss, grad_norm (): MAP stage; losses (n_starts,);
      log_evidence (): Laplace estimate log p(mode) + d/2 log 2pi - 1/2 log|H|
        (relative to the normalisation of logdensity_fn);
      logdensity, log_ratio (n_samples,), k_hat, psis_ess () when ``eval_logdensity``.
    """
    map_key, draw_key = jax.random.split(key)
    r = map_core(
        map_key, logdensity_fn, data, init_fn, opts.map_opts(),
        residual_fn=residual_fn, logprior_fn=logprior_fn, start_fn=start_fn, linear_amplitude=linear_amplitude,
    )
    mode = r["mode"]
    logp = bind_logdensity(logdensity_fn, data)
    d = mode.shape[0]

    hess = jax.hessian(lambda u: -logp(u))(mode)
    hess = 0.5 * (hess + hess.T)
    evals, evecs = jnp.linalg.eigh(hess)
    min_eig = evals[0]
    max_abs = jnp.max(jnp.abs(evals))
    posdef = (
        jnp.all(jnp.isfinite(hess))
        & (min_eig > 0.0)
        & (min_eig > opts.min_eig_rtol * max_abs)
    )
    inv_sqrt = jnp.where(posdef, 1.0 / jnp.sqrt(jnp.where(posdef, evals, 1.0)), jnp.nan)
    # covariance square root: A = V diag(1/sqrt(lambda)), cov = A A^T
    sqrt_cov = evecs * inv_sqrt[None, :]
    cov = sqrt_cov @ sqrt_cov.T
    z = jax.random.normal(draw_key, (opts.n_samples, d), dtype=mode.dtype)
    samples = mode[None, :] + z @ sqrt_cov.T
    log_det_h = jnp.sum(jnp.log(jnp.where(posdef, evals, jnp.nan)))
    log_evidence = -r["loss"] + 0.5 * d * jnp.log(2 * jnp.pi) - 0.5 * log_det_h

    out = {
        "samples": samples,
        "mode": mode,
        "cov": cov,
        "hessian_min_eig": min_eig,
        "hessian_max_eig": evals[-1],
        "hessian_posdef": posdef,
        "loss": r["loss"],
        "grad_norm": r["grad_norm"],
        "losses": r["losses"],
        "n_iter": r["n_iter"],
        "log_evidence": log_evidence,
    }
    if opts.eval_logdensity:
        lp = jax.vmap(logp)(samples)
        # log q at the draws: -1/2 |z|^2 - d/2 log 2pi + 1/2 log|H|
        logq = -0.5 * jnp.sum(z**2, axis=-1) - 0.5 * d * jnp.log(2 * jnp.pi) + 0.5 * log_det_h
        out["logdensity"] = lp
        out["log_ratio"] = lp - logq
        out.update(psis_diagnostics(out["log_ratio"]))
    return out


# ----------------------------------------------------------------- registry hooks
def status_checks(d, **limits) -> tuple[list[str], list[str]]:
    """Laplace's own status checks on one galaxy's diagnostics: ``(failures, warnings)``."""
    fails = []
    if "hessian_posdef" in d and not bool(np.asarray(d["hessian_posdef"])):
        fails.append(
            f"Hessian not positive definite (min eigenvalue "
            f"{float(np.asarray(d.get('hessian_min_eig', np.nan))):.3g})"
        )
    if not all_finite(d.get("loss", 0.0)):
        fails.append("non-finite loss")
    if not fails:  # a broken Hessian already explains NaN draws and ratios
        fails.extend(k_hat_check(d))
    return fails, []


def iterations(opts: LaplaceOpts) -> int:
    """Sequential iterations of one call (for a per-iteration time)."""
    return opts.lm_steps if opts.optimizer == "lm" else opts.n_steps
