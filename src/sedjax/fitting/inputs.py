"""Batch-fit inputs: validated per-galaxy arrays, catalogue rows, per-galaxy keys.

:func:`catalog_arrays` validates what :func:`sedjax.fitting.batch.fit_batch` fits (the same
rules as :func:`sedjax.inference.posterior.make_data`: unusable bands masked);
:func:`catalog_rows` takes rows of a :class:`~sedjax.catalog.table.Catalog` with their
truths; :func:`galaxy_keys` derives ``fold_in(PRNGKey(seed), id)`` keys (as
``scripts/fit_single.py``); :func:`needs_tables` says whether per-galaxy fast tables are needed;
:func:`check_redshifts` refuses data redshifts the model cannot fit (``fit`` and ``fit_batch``).
"""

from __future__ import annotations

import logging
import weakref
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np


def _get(obj, *names, default=None):
    for n in names:
        if isinstance(obj, Mapping):
            if n in obj and obj[n] is not None:
                return obj[n]
        elif getattr(obj, n, None) is not None:
            return getattr(obj, n)
    return default


def catalog_arrays(catalog, model) -> dict:
    """Validated per-galaxy arrays from a :class:`~sedjax.catalog.table.Catalog` or a mapping.

    Accepts ``flux``/``flux_maggies``, ``flux_err``/``flux_err_maggies`` (n, n_band),
    optional ``mask`` (n, n_band), ``redshift`` (n,) and ``ids`` (n,). Bands with a
    non-finite flux or a non-finite or non-positive error are masked (as ``make_data``).

    Returns ``{"ids", "flux", "flux_err", "mask", "redshift"}`` (NumPy; flux 0 and error
    1 where masked). Raises ``ValueError`` for wrong shapes, a galaxy with no usable band
    or a redshift outside the model's range (:func:`check_redshifts`).
    """
    flux = np.asarray(_get(catalog, "flux", "flux_maggies"), dtype=np.float64)
    err = np.asarray(_get(catalog, "flux_err", "flux_err_maggies"), dtype=np.float64)
    n_band = len(model.bands)
    if flux.ndim != 2 or flux.shape[1] != n_band or err.shape != flux.shape:
        raise ValueError(
            f"flux and flux_err must have shape (n_galaxies, {n_band}) for bands {model.bands}; "
            f"got {flux.shape} and {err.shape}"
        )
    n = flux.shape[0]
    usable = np.isfinite(flux) & np.isfinite(err) & (err > 0)
    mask = _get(catalog, "mask")
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != flux.shape:
            raise ValueError(f"mask must have shape {flux.shape}, got {mask.shape}")
        usable &= mask
    ids = _get(catalog, "ids", "id")
    ids = np.arange(n) if ids is None else np.asarray(ids)
    if ids.shape != (n,):
        raise ValueError(f"ids must have shape ({n},), got {ids.shape}")
    bad = ~usable.any(axis=1)
    if bad.any():
        raise ValueError(f"galaxies with no usable band (every flux or error unusable): ids {ids[bad][:20].tolist()}")
    z = _get(catalog, "redshift")
    z_free = model.fixed_redshift is None
    if z is None:  # a free redshift is sampled: the data's entry is unused (NaN)
        z = np.full(n, np.nan if z_free else model.fixed_redshift)
    z = np.broadcast_to(np.asarray(z, dtype=np.float64), (n,)).copy()
    if not z_free and not np.all(np.isfinite(z)):
        raise ValueError(f"non-finite redshift for ids {ids[~np.isfinite(z)][:20].tolist()}")
    check_redshifts(model, z, ids)
    return {
        "ids": ids,
        "flux": np.where(usable, flux, 0.0),
        "flux_err": np.where(usable, err, 1.0),
        "mask": usable,
        "redshift": z,
    }


_MET_WARNED: "weakref.WeakSet" = weakref.WeakSet()  # models already checked by warn_metallicity_range
Z_RANGE_RTOL = 1e-9  # round-off allowed at the ends of model.z_range


