"""SSP (simple stellar population) grids in the DSPS HDF5 layout.

File layout (HDF5, all datasets float64)
----------------------------------------
``ssp_lgmet``           (n_met,)               log10 of absolute metallicity Z, strictly increasing
``ssp_lg_age_gyr``      (n_age,)               log10 of age in Gyr, strictly increasing
``ssp_wave``            (n_wave,)              rest-frame wavelength in Angstrom, strictly increasing
``ssp_flux``            (n_met, n_age, n_wave) L_nu in L_sun/Hz per M_sun formed, finite and >= 0
``ssp_mass_remaining``  (n_met, n_age)         optional: surviving stellar-mass fraction in [0, 1]

Root attributes: ``zsun`` (solar metallicity of the grid; required by :func:`load_ssp`)
and, written by :func:`write_ssp`, ``source``, ``imf``, ``source_sha256``,
``created_with`` (JSON string of software versions) and ``created_utc`` (ISO 8601).
Further datasets (e.g. ``ssp_emline_*``) are allowed and ignored by :func:`load_ssp`.

Dataset names follow DSPS (Hearin et al. 2023), so a file written here can be read by
DSPS' ``load_ssp_templates`` and vice versa (DSPS files lack ``zsun``: add it, see the
error message of :func:`load_ssp`).
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import h5py
import numpy as np

from sedjax.io.atomic import atomic_output
from sedjax.io.provenance import package_versions
from sedjax.physics.constants import C_AA_S
from sedjax.ssp.sanity import physical_problems

__all__ = [
    "SSPData",
    "SSPFormatError",
    "REQUIRED_DATASETS",
    "REQUIRED_WRITE_ATTRS",
    "load_ssp",
    "write_ssp",
    "validate_ssp",
    "bolometric_luminosity_lsun",
]

#: Datasets every SSP file must contain.
REQUIRED_DATASETS = ("ssp_lgmet", "ssp_lg_age_gyr", "ssp_wave", "ssp_flux")

#: Provenance attributes :func:`write_ssp` requires in ``SSPData.attrs``.
REQUIRED_WRITE_ATTRS = ("source", "imf", "source_sha256")

#: Distributions whose versions :func:`write_ssp` records in ``created_with`` (after ``python``).
_CREATED_WITH_PACKAGES = ("sedjax", "numpy", "h5py", "astropy", "jax", "bagpipes")

_MASS_REMAINING = "ssp_mass_remaining"
_MASS_FRACTION_TOL = 1e-6


class SSPFormatError(ValueError):
    """An SSP file or in-memory grid does not follow the DSPS layout."""


class SSPData(NamedTuple):
    """An SSP grid; field names are the DSPS dataset names.

    Attributes
    ----------
    ssp_lgmet : ndarray, shape (n_met,)
        log10 of absolute metallicity Z (not Z/Zsun), strictly increasing.
    ssp_lg_age_gyr : ndarray, shape (n_age,)
        log10 of the population age in Gyr, strictly increasing.
    ssp_wave : ndarray, shape (n_wave,)
        Rest-frame wavelength in Angstrom, strictly increasing.
    ssp_flux : ndarray, shape (n_met, n_age, n_wave)
        L_nu in L_sun/Hz per M_sun of stars formed.
    ssp_mass_remaining : ndarray, shape (n_met, n_age), or None
        Fraction of the formed stellar mass still in stars (incl. remnants as the
        source defines it), dimensionless in [0, 1].
    zsun : float
        Solar metallicity (absolute Z) the grid assumes, e.g. 0.02 for BC03.
    attrs : dict
        All HDF5 root attributes (provenance: source, imf, source_sha256, ...).
    """

    ssp_lgmet: np.ndarray
    ssp_lg_age_gyr: np.ndarray
    ssp_wave: np.ndarray
    ssp_flux: np.ndarray
    ssp_mass_remaining: np.ndarray | None
    zsun: float
    attrs: dict


# ----------------------------------------------------------------------------- validation


def _fail(path, field: str, problem: str, fix: str) -> NoReturn:
    raise SSPFormatError(f"SSP grid '{path}': {field}: {problem}. Fix: {fix}")


def _check_axis(values: np.ndarray, name: str, path, fix: str) -> None:
    """Require a finite, non-empty, strictly increasing 1-d axis."""
    if values.ndim != 1 or values.size == 0:
        _fail(path, name, f"expected a non-empty 1-d array, got shape {values.shape}", fix)
    if not np.all(np.isfinite(values)):
        _fail(path, name, f"contains {int(np.sum(~np.isfinite(values)))} non-finite values", fix)
    steps = np.diff(values)
    if np.any(steps <= 0):
        i = int(np.argmax(steps <= 0))
        _fail(
            path,
            name,
            f"is not strictly increasing (index {i}: {values[i]!r} -> {values[i + 1]!r})",
            fix,
        )


def _check_flux(flux: np.ndarray, path) -> None:
    """Require finite, non-negative fluxes."""
    fix = "regenerate the grid; an SSP spectrum must be finite and >= 0 everywhere"
    n_bad = int(np.sum(~np.isfinite(flux)))
    if n_bad:
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(flux))[0])
        _fail(path, "ssp_flux", f"contains {n_bad} NaN/inf values (first at index {idx})", fix)
    n_neg = int(np.sum(flux < 0))
    if n_neg:
        idx = tuple(int(i) for i in np.argwhere(flux < 0)[0])
        _fail(
            path,
            "ssp_flux",
            f"contains {n_neg} negative values (first at index {idx}: {flux[idx]!r})",
            fix,
        )


def _check_mass_remaining(mass: np.ndarray, shape: tuple, path) -> None:
    """Require shape (n_met, n_age) and values in [0, 1]."""
    fix = f"write '{_MASS_REMAINING}' with shape (n_met, n_age) and values in [0, 1], or omit it"
    if mass.shape != shape:
        _fail(path, _MASS_REMAINING, f"shape {mass.shape} != (n_met, n_age) = {shape}", fix)
    ok = np.isfinite(mass) & (mass >= 0) & (mass <= 1 + _MASS_FRACTION_TOL)
    if not np.all(ok):
        idx = tuple(int(i) for i in np.argwhere(~ok)[0])
        _fail(path, _MASS_REMAINING, f"value {mass[idx]!r} at index {idx} is not in [0, 1]", fix)


def validate_ssp(ssp: SSPData, path="<memory>") -> None:
    """Check an SSP grid for consistent shapes, monotonic axes and physical values.

    Parameters
    ----------
    ssp : SSPData
        Grid to check; arrays as documented on :class:`SSPData`.
    path : str or path-like, optional
        Name used in error messages (the file the grid came from).

    Raises
    ------
    SSPFormatError
        Naming the file, the offending field and how to fix it, when: an axis is not a
        finite, strictly increasing 1-d array (``ssp_wave`` must also be > 0);
        ``ssp_flux`` is not (n_met, n_age, n_wave) or holds NaN/inf/negative values;
        ``ssp_mass_remaining`` is not (n_met, n_age) or outside [0, 1]; ``zsun`` is not
        a finite number in (0, 1); or the grid looks physically wrong
        (:func:`sedjax.ssp.sanity.physical_problems`: metallicity not absolute, implausible
        zsun, bolometric L/M or UV slope out of range, e.g. L_λ stored as L_ν).
    """
    _check_axis(ssp.ssp_lgmet, "ssp_lgmet", path, "store log10(Z) sorted by increasing Z")
    _check_axis(
        ssp.ssp_lg_age_gyr, "ssp_lg_age_gyr", path, "store log10(age/Gyr) sorted, without duplicates"
    )
    _check_axis(ssp.ssp_wave, "ssp_wave", path, "store wavelengths in Angstrom sorted, without duplicates")
    if ssp.ssp_wave[0] <= 0:
        _fail(path, "ssp_wave", f"first wavelength {ssp.ssp_wave[0]!r} is not > 0", "store Angstrom > 0")
    shape = (ssp.ssp_lgmet.size, ssp.ssp_lg_age_gyr.size, ssp.ssp_wave.size)
    if ssp.ssp_flux.shape != shape:
        _fail(
            path,
            "ssp_flux",
            f"shape {ssp.ssp_flux.shape} != (n_met, n_age, n_wave) = {shape} "
            "given ssp_lgmet, ssp_lg_age_gyr, ssp_wave",
            "write ssp_flux with axes (metallicity, age, wavelength) matching the axis datasets",
        )
    _check_flux(ssp.ssp_flux, path)
    if ssp.ssp_mass_remaining is not None:
        _check_mass_remaining(ssp.ssp_mass_remaining, shape[:2], path)
    zsun = ssp.zsun
    if not (isinstance(zsun, (float, int, np.floating, np.integer)) and np.isfinite(zsun) and 0 < zsun < 1):
        _fail(path, "attribute 'zsun'", f"{zsun!r} is not a number in (0, 1)", "set zsun, e.g. 0.02 for BC03")
    for field, problem, fix in physical_problems(ssp):
        _fail(path, field, problem, fix)


# ----------------------------------------------------------------------------- loading


def _decode_attr(value: Any) -> Any:
    """HDF5 attribute -> plain Python value (str, int, float, bool or ndarray)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


