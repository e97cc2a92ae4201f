"""The Gaussian around a mode, shared by the stages that start from the MAP.

* :func:`newton_refine`: a few damped Newton steps on a log density (a step is kept only
  when it raises the density), from the MAP stage's mode (the joint mode, projected when
  the target is amplitude-collapsed) to the mode of the density actually sampled;
* :func:`gaussian_from_precision` / :func:`gaussian_from_cov`: a covariance square root from a
  precision (e.g. the MAP stage's Gauss–Newton curvature) or a covariance, eigenvalues floored
  at ``floor_rtol`` times the largest so it is always usable as a proposal or a metric, and
  whether it was positive definite before the floor; :func:`marginal_cov`: a Gaussian's
  marginal without one coordinate (the collapsed amplitude);
* :func:`gaussian_at`: the same from the exact Hessian of a log density at a mode;
* :func:`multivariate_t`: draws and log density of a multivariate Student-t with that
  covariance (the importance-sampling proposal); :func:`t_logpdf`: its density at given
  points (the adaptive rounds' mixture weights).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln


def newton_refine(logp, u0, n_steps: int):
    """``n_steps`` damped Newton steps on ``logp`` from ``u0``; returns ``(u, logp(u))``.

    Each step tries the Newton step scaled by 1, ½, ¼ and keeps the first that raises
    ``logp`` (none: stays put). A non-positive-definite Hessian falls back to a gradient step
    of the same trust (the ½-scalings still guard it).
    """
    grad_fn = jax.grad(logp)
    hess_fn = jax.hessian(logp)

    def step(carry, _):
        u, lp = carry
        g = grad_fn(u)
        h = -hess_fn(u)
        h = 0.5 * (h + h.T)
        evals, evecs = jnp.linalg.eigh(h)
        ok = jnp.all(jnp.isfinite(evals)) & (evals[0] > 0)
        newton = evecs @ ((evecs.T @ g) / jnp.where(ok, evals, 1.0))
        direction = jnp.where(ok, newton, g / (jnp.linalg.norm(g) + 1.0))
        best_u, best_lp = u, lp
        for scale in (0.25, 0.5, 1.0):  # the largest improving step wins
            cand = u + scale * direction
            lpc = logp(cand)
            better = jnp.isfinite(lpc) & (lpc > best_lp)
            best_u = jnp.where(better, cand, best_u)
            best_lp = jnp.where(better, lpc, best_lp)
        return (best_u, best_lp), None

    (u, lp), _ = jax.lax.scan(step, (u0, logp(u0)), None, length=n_steps)
    return u, lp


def _floored_eigh(m, floor_rtol):
    m = 0.5 * (m + m.T)
    finite = jnp.all(jnp.isfinite(m))
    m = jnp.where(finite, m, jnp.eye(m.shape[0], dtype=m.dtype))
    evals, evecs = jnp.linalg.eigh(m)
    posdef = finite & (evals[0] > 0)
    lam = jnp.maximum(evals, jnp.maximum(floor_rtol * jnp.max(jnp.abs(evals)), 1e-300))
    return lam, evecs, posdef, evals[0]


def gaussian_from_precision(precision, floor_rtol: float = 1e-8):
    """The Gaussian of a precision matrix: dict with ``sqrt_cov`` (d, d), ``cov``,
    ``log_det_cov``, ``hessian_posdef`` (before flooring), ``hessian_min_eig``."""
    lam, evecs, posdef, min_eig = _floored_eigh(precision, floor_rtol)
    sqrt_cov = evecs / jnp.sqrt(lam)[None, :]
    return {"sqrt_cov": sqrt_cov, "cov": sqrt_cov @ sqrt_cov.T, "log_det_cov": -jnp.sum(jnp.log(lam)),
            "hessian_posdef": posdef, "hessian_min_eig": min_eig}


def gaussian_from_cov(cov, floor_rtol: float = 1e-8):
    """As :func:`gaussian_from_precision`, from a covariance (``hessian_min_eig``: 1 / its largest eigenvalue)."""
    lam, evecs, posdef, _ = _floored_eigh(cov, floor_rtol)
    sqrt_cov = evecs * jnp.sqrt(lam)[None, :]
    return {"sqrt_cov": sqrt_cov, "cov": sqrt_cov @ sqrt_cov.T, "log_det_cov": jnp.sum(jnp.log(lam)),
            "hessian_posdef": posdef, "hessian_min_eig": 1.0 / lam[-1]}


def marginal_cov(cov, index: int):
    """The covariance of a Gaussian's marginal without coordinate ``index``."""
    return jnp.delete(jnp.delete(cov, index, axis=0), index, axis=1)


def gaussian_at(logp, mode, floor_rtol: float = 1e-8):
    """The Laplace Gaussian at ``mode`` from the exact Hessian of ``logp`` (see :func:`gaussian_from_precision`)."""
    return gaussian_from_precision(-jax.hessian(logp)(mode), floor_rtol)


def multivariate_t(key, mode, sqrt_cov, log_det_cov, df: float, n: int):
    """``n`` draws of a multivariate t (location ``mode``, scale ``sqrt_cov sqrt_cov^T``,
    ``df`` degrees of freedom) and their log densities."""
    d = mode.shape[0]
    kz, kw = jax.random.split(key)
    z = jax.random.normal(kz, (n, d), dtype=mode.dtype)
    w = 2.0 * jax.random.gamma(kw, df / 2.0, (n,), dtype=mode.dtype) / df  # chi2_df / df
    y = z / jnp.sqrt(w)[:, None]
    x = mode[None, :] + y @ sqrt_cov.T
    return x, _t_log_density(jnp.sum(y * y, axis=-1), d, log_det_cov, df)


def _t_log_density(maha, d: int, log_det_cov, df: float):
    return (gammaln(0.5 * (df + d)) - gammaln(0.5 * df) - 0.5 * d * jnp.log(df * jnp.pi)
            - 0.5 * log_det_cov - 0.5 * (df + d) * jnp.log1p(maha / df))


def t_logpdf(x, mode, sqrt_cov, log_det_cov, df: float):
    """Log density at ``x`` (n, d) of the multivariate t of :func:`multivariate_t`."""
    y = jnp.linalg.solve(sqrt_cov, (x - mode[None, :]).T).T
    return _t_log_density(jnp.sum(y * y, axis=-1), mode.shape[0], log_det_cov, df)
