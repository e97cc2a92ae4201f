"""Posterior-predictive spectra and photometry from a fit.

:func:`posterior_spectra` evaluates ``SEDModel.predict_spectrum`` and
``predict_photometry`` on (up to) ``n_draws`` posterior draws of a
:class:`~sedjax.inference.FitResult` in one ``jax.jit(jax.vmap(...))`` call and returns
the per-wavelength and per-band 16th/50th/84th percentiles; :func:`truth_spectrum` does
the same for one parameter point. The results are plain NumPy dicts, ready to plot.
"""

from __future__ import annotations

import weakref

import jax
import jax.numpy as jnp
import numpy as np

# compiled evaluators per model and (mode, redshift): one compilation for every backend
_FN_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _base_params(model, redshift=None) -> dict:
    base = {k: float(v) for k, v in model.spec.fixed_params.items()}
    if redshift is not None and "redshift" not in model.spec.free_params:
        base["redshift"] = float(redshift)
    return base


def _evaluator(model, mode, redshift):
    """``jit(vmap(params -> (wave, f_nu, photometry)))`` for this model, cached."""
    per_model = _FN_CACHE.setdefault(model, {})
    key = (mode, None if redshift is None else float(redshift))
    if key not in per_model:
        tables = model.tables_for(redshift) if mode == "fast" else None

        def one(p):
            wave, fnu = model.predict_spectrum(p)
            return wave, fnu, model.predict_photometry(p, mode=mode, tables=tables)

        per_model[key] = jax.jit(jax.vmap(one))
    return per_model[key]


def draw_indices(n_total: int, n_draws: int, seed: int = 0, valid=None) -> np.ndarray:
    """Indices of up to ``n_draws`` distinct draws (all of them when fewer), sorted."""
    idx = np.arange(n_total) if valid is None else np.flatnonzero(np.asarray(valid, bool))
    if idx.size > n_draws:
        idx = np.sort(np.random.default_rng(seed).choice(idx, size=n_draws, replace=False))
    return idx


def posterior_spectra(model, result, n_draws: int = 100, seed: int = 0, mode: str = "fast") -> dict:
    """Posterior spectrum band and posterior-predictive photometry of one fit.

    Parameters
    ----------
    model : SEDModel the fit used (same spec, SSP grid and bands)
    result : FitResult (physical ``samples`` of every free parameter; ``meta["redshift"]``
        is the galaxy's redshift when the spec fixes it)
    n_draws : posterior draws evaluated (all when the fit has fewer, e.g. MAP: one)
    seed : which draws (NumPy generator seed)
    mode : photometry mode of the predicted photometry

    Returns
    -------
    dict of NumPy arrays: ``wave_obs_aa`` (n_wave,), ``spec_p16``, ``spec_p50``,
    ``spec_p84`` (n_wave,) observed f_ν in maggies; ``phot_draws`` (k, n_band),
    ``phot_p16``, ``phot_p50``, ``phot_p84`` (n_band,) in maggies; ``n_draws`` (k);
    ``bands`` (list of str).
    """
    free = list(model.spec.free_params)
    missing = [p for p in free if p not in result.samples]
    if missing:
        raise ValueError(f"fit result ({result.backend}) lacks samples of {missing}")
    cols = np.column_stack([np.asarray(result.samples[p], dtype=float).ravel() for p in free])
    valid = np.all(np.isfinite(cols), axis=1)
    idx = draw_indices(cols.shape[0], int(n_draws), seed, valid)
    if idx.size == 0:
        raise ValueError(f"fit result ({result.backend}) has no finite posterior draw")
    z = result.meta.get("redshift")
    base = _base_params(model, z)
    batch = {k: jnp.full((idx.size,), v, model.dtype) for k, v in base.items()}
    batch.update({p: jnp.asarray(cols[idx, i], model.dtype) for i, p in enumerate(free)})
    # pad to exactly n_draws rows (repeating the first draw) so every fit of this model
    # reuses one compiled program; the padding is dropped again below
    k = idx.size
    n_pad = max(int(n_draws), k)
    batch = {key: jnp.concatenate([v, jnp.repeat(v[:1], n_pad - k)]) for key, v in batch.items()}
    waves, spec, phot = _evaluator(model, mode, z)(batch)
    spec = np.asarray(spec, dtype=float)[:k]
    phot = np.asarray(phot, dtype=float)[:k]
    s16, s50, s84 = np.percentile(spec, [16, 50, 84], axis=0)
    p16, p50, p84 = np.percentile(phot, [16, 50, 84], axis=0)
    return {
        "wave_obs_aa": np.asarray(waves[0], dtype=float),
        "spec_p16": s16,
        "spec_p50": s50,
        "spec_p84": s84,
        "phot_draws": phot,
        "phot_p16": p16,
        "phot_p50": p50,
        "phot_p84": p84,
        "n_draws": int(idx.size),
        "bands": list(model.bands),
    }


def truth_spectrum(model, params: dict, mode: str = "fast") -> dict:
    """Spectrum and photometry at one parameter point (e.g. a mock galaxy's truth).

    ``params`` may hold extra keys (derived truths, fluxes): only model parameters are used.
    """
    p = {k: float(v) for k, v in model.spec.fixed_params.items()}
    p.update({k: float(v) for k, v in params.items() if k in model.spec.priors})
    tables = model.tables_for(p.get("redshift")) if mode == "fast" else None
    wave, fnu = jax.jit(model.predict_spectrum)(p)
    phot = model.predict_photometry(p, mode=mode, tables=tables)
    return {"wave_obs_aa": np.asarray(wave, float), "fnu": np.asarray(fnu, float), "phot": np.asarray(phot, float)}


def observed_photometry(model, catalog, galaxy_id) -> dict:
    """One galaxy's observed photometry from a :class:`~sedjax.catalog.table.Catalog` (by id:
    :meth:`~sedjax.catalog.table.Catalog.row`), with the bands' pivot wavelengths and ranges,
    its truths (``truth``: parameters and derived quantities; ``{}`` for real data) and, for
    mocks, the noise-free photometry ``true_flux``."""
    i = catalog.index(galaxy_id)
    row = catalog.row(galaxy_id)
    out = {
        "id": galaxy_id,
        "bands": list(model.bands),
        "wave_pivot_aa": np.array([f.pivot_wave_aa for f in model.filters]),
        "wave_range_aa": np.array([f.wave_range_aa for f in model.filters]),
        "flux": np.asarray(row["flux"], float),
        "flux_err": np.asarray(row["flux_err"], float),
        "mask": np.asarray(row["mask"], bool),
        "redshift": float(row["redshift"]),
    }
    true_flux = catalog.truths(i, fluxes=True)
    if all(f"flux_{b}" in true_flux for b in model.bands):
        out["true_flux"] = np.array([true_flux[f"flux_{b}"] for b in model.bands], dtype=float)
    out["truth"] = {k: float(v) for k, v in catalog.truths(i).items()}
    return out