def _read_dataset(f: h5py.File, name: str, path) -> np.ndarray:
    if name not in f:
        _fail(
            path,
            f"dataset '{name}'",
            f"missing (file has {sorted(f.keys())})",
            f"write all of {list(REQUIRED_DATASETS)} (DSPS layout), e.g. with sedjax.ssp.grid.write_ssp",
        )
    obj = f[name]
    if not isinstance(obj, h5py.Dataset):
        _fail(path, f"'{name}'", "is a group, not a dataset", f"store '{name}' as a dataset")
    try:
        return np.array(obj[()], dtype=np.float64)
    except (TypeError, ValueError) as err:
        _fail(path, f"dataset '{name}'", f"cannot be read as float64 ({err})", "store numeric data")


def _read_file(path: Path) -> SSPData:
    with h5py.File(path, "r") as f:
        arrays = {name: _read_dataset(f, name, path) for name in REQUIRED_DATASETS}
        mass = _read_dataset(f, _MASS_REMAINING, path) if _MASS_REMAINING in f else None
        attrs = {key: _decode_attr(val) for key, val in f.attrs.items()}
    if "zsun" not in attrs:
        _fail(
            path,
            "attribute 'zsun'",
            "missing (the solar metallicity the grid assumes)",
            f"add it, e.g. h5py.File('{path}', 'a').attrs['zsun'] = 0.02 (BC03) or 0.019 (FSPS/MIST)",
        )
    try:
        zsun = float(attrs["zsun"])
    except (TypeError, ValueError):
        _fail(path, "attribute 'zsun'", f"{attrs['zsun']!r} is not a number", "store zsun as a float")
    return SSPData(zsun=zsun, attrs=attrs, ssp_mass_remaining=mass, **arrays)


