"""NumPy reference of the exact forward model: same physics, no JAX in the computation.

It is the measured "without JIT" baseline of the benchmarks and an independent
cross-check of :mod:`sedjax.model.sed_model` (tests require agreement to 1e-8 relative in float64).
Only static set-up is shared with the JAX model (the filter curves, the rest-frame
integration grid and the age-bin edges, all plain NumPy arrays built once); every step
that depends on parameters is re-implemented here with NumPy.
"""

from __future__ import annotations

import math

import numpy as np

from sedjax.physics.constants import (
    AB_ZEROPOINT_CGS,
    C_KM_S,
    CALZETTI_RV,
    DUST_REF_WAVE_AA,
    H0_PLANCK18,
    KM_PER_MPC,
    L_SUN_ERG_S,
    LYMAN_LIMIT_AA,
    MPC_CM,
    OM0_PLANCK18,
    SEC_PER_GYR,
    YR_PER_GYR,
)
from sedjax.physics.ssp_weights import make_age_bins  # static age-bin edges (NumPy)

_GL64 = np.polynomial.legendre.leggauss(64)


# ------------------------------------------------------------------ cosmology
def age_of_universe_gyr(z, h0=H0_PLANCK18, om0=OM0_PLANCK18):
    ol = 1.0 - om0
    t_h = KM_PER_MPC / h0 / SEC_PER_GYR
    return 2.0 / (3.0 * math.sqrt(ol)) * t_h * np.arcsinh(math.sqrt(ol / om0) * (1.0 + z) ** -1.5)


def luminosity_distance_mpc(z, h0=H0_PLANCK18, om0=OM0_PLANCK18):
    x, w = _GL64
    zz = 0.5 * z * (x + 1.0)
    integral = 0.5 * z * np.sum(w / np.sqrt(om0 * (1 + zz) ** 3 + 1 - om0))
    return (1.0 + z) * C_KM_S / h0 * integral


# ------------------------------------------------------------------------ SFH
def _time_limits(edges, t_obs):
    return np.clip(t_obs - edges[1:], 0, None), np.clip(t_obs - edges[:-1], 0, None)


def _dpl_sfr_times_t(lt, tau, alpha, beta):
    lx = lt - math.log(tau)
    return np.exp(-np.logaddexp(alpha * lx, -beta * lx) + lt)


def dpl_mass(edges, t_obs, tau, alpha, beta, n_rise=6, n_fall=6, n_narrow=0):
    """Rising side in y = (T/τ)^(β+1), falling side in ln T; the first n_narrow
    intervals with a 2-node rule in ln T (see sedjax.physics.sfh)."""
    t_lo, t_hi = _time_limits(edges, t_obs)
    out = np.zeros(len(t_lo))
    x2, w2 = np.polynomial.legendre.leggauss(2)
    for j in range(n_narrow):
        if t_lo[j] > 0:
            l0, l1 = math.log(t_lo[j]), math.log(t_hi[j])
            lt = 0.5 * (l0 + l1) + 0.5 * (l1 - l0) * x2
            out[j] = 0.5 * (l1 - l0) * np.sum(w2 * _dpl_sfr_times_t(lt, tau, alpha, beta))
    t_lo, t_hi = t_lo.copy(), t_hi.copy()
    t_lo[:n_narrow] = t_hi[:n_narrow] = 0.0
    xr, wr = np.polynomial.legendre.leggauss(n_rise)
    xf, wf = np.polynomial.legendre.leggauss(n_fall)
    gamma = (alpha + beta) / (beta + 1)
    for j, (a, b) in enumerate(zip(t_lo, t_hi)):
        r_hi = min(b, tau)
        if r_hi > a:
            y0, y1 = (a / tau) ** (beta + 1), (r_hi / tau) ** (beta + 1)
            y = 0.5 * (y0 + y1) + 0.5 * (y1 - y0) * xr
            out[j] += tau / (beta + 1) * 0.5 * (y1 - y0) * np.sum(wr / (1 + y**gamma))
        f_lo = max(a, tau)
        if b > f_lo:
            l0, l1 = math.log(f_lo), math.log(b)
            lt = 0.5 * (l0 + l1) + 0.5 * (l1 - l0) * xf
            out[j] += 0.5 * (l1 - l0) * np.sum(wf * _dpl_sfr_times_t(lt, tau, alpha, beta))
    return out * YR_PER_GYR


def delayed_tau_mass(edges, t_obs, tau, t_start):
    t_lo, t_hi = _time_limits(edges, t_obs)
    x1 = np.clip(t_lo - t_start, 0, None)
    x2 = np.clip(t_hi - t_start, 0, None)
    d = x2 - x1
    return tau * np.exp(-x1 / tau) * (-(x1 + tau) * np.expm1(-d / tau) - d * np.exp(-d / tau)) * YR_PER_GYR


def constant_mass(edges, t_obs, duration):
    top = min(duration, t_obs)
    return np.clip(np.minimum(edges[1:], top) - edges[:-1], 0, None) * YR_PER_GYR


def sfh_mass(sfh_type, p, edges, t_obs, n_narrow=0):
    if sfh_type == "dpl":
        return dpl_mass(edges, t_obs, p["sfh_dpl_tau_gyr"], p["sfh_dpl_alpha"], p["sfh_dpl_beta"], n_narrow=n_narrow)
    if sfh_type == "delayed_tau":
        return delayed_tau_mass(edges, t_obs, p["sfh_delayed_tau_gyr"], p["sfh_delayed_tstart_gyr"])
    return constant_mass(edges, t_obs, p["sfh_const_duration_gyr"])


