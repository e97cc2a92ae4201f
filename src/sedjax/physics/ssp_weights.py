"""Pure kernels that turn parameters into SSP weights (mass per age bin, metallicity).

These sit between the SFH / metallicity physics and the spectrum or photometry
contraction in :mod:`sedjax.model.sed_model`.

Conventions
-----------
- Age bins: edges halfway between grid ages in log10 age (lowest edge 0), see
  :func:`sedjax.physics.sfh.age_bin_edges_gyr`. The mass in each bin is the SFH integrated over
  the bin (not point-sampled); populations older than the universe at z get 0.
- Birth clouds: the bin straddling ``T_BIRTH_CLOUD_GYR`` (10 Myr) is split at 10 Myr by
  integrating the SFH over each part, so the young/old split is exact and continuous.
- Metallicity: ``met_logzsol`` = log10(Z/zsun); log10 Z = log10(zsun) + met_logzsol is
  interpolated linearly between the two bracketing grid metallicities and clamped at the
  grid edges (no extrapolation).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.physics import sfh as _sfh
from sedjax.physics.constants import T_BIRTH_CLOUD_GYR


class AgeBins(NamedTuple):
    """Static description of the SSP age bins, with the birth-cloud split inserted.

    Attributes
    ----------
    edges_gyr : (n_sub + 1,) age edges in Gyr including the 10 Myr split
    sub_bin : (n_sub,) SSP age index each sub-interval belongs to
    sub_young : (n_sub,) 1.0 for sub-intervals younger than 10 Myr, else 0.0
    n_age : number of SSP ages
    age_gyr : (n_age,) grid ages in Gyr
    n_narrow : leading sub-intervals narrow in ln T for every supported redshift (cheap
        quadrature for the dpl SFH, see :func:`sedjax.physics.sfh.dpl_mass_in_age_intervals`)

    ``n_age`` may be fewer than the grid's ages: bins that start before the Big Bang at
    every supported redshift are dropped (they can hold no mass).
    """

    edges_gyr: np.ndarray
    sub_bin: np.ndarray
    sub_young: np.ndarray
    n_age: int
    age_gyr: np.ndarray
    n_narrow: int = 0

    @property
    def n_young_ages(self) -> int:
        """Ages [0, n_young_ages) can hold mass younger than the birth-cloud age."""
        young = np.asarray(self.sub_young) > 0
        return int(np.max(np.asarray(self.sub_bin)[young])) + 1 if young.any() else 0

    @property
    def first_old_age(self) -> int:
        """Ages [first_old_age, n_age) can hold mass older than the birth-cloud age."""
        old = np.asarray(self.sub_young) == 0
        return int(np.min(np.asarray(self.sub_bin)[old])) if old.any() else self.n_age


def make_age_bins(
    ssp_lg_age_gyr: np.ndarray,
    t_bc_gyr: float = T_BIRTH_CLOUD_GYR,
    t_narrow_gyr: float = 0.0,
    max_age_gyr: float | None = None,
) -> AgeBins:
    """Age-bin edges (log-midpoints) with ``t_bc_gyr`` inserted as an extra edge.

    ``t_narrow_gyr``: sub-intervals ending at or below this age are flagged as narrow
    (pass ≲ 0.3 × the smallest age of the universe the model supports).
    ``max_age_gyr``: the oldest possible population (the age of the universe at the lowest
    supported redshift); grid ages whose bin starts at or beyond it are dropped. The kept
    bins keep their edges, so the masses are those of the full grid.
    """
    edges = np.asarray(_sfh.age_bin_edges_gyr(np.asarray(ssp_lg_age_gyr)), dtype=np.float64)
    if max_age_gyr is not None:
        n_live = max(int(np.sum(edges[:-1] < max_age_gyr)), 1)
        edges = edges[: n_live + 1]
        ssp_lg_age_gyr = np.asarray(ssp_lg_age_gyr)[:n_live]
    n_age = edges.size - 1
    bin_of_edge = np.arange(n_age)
    if not np.any(np.isclose(edges, t_bc_gyr, rtol=1e-12, atol=0)) and edges[0] < t_bc_gyr < edges[-1]:
        j = int(np.searchsorted(edges, t_bc_gyr))  # edges[j-1] < t_bc < edges[j]
        edges = np.insert(edges, j, t_bc_gyr)
        bin_of_edge = np.insert(bin_of_edge, j, j - 1)
    mid = 0.5 * (edges[:-1] + edges[1:])
    return AgeBins(
        edges_gyr=edges,
        sub_bin=bin_of_edge.astype(np.int32),
        sub_young=(mid < t_bc_gyr).astype(np.float64),
        n_age=n_age,
        age_gyr=10.0 ** np.asarray(ssp_lg_age_gyr, dtype=np.float64),
        n_narrow=int(np.sum(edges[1:] <= t_narrow_gyr)),
    )


def sfh_mass_in_intervals(sfh_type: str, params: dict, edges_gyr, t_obs_gyr, n_narrow: int = 0):
    """Unnormalised mass formed in each age interval for one SFH family.

    For ``dpl`` the normalisation is A = 1 M☉/yr (peak-SFR units); for ``delayed_tau`` and
    ``constant`` the shape is arbitrary (only ratios matter: normalise by mass formed).

    Returns
    -------
    mass : (n_edges − 1,) M☉
    """
    if sfh_type == "dpl":
        return _sfh.dpl_mass_in_age_intervals(
            edges_gyr,
            t_obs_gyr,
            params["sfh_dpl_tau_gyr"],
            params["sfh_dpl_alpha"],
            params["sfh_dpl_beta"],
            n_narrow=n_narrow,
        )
    if sfh_type == "delayed_tau":
        return _sfh.delayed_tau_mass_in_age_intervals(
            edges_gyr, t_obs_gyr, params["sfh_delayed_tau_gyr"], params["sfh_delayed_tstart_gyr"]
        )
    if sfh_type == "constant":
        return _sfh.constant_mass_in_age_intervals(
            edges_gyr, t_obs_gyr, params["sfh_const_duration_gyr"]
        )
    raise ValueError(f"unknown SFH type {sfh_type!r}")


def sfh_scale(sfh_type: str, norm_param: str, params: dict, total_unnorm):
    """Multiplier turning the unnormalised SFH masses into M☉.

    ``sfh_log_mass_formed``: 10**lmf / total; ``sfh_dpl_log_peak_sfr``: 10**log A.
    """
    if norm_param == "sfh_dpl_log_peak_sfr":
        return 10.0 ** params["sfh_dpl_log_peak_sfr"]
    safe_total = jnp.where(total_unnorm > 0, total_unnorm, 1.0)
    return jnp.where(total_unnorm > 0, 10.0 ** params["sfh_log_mass_formed"] / safe_total, 0.0)


def mass_per_age_bin(sfh_type: str, norm_param: str, params: dict, bins: AgeBins, t_obs_gyr):
    """Mass formed per SSP age bin, split into young (< 10 Myr) and old parts.

    Returns
    -------
    mass_young, mass_old : (n_age,) M☉ formed in each bin younger / older than 10 Myr
    """
    edges = jnp.asarray(bins.edges_gyr, jnp.result_type(t_obs_gyr))
    sub = sfh_mass_in_intervals(sfh_type, params, edges, t_obs_gyr, bins.n_narrow)
    scale = sfh_scale(sfh_type, norm_param, params, jnp.sum(sub))
    sub = sub * scale
    young_flag = jnp.asarray(bins.sub_young, dtype=sub.dtype)
    seg = jnp.asarray(bins.sub_bin)
    mass_young = jax.ops.segment_sum(sub * young_flag, seg, num_segments=bins.n_age)
    mass_old = jax.ops.segment_sum(sub * (1 - young_flag), seg, num_segments=bins.n_age)
    return mass_young, mass_old


def met_interp(lgmet, ssp_lgmet):
    """Bracketing metallicity index and interpolation fraction, clamped at grid edges.

    Parameters
    ----------
    lgmet : scalar, log10 of absolute metallicity Z
    ssp_lgmet : (n_met,) grid log10 Z, increasing

    Returns
    -------
    idx : int scalar in [0, n_met − 2]
    frac : scalar in [0, 1]; weight (1 − frac) on idx, frac on idx + 1
    """
    grid = jnp.asarray(ssp_lgmet)
    x = jnp.clip(lgmet, grid[0], grid[-1])
    idx = jnp.clip(jnp.searchsorted(grid, x, side="right") - 1, 0, grid.shape[0] - 2)
    frac = (x - grid[idx]) / (grid[idx + 1] - grid[idx])
    return idx, frac


def met_weights(lgmet, ssp_lgmet):
    """Weights (n_met,) over grid metallicities: linear in log Z, clamped, summing to 1."""
    idx, frac = met_interp(lgmet, ssp_lgmet)
    n = jnp.asarray(ssp_lgmet).shape[0]
    return (1 - frac) * jax.nn.one_hot(idx, n, dtype=frac.dtype) + frac * jax.nn.one_hot(
        idx + 1, n, dtype=frac.dtype
    )


def take_two_metallicities(arr, idx):
    """``arr[idx]`` and ``arr[idx + 1]`` along axis 0 with a traced idx (dynamic slice)."""
    pair = jax.lax.dynamic_slice_in_dim(arr, idx, 2, axis=0)
    return pair[0], pair[1]