def load_ssp(path) -> SSPData:
    """Read and validate an SSP grid in DSPS HDF5 layout.

    Parameters
    ----------
    path : str or path-like
        HDF5 file with datasets ``ssp_lgmet`` (n_met,), ``ssp_lg_age_gyr`` (n_age,),
        ``ssp_wave`` (n_wave,) [Angstrom], ``ssp_flux`` (n_met, n_age, n_wave)
        [L_sun/Hz per M_sun formed], optional ``ssp_mass_remaining`` (n_met, n_age),
        and root attribute ``zsun``. Unknown datasets are ignored.

    Returns
    -------
    SSPData
        float64 numpy arrays; ``attrs`` holds every root attribute (``zsun`` included).

    Raises
    ------
    SSPFormatError
        If the file is missing, is not HDF5 or is truncated, lacks a dataset or
        ``zsun``, or fails :func:`validate_ssp`. The message names the file, the
        field and the fix.
    """
    path = Path(path)
    if not path.is_file():
        _fail(
            path,
            "file",
            "does not exist" if not path.exists() else "is not a regular file",
            "check the path, or run the workflow rule `fetch_ssp` to create it",
        )
    if not h5py.is_hdf5(path):
        _fail(
            path,
            "file",
            f"is not an HDF5 file ({path.stat().st_size} bytes; wrong format or a truncated header)",
            "re-download or regenerate it (rule `fetch_ssp`)",
        )
    try:
        ssp = _read_file(path)
    except OSError as err:
        _fail(path, "file", f"cannot be read, probably truncated or corrupt ({err})", "re-download or regenerate it")
    validate_ssp(ssp, path)
    return ssp