def check_redshifts(model, redshift, ids=None) -> None:
    """Refuse data redshifts that the model cannot fit, naming the galaxy and the fix.

    The data redshift sets the luminosity distance, the IGM and the observed-frame band
    tables; the model's integration grid and age bins only cover ``model.z_range``. Outside
    it, bands silently lose flux (a band whose rest-frame wavelengths fall off the grid
    gets exactly 0), so every data redshift must be finite, > 0 and inside
    ``model.z_range``. A model whose redshift is a free parameter ignores the data
    redshift, so nothing is checked then.
    """
    if model.fixed_redshift is None and "redshift" in model.spec.free_params:
        return
    z = np.atleast_1d(np.asarray(redshift, dtype=np.float64))
    named = ids is not None
    ids = np.atleast_1d(np.asarray(ids)) if named else np.arange(z.size)
    lo, hi = model.z_range
    tol = Z_RANGE_RTOL * max(abs(hi), 1.0)
    bad = ~np.isfinite(z) | (z <= 0) | (z < lo - tol) | (z > hi + tol)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    more = f" ({int(bad.sum())} galaxies in all, ids {ids[bad][:10].tolist()})" if bad.sum() > 1 else ""
    why = "z must be finite and > 0" if not (np.isfinite(z[i]) and z[i] > 0) else (
        "outside it the band tables and age bins do not apply and bands silently lose flux")
    who = f"galaxy {ids[i].item()!r}" if named else ("the galaxy" if z.size == 1 else f"galaxy at row {i}")
    raise ValueError(
        f"{who} has redshift {z[i]:g} but the model supports z in [{lo:g}, {hi:g}]{more}: "
        f"{why}. Fix: build the model with z_range covering the data (the workflow takes it from "
        "config mock.redshift, or model.params.redshift when the redshift is fixed), or drop the galaxy"
    )


def catalog_rows(cat, lo: int, hi: int) -> tuple[dict, dict]:
    """Rows ``[lo, hi)`` of a :class:`~sedjax.catalog.table.Catalog` as fit_batch input and truths.

    Returns ``(arrays, truth)``: ``arrays`` with ``ids, flux, flux_err, mask, redshift``
    (for :func:`~sedjax.fitting.batch.fit_batch`), ``truth`` mapping each ``true_<name>``
    column (fluxes excluded: :meth:`Catalog.truths`) to its values; empty for real data.
    """
    sl = slice(lo, hi)
    arrays = {
        "ids": cat.ids[sl],
        "flux": cat.flux_maggies[sl],
        "flux_err": cat.flux_err_maggies[sl],
        "mask": cat.mask[sl],
        "redshift": cat.redshift[sl],
    }
    return arrays, cat.truths(sl)


def galaxy_keys(seed: int, ids) -> jax.Array:
    """``(n, 2)`` keys ``fold_in(PRNGKey(seed), id)``, one per integer galaxy id."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"seed-derived keys need integer galaxy ids, got dtype {ids.dtype}; pass keys")
    if ids.size and (ids.min() < 0 or ids.max() >= 2**32):
        raise ValueError("galaxy ids must be in [0, 2**32) to derive keys")
    base = jax.random.PRNGKey(seed)
    return jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.asarray(ids, jnp.uint32))


def needs_tables(model, redshift) -> bool:
    """True when per-galaxy fast tables are needed (some z differs from the fixed z)."""
    if model.fixed_redshift is None:
        return False  # redshift is a free parameter: tables follow the sampled z
    return bool(np.any(np.asarray(redshift, dtype=np.float64) != model.fixed_redshift))


def warn_metallicity_range(model) -> None:
    """Log (``logging`` warning, once per model) when met_logzsol's prior reaches beyond the SSP grid."""
    from sedjax.model.domains import metallicity_grid_warning

    if model in _MET_WARNED:
        return
    msg = metallicity_grid_warning(model.spec, model.ssp)
    if msg:
        logging.getLogger("sedjax").warning(msg)
    _MET_WARNED.add(model)
