"""Filter transmission curves from the ``astro-sedpy`` package data.

Curves are read from sedpy's own ``.par`` files (through ``sedpy.observate.Filter``);
nothing is hand-typed. Short names used across sedjax map to sedpy names:

====================  ======================================
short name            sedpy name
====================  ======================================
``sdss_u`` … ``z``    ``sdss_u0`` … ``sdss_z0``
``galex_fuv/nuv``     ``galex_FUV`` / ``galex_NUV``
``2mass_j/h/ks``      ``twomass_J`` / ``twomass_H`` / ``twomass_Ks``
``wise_w1`` … ``w4``  ``wise_w1`` … ``wise_w4``
====================  ======================================

Any other sedpy filter is available under its sedpy name (e.g. ``decam_g``,
``jwst_f444w``). Transmissions are sedpy's detector-signal-per-photon curves, so the
photon-counting band average ``∫ f_ν T dλ/λ / ∫ T dλ/λ`` is the right one for them.
"""

from __future__ import annotations

import difflib
import os
import re
from typing import NamedTuple

import numpy as np

SHORT_NAMES = {
    "sdss_u": "sdss_u0",
    "sdss_g": "sdss_g0",
    "sdss_r": "sdss_r0",
    "sdss_i": "sdss_i0",
    "sdss_z": "sdss_z0",
    "galex_fuv": "galex_FUV",
    "galex_nuv": "galex_NUV",
    "2mass_j": "twomass_J",
    "2mass_h": "twomass_H",
    "2mass_ks": "twomass_Ks",
    "wise_w1": "wise_w1",
    "wise_w2": "wise_w2",
    "wise_w3": "wise_w3",
    "wise_w4": "wise_w4",
}


_NAME_OK = re.compile(r"[A-Za-z0-9_+\-][A-Za-z0-9_.+\-]*")


class FilterCurve(NamedTuple):
    """One band's transmission curve.

    Attributes
    ----------
    name : str
        Name as requested (short name or sedpy name).
    sedpy_name : str
        The sedpy file stem the curve was read from.
    wave_aa : ndarray of shape (n,)
        Observed-frame wavelength in Angstrom, strictly increasing.
    trans : ndarray of shape (n,)
        Transmission (detector signal per photon), >= 0.
    """

    name: str
    sedpy_name: str
    wave_aa: np.ndarray
    trans: np.ndarray

    @property
    def wave_range_aa(self) -> tuple[float, float]:
        """Observed wavelength span (Angstrom) where the transmission is non-zero."""
        nz = np.flatnonzero(self.trans > 0)
        lo = self.wave_aa[max(nz[0] - 1, 0)]
        hi = self.wave_aa[min(nz[-1] + 1, self.wave_aa.size - 1)]
        return float(lo), float(hi)

    @property
    def pivot_wave_aa(self) -> float:
        """Pivot wavelength sqrt(∫T λ dλ / ∫T dλ/λ) in Angstrom."""
        w, t = self.wave_aa, self.trans
        return float(np.sqrt(np.trapezoid(t * w, w) / np.trapezoid(t / w, w)))


def sedpy_filter_dir() -> str:
    """Directory holding sedpy's ``.par`` filter files."""
    import sedpy

    return os.path.join(os.path.dirname(sedpy.__file__), "data", "filters")


def available_filters() -> list[str]:
    """All names accepted by :func:`load_filters` (short names, then sedpy names)."""
    sedpy_names = sorted(f[:-4] for f in os.listdir(sedpy_filter_dir()) if f.endswith(".par"))
    return list(SHORT_NAMES) + sedpy_names


def resolve_filter_name(name: str) -> str:
    """Map a short or sedpy filter name to a sedpy file stem.

    Raises
    ------
    KeyError
        For an unknown name, listing the closest known names, or a name that looks like
        a path (a band name is a file stem in sedpy's filter directory, never a path).
    """
    if name in SHORT_NAMES:
        return SHORT_NAMES[name]
    if not isinstance(name, str) or not name or not _NAME_OK.fullmatch(name):
        raise KeyError(
            f"filter name {name!r} looks like a path or has characters no filter name has (allowed: "
            "letters, digits, '_', '-', '+', '.', no leading dot): give a short name "
            f"({', '.join(SHORT_NAMES)}) or a sedpy filter name, not a path"
        )
    path = os.path.join(sedpy_filter_dir(), name + ".par")
    if os.path.exists(path):
        return name
    close = difflib.get_close_matches(name, available_filters(), n=6, cutoff=0.5)
    hint = f" Close matches: {', '.join(close)}." if close else ""
    raise KeyError(
        f"unknown filter {name!r}.{hint} Use a short name ({', '.join(SHORT_NAMES)}) "
        f"or any sedpy filter name (see sedjax.photometry.filters.available_filters())."
    )


def load_filter(name: str) -> FilterCurve:
    """Load one filter curve by short or sedpy name."""
    from sedpy.observate import Filter

    sedpy_name = resolve_filter_name(name)
    f = Filter(sedpy_name)
    wave = np.asarray(f.wavelength, dtype=np.float64)
    trans = np.clip(np.asarray(f.transmission, dtype=np.float64), 0.0, None)
    order = np.argsort(wave, kind="stable")
    wave, trans = wave[order], trans[order]
    keep = np.concatenate([[True], np.diff(wave) > 0])
    return FilterCurve(name=name, sedpy_name=sedpy_name, wave_aa=wave[keep], trans=trans[keep])


def load_filters(names) -> list[FilterCurve]:
    """Load filter curves by name, in the order given.

    Parameters
    ----------
    names : sequence of str
        Short names (``sdss_r``, ``galex_nuv``, ``2mass_ks``, ``wise_w1`` …) or sedpy names.

    Returns
    -------
    list of FilterCurve
    """
    if isinstance(names, str):
        names = [names]
    if len(names) == 0:
        raise ValueError("load_filters: no filter names given; list at least one band")
    return [load_filter(n) for n in names]