# ----------------------------------------------------------------------- dust
def dust_tau(wave, tau_v, slope, law):
    if law == "powerlaw":
        return tau_v * (wave / DUST_REF_WAVE_AA) ** slope
    x = wave / 1e4
    k = np.empty_like(x)
    uv = (x >= 0.12) & (x < 0.63)
    k[uv] = 2.659 * (-2.156 + 1.509 / x[uv] - 0.198 / x[uv] ** 2 + 0.011 / x[uv] ** 3) + CALZETTI_RV
    ir = x >= 0.63
    k[ir] = 2.659 * (-1.857 + 1.040 / x[ir]) + CALZETTI_RV
    far = x < 0.12
    inv0 = 1 / 0.12
    k0 = 2.659 * (-2.156 + 1.509 * inv0 - 0.198 * inv0**2 + 0.011 * inv0**3) + CALZETTI_RV
    slope_inv = 2.659 * (1.509 - 2 * 0.198 * inv0 + 3 * 0.011 * inv0**2)
    k[far] = k0 + slope_inv * (1 / x[far] - inv0)
    return tau_v * np.maximum(k, 0) / CALZETTI_RV


# ------------------------------------------------------------------------ IGM
def igm_transmission(wave_obs, z):
    tau = np.zeros_like(wave_obs)
    for lam, a in zip((1215.67, 1025.72, 972.537, 949.743), (3.6e-3, 1.7e-3, 1.18e-3, 9.3e-4)):
        blue = wave_obs < lam * (1 + z)
        tau[blue] += a * (wave_obs[blue] / lam) ** 3.46
    xc = wave_obs / LYMAN_LIMIT_AA
    xe = 1 + z
    b = xc < xe
    x = xc[b]
    tc = (
        0.25 * x**3 * (xe**0.46 - x**0.46)
        + 9.4 * x**1.5 * (xe**0.18 - x**0.18)
        - 0.7 * x**3 * (x**-1.32 - xe**-1.32)
        - 0.023 * (xe**1.68 - x**1.68)
    )
    tau[b] += np.clip(tc, 0, None)
    return np.exp(-tau)


# ---------------------------------------------------------------------- model
def reference_photometry(model, params: dict) -> np.ndarray:
    """Exact-mode photometry (AB maggies, (n_band,)) of ``model`` at ``params``, in NumPy.

    ``model`` supplies only static set-up (spec, SSP arrays, integration grid, age bins).
    """
    p = {k: float(np.asarray(v)) for k, v in params.items()}
    spec, ssp, grid = model.spec, model.ssp, model.grid
    # the full grid of ages (the model drops ages older than the universe; this does not)
    bins = make_age_bins(ssp.ssp_lg_age_gyr, t_narrow_gyr=model.t_narrow_gyr)
    z = p["redshift"]
    t_obs = age_of_universe_gyr(z)
    sub = sfh_mass(spec.mean_sfh_type, p, bins.edges_gyr, t_obs, bins.n_narrow)
    if spec.norm_param == "sfh_dpl_log_peak_sfr":
        scale = 10.0 ** p["sfh_dpl_log_peak_sfr"]
    else:
        total = sub.sum()
        scale = 10.0 ** p["sfh_log_mass_formed"] / total if total > 0 else 0.0
    sub = sub * scale
    mass_young = np.bincount(bins.sub_bin, weights=sub * bins.sub_young, minlength=bins.n_age)
    mass_old = np.bincount(bins.sub_bin, weights=sub * (1 - bins.sub_young), minlength=bins.n_age)
    # metallicity: linear in log Z, clamped
    lg = np.clip(math.log10(ssp.zsun) + p["met_logzsol"], ssp.ssp_lgmet[0], ssp.ssp_lgmet[-1])
    i = int(np.clip(np.searchsorted(ssp.ssp_lgmet, lg, side="right") - 1, 0, len(ssp.ssp_lgmet) - 2))
    f = (lg - ssp.ssp_lgmet[i]) / (ssp.ssp_lgmet[i + 1] - ssp.ssp_lgmet[i])
    i0, i1 = grid.native_slice
    wave = ssp.ssp_wave[i0:i1]
    spec_old = (1 - f) * (mass_old @ ssp.ssp_flux[i, :, i0:i1]) + f * (mass_old @ ssp.ssp_flux[i + 1, :, i0:i1])
    spec_young = (1 - f) * (mass_young @ ssp.ssp_flux[i, :, i0:i1]) + f * (mass_young @ ssp.ssp_flux[i + 1, :, i0:i1])
    t_diff = dust_tau(wave, p["dust_tau_diff"], p["dust_slope"], model.dust_law)
    t_bc = dust_tau(wave, p["dust_tau_bc"], p["dust_slope"], "powerlaw")
    lnu = spec_old * np.exp(-t_diff) + spec_young * np.exp(-t_diff - t_bc)
    lo, fr = grid.interp_lo, grid.interp_frac
    lnu_int = lnu[lo] * (1 - fr) + lnu[lo + 1] * fr
    wave_obs = grid.wave_rest_aa * (1 + z)
    igm = igm_transmission(wave_obs, z) if model.igm else 1.0
    base = grid.dwave_aa / grid.wave_rest_aa * igm * lnu_int
    out = np.empty(len(grid.filt_norm))
    for b in range(len(out)):
        trans = np.interp(wave_obs, grid.filt_wave_aa[b], grid.filt_trans[b], left=0.0, right=0.0)
        out[b] = np.sum(trans * base) / grid.filt_norm[b]
    d_l = luminosity_distance_mpc(z)
    const = L_SUN_ERG_S / (AB_ZEROPOINT_CGS * 4.0 * math.pi * MPC_CM**2)
    return out * (1 + z) * const / d_l**2
