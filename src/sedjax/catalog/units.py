"""Photometric units -> AB maggies: fluxes, magnitudes, Vega -> AB, extinction.

A maggie is the flux density of an AB magnitude-0 source, 3631 Jy, so
``m_AB = -2.5 log10(f / maggie)``. The conversions done once, when a catalogue is read
(:mod:`sedjax.catalog.ingest`):

- flux units: ``f_maggies = f / (3631 Jy in that unit)``; errors scale the same way.
  Negative fluxes are valid measurements and stay negative.
- magnitudes: ``m_AB = m + Δ_zp`` (``Δ_zp``: a per-band zero-point offset to AB, e.g. SDSS
  u −0.04, z +0.02, and for ``vega_mag`` the Vega → AB offset of :func:`vega_to_ab_mag`);
  Galactic extinction ``A_b`` [mag] is removed, ``m_corr = m_AB − A_b``; then
  ``f = 10^(−0.4 m_corr)`` maggies and, to first order in the magnitude error,
  ``σ_f = 0.4 ln(10) f σ_m`` (≈ 0.921 f σ_m: a 0.1 mag error is a 9.2% flux error).
- extinction on fluxes: ``f_corr = f · 10^(0.4 A_b)``, the error scaled by the same factor.

Vega → AB comes from the band's filter curve and sedpy's Vega spectrum, as the ratio of
the photon-counting band averages of Vega and of a flat f_ν = 3631 Jy source:
``m_AB(Vega) = −2.5 log10(∫ f_ν,Vega T dλ/λ / ∫ 3631 Jy T dλ/λ)``, so a Vega magnitude
``m_V`` is ``m_V + m_AB(Vega)`` in AB (Vega has m_V = 0 in every band by definition).
"""

from __future__ import annotations

import functools
import math

import numpy as np

JY_PER_MAGGIE = 3631.0
FLUX_UNITS = {"maggies": 1.0, "nJy": JY_PER_MAGGIE * 1e9, "uJy": JY_PER_MAGGIE * 1e6,
              "mJy": JY_PER_MAGGIE * 1e3, "Jy": JY_PER_MAGGIE}
"""Flux units and how many of each make one maggie."""
MAG_UNITS = ("AB_mag", "vega_mag")
UNITS = (*FLUX_UNITS, *MAG_UNITS)
MAG_SENTINELS = (99.0, -99.0, -9999.0)
"""Magnitudes that mean "no measurement" in common catalogues (masked when read)."""
MAG_ERR_FACTOR = 0.4 * math.log(10.0)
"""σ_f / f per magnitude of error (first order): 0.4 ln 10 ≈ 0.921."""
_C_AA_PER_S = 2.99792458e18


def is_magnitude(unit: str) -> bool:
    """True for ``AB_mag`` and ``vega_mag``; ``ValueError`` for an unknown unit."""
    if unit not in UNITS:
        raise ValueError(f"unknown photometric unit {unit!r}; use one of {list(UNITS)}")
    return unit in MAG_UNITS


def flux_to_maggies(flux, flux_err, unit: str):
    """``(flux, err)`` in ``unit`` (maggies, nJy, uJy, mJy, Jy) -> AB maggies (negatives kept)."""
    if unit not in FLUX_UNITS:
        raise ValueError(f"{unit!r} is not a flux unit; use one of {list(FLUX_UNITS)}")
    per = FLUX_UNITS[unit]
    return np.asarray(flux, np.float64) / per, np.asarray(flux_err, np.float64) / per


def maggies_to_flux(flux_maggies, unit: str):
    """AB maggies -> ``unit`` (the inverse of :func:`flux_to_maggies`)."""
    return np.asarray(flux_maggies, np.float64) * FLUX_UNITS[unit]


def mag_to_maggies(mag_ab, mag_err):
    """AB magnitudes and errors -> ``(f, σ_f)`` in maggies: ``f = 10^(−0.4 m)``,
    ``σ_f = 0.4 ln(10) f σ_m`` (first-order propagation)."""
    mag_ab = np.asarray(mag_ab, np.float64)
    flux = 10.0 ** (-0.4 * mag_ab)
    return flux, MAG_ERR_FACTOR * flux * np.asarray(mag_err, np.float64)


def maggies_to_mag(flux_maggies, flux_err=None):
    """Maggies -> AB magnitude (and its first-order error when ``flux_err`` is given)."""
    f = np.asarray(flux_maggies, np.float64)
    mag = -2.5 * np.log10(f)
    if flux_err is None:
        return mag
    return mag, np.asarray(flux_err, np.float64) / (MAG_ERR_FACTOR * f)


def extinction_factor(a_mag):
    """Flux factor that removes a foreground extinction of ``a_mag`` magnitudes: 10^(0.4 A)."""
    return 10.0 ** (0.4 * np.asarray(a_mag, np.float64))


def sentinel_mask(mag) -> np.ndarray:
    """True where a magnitude is one of :data:`MAG_SENTINELS` (99, −99, −9999)."""
    mag = np.asarray(mag, np.float64)
    return np.isin(mag, MAG_SENTINELS)


@functools.lru_cache(maxsize=None)
def vega_to_ab_mag(band: str) -> float:
    """AB magnitude of Vega in ``band``: add it to a Vega magnitude to get an AB magnitude.

    Photon-counting band averages (as every sedjax band flux) of sedpy's Vega spectrum
    (``sedpy.reference_spectra.vega``: λ [Å], f_λ [erg/s/cm²/Å]) and of a flat
    f_ν = 3631 Jy source through the band's sedpy curve, each integrated with the trapezoid
    rule on the union of the filter's and the spectrum's wavelengths. Raises ``ValueError`` when Vega's spectrum does
    not cover the band.
    """
    from sedpy.reference_spectra import vega

    from sedjax.photometry.filters import load_filters

    (filt,) = load_filters([band])
    wave, trans = np.asarray(filt.wave_aa, np.float64), np.asarray(filt.trans, np.float64)
    vw, vf = np.asarray(vega[:, 0], np.float64), np.asarray(vega[:, 1], np.float64)
    if wave[0] < vw[0] or wave[-1] > vw[-1]:
        raise ValueError(f"band {band}: sedpy's Vega spectrum ({vw[0]:.0f}-{vw[-1]:.0f} Å) does not cover the filter")
    # union of both wavelength grids: keeps the filter's edges and Vega's absorption lines
    grid = np.union1d(wave, vw[(vw > wave[0]) & (vw < wave[-1])])
    fnu_jy = np.interp(grid, vw, vf) * grid**2 / _C_AA_PER_S * 1e23  # f_λ -> f_ν [Jy]
    kernel = np.interp(grid, wave, trans) / grid
    ratio = np.trapezoid(fnu_jy * kernel, grid) / np.trapezoid(JY_PER_MAGGIE * kernel, grid)
    return float(-2.5 * np.log10(ratio))