# ----------------------------------------------------------------------------- writing


def _created_with() -> dict[str, str]:
    """``python`` and ``_CREATED_WITH_PACKAGES`` versions; ``"not installed"`` for absent ones."""
    versions = package_versions(_CREATED_WITH_PACKAGES)
    return {name: version or "not installed" for name, version in versions.items()}


def _encode_attr(key: str, value: Any) -> Any:
    """Python value -> something h5py stores as an attribute (dict/list -> JSON string)."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    if isinstance(value, (str, bool, int, float, np.generic, np.ndarray)):
        return value
    raise TypeError(f"SSP attribute '{key}' has unsupported type {type(value).__name__}")


def _file_attrs(ssp: SSPData) -> dict[str, Any]:
    missing = [key for key in REQUIRED_WRITE_ATTRS if key not in ssp.attrs]
    if missing:
        raise SSPFormatError(
            f"SSP grid '<memory>': attrs: missing provenance {missing}. "
            f"Fix: set them in SSPData.attrs before write_ssp (required: {list(REQUIRED_WRITE_ATTRS)})"
        )
    attrs = dict(ssp.attrs)
    attrs["zsun"] = float(ssp.zsun)
    attrs["created_with"] = _created_with()
    attrs["created_utc"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return attrs


def write_ssp(path, ssp: SSPData) -> Path:
    """Validate and atomically write an SSP grid in DSPS HDF5 layout.

    The file is written to a temporary file in the destination directory and moved
    into place with :func:`os.replace`, so ``path`` never holds a partial file.

    Parameters
    ----------
    path : str or path-like
        Destination ``.h5`` file; its directory is created if needed.
    ssp : SSPData
        Grid (shapes and units as on :class:`SSPData`). ``ssp.attrs`` must contain
        ``source``, ``imf`` and ``source_sha256``; ``zsun`` is taken from ``ssp.zsun``,
        ``created_with`` and ``created_utc`` are set at write time. dict/list attribute
        values are stored as JSON strings.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    SSPFormatError
        If the grid fails :func:`validate_ssp` or provenance attributes are missing.
    """
    validate_ssp(ssp)
    attrs = _file_attrs(ssp)
    path = Path(path)
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        for name in REQUIRED_DATASETS:
            f.create_dataset(name, data=np.asarray(getattr(ssp, name), dtype=np.float64))
        if ssp.ssp_mass_remaining is not None:
            f.create_dataset(_MASS_REMAINING, data=np.asarray(ssp.ssp_mass_remaining, dtype=np.float64))
        for key, value in attrs.items():
            f.attrs[key] = _encode_attr(key, value)
    return path


# ----------------------------------------------------------------------------- diagnostics


def bolometric_luminosity_lsun(ssp: SSPData) -> np.ndarray:
    """Bolometric luminosity of every SSP, integral of L_nu dnu over the grid.

    The integral is taken on the native wavelength grid with the exact change of
    variables dnu = c / lambda^2 dlambda (trapezoid rule in lambda), i.e. it equals
    the trapezoid integral of L_lambda dlambda of the source tables. A trapezoid rule
    in nu instead differs by the quadrature error (~1e-5 relative for BC03).

    Parameters
    ----------
    ssp : SSPData
        ``ssp_wave`` (n_wave,) in Angstrom, ``ssp_flux`` (n_met, n_age, n_wave) in
        L_sun/Hz per M_sun formed.

    Returns
    -------
    ndarray, shape (n_met, n_age)
        Bolometric luminosity in L_sun per M_sun formed.
    """
    wave_aa = np.asarray(ssp.ssp_wave, dtype=np.float64)
    dnu_dlambda = C_AA_S / wave_aa**2  # Hz per Angstrom
    return np.trapezoid(np.asarray(ssp.ssp_flux) * dnu_dlambda, wave_aa, axis=-1)
