"""Star-formation histories integrated over stellar-age intervals.

Conventions: cosmic time T (Gyr since the Big Bang) at formation is T = t_obs − age,
where t_obs is the age of the universe at the galaxy's redshift. Ages older than the
universe (T < 0) form nothing. Masses are in M☉ with SFRs in M☉/yr (1 Gyr = 1e9 yr).

Families
--------
- ``dpl``: SFR(T) = A / [(T/τ)^α + (T/τ)^−β]; A = 1 M☉/yr here (callers scale by the
  peak-SFR or mass-formed normalisation). No closed form: Gauss–Legendre quadrature in
  ln T with a static number of nodes per interval.
- ``delayed_tau``: SFR ∝ (T − t_start) e^{−(T − t_start)/τ} for T > t_start (analytic).
- ``constant``: constant SFR over the most recent ``duration_gyr`` (analytic).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .constants import YR_PER_GYR

DPL_NODES = 8


def age_bin_edges_gyr(ssp_lg_age_gyr: np.ndarray) -> np.ndarray:
    """Age-bin edges (n_age + 1,) in Gyr: halfway between grid ages in log10 age.

    The lowest edge is 0; the highest is half a (last) log step beyond the oldest age.
    """
    lg = np.asarray(ssp_lg_age_gyr, dtype=np.float64)
    mid = 0.5 * (lg[1:] + lg[:-1])
    top = lg[-1] + 0.5 * (lg[-1] - lg[-2])
    return np.concatenate([[0.0], 10.0**mid, [10.0**top]])


def _cosmic_time_limits(age_edges_gyr, t_obs_gyr):
    """(T_lo, T_hi) of each interval, clipped at T = 0."""
    t_hi = jnp.clip(t_obs_gyr - age_edges_gyr[:-1], 0.0, None)
    t_lo = jnp.clip(t_obs_gyr - age_edges_gyr[1:], 0.0, None)
    return t_lo, t_hi


def dpl_log_sfr(t_gyr, tau_gyr, alpha, beta):
    """ln SFR of the double power law with A = 1 M☉/yr: −logaddexp(α ln x, −β ln x), x = T/τ."""
    lx = jnp.log(t_gyr / tau_gyr)
    return -jnp.logaddexp(alpha * lx, -beta * lx)


def dpl_mass_in_age_intervals(age_edges_gyr, t_obs_gyr, tau_gyr, alpha, beta, n_nodes=DPL_NODES):
    """Mass (M☉, A = 1 M☉/yr) formed in each age interval by the double power law.

    Parameters
    ----------
    age_edges_gyr : (n + 1,) increasing age edges, Gyr (first may be 0)
    t_obs_gyr : scalar, age of the universe at the galaxy's redshift, Gyr
    tau_gyr, alpha, beta : scalars (τ in Gyr; α falling and β rising slopes)
    n_nodes : static number of Gauss–Legendre nodes per interval, in ln T

    Returns
    -------
    (n,) M☉ formed per interval; intervals entirely before the Big Bang give 0.
    """
    edges = jnp.asarray(age_edges_gyr)
    t_lo, t_hi = _cosmic_time_limits(edges, t_obs_gyr)
    live = t_hi > 0
    t_hi_s = jnp.where(live, t_hi, 1.0)
    # an interval reaching T = 0 starts at 1e-6 of its upper end: SFR ∝ T^β there
    t_lo_s = jnp.where(live, jnp.maximum(t_lo, 1e-6 * t_hi_s), 1.0)
    ln_lo, ln_hi = jnp.log(t_lo_s), jnp.log(t_hi_s)
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    x = jnp.asarray(x, ln_lo.dtype)
    half = 0.5 * (ln_hi - ln_lo)
    ln_t = (ln_lo + ln_hi)[:, None] * 0.5 + half[:, None] * x[None, :]
    integrand = jnp.exp(dpl_log_sfr(jnp.exp(ln_t), tau_gyr, alpha, beta) + ln_t)  # SFR · T
    mass = half * jnp.sum(jnp.asarray(w, ln_lo.dtype) * integrand, axis=-1) * YR_PER_GYR
    return jnp.where(live, mass, 0.0)


def delayed_tau_mass_in_age_intervals(age_edges_gyr, t_obs_gyr, tau_gyr, t_start_gyr):
    """Mass per age interval for SFR = (T − t_start) e^{−(T − t_start)/τ} M☉/yr (T in Gyr).

    Uses ∫_{x1}^{x1+d} x e^{−x/τ} dx = τ e^{−x1/τ} [−(x1 + τ) expm1(−d/τ) − d e^{−d/τ}],
    with x = T − t_start clipped at 0.
    """
    edges = jnp.asarray(age_edges_gyr)
    t_lo, t_hi = _cosmic_time_limits(edges, t_obs_gyr)
    x1 = jnp.clip(t_lo - t_start_gyr, 0.0, None)
    x2 = jnp.clip(t_hi - t_start_gyr, 0.0, None)
    d = x2 - x1
    e = jnp.exp(-d / tau_gyr)
    val = tau_gyr * jnp.exp(-x1 / tau_gyr) * (-(x1 + tau_gyr) * jnp.expm1(-d / tau_gyr) - d * e)
    return val * YR_PER_GYR


def constant_mass_in_age_intervals(age_edges_gyr, t_obs_gyr, duration_gyr):
    """Mass per age interval for SFR = 1 M☉/yr over ages [0, min(duration, t_obs)]."""
    edges = jnp.asarray(age_edges_gyr)
    top = jnp.minimum(duration_gyr, t_obs_gyr)
    overlap = jnp.clip(jnp.minimum(edges[1:], top) - edges[:-1], 0.0, None)
    return overlap * YR_PER_GYR
