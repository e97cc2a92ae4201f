"""Posterior-predictive photometry of a whole catalogue and its residuals per band.

:func:`catalogue_residuals` evaluates every galaxy's predicted band fluxes on (up to)
``n_draws`` of its posterior draws — one ``jit(vmap(galaxies, vmap(draws)))`` call, each
galaxy with the fast tables of its own redshift (``SEDModel.tables_for_batch``, from the
model's redshift grid) — and returns one row per galaxy and band: the observed flux and
error, the predictive 16/50/84th percentiles and the residual in σ,

    r = (f_obs − f_pred,50) / sqrt(σ_obs² + (sys_frac · f_pred,50)²),

the error the likelihood used (:mod:`sedjax.inference.posterior`). A systematic offset of
one band across the catalogue (its median r far from 0; :func:`sedjax.plotting.real_data.band_offsets`)
is the first thing to check in real photometry: a zero point, an aperture or a filter curve.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd


def _draw_matrix(model, samples: dict, n_draws: int, seed: int):
    """(n_gal, n_draws, n_free) finite posterior draws per galaxy (repeated to fill), and the
    number of distinct draws used per galaxy (0: none finite)."""
    free = list(model.spec.free_params)
    cube = np.stack([np.asarray(samples[p], np.float64) for p in free], axis=-1)  # (n, s, d)
    n = cube.shape[0]
    out = np.zeros((n, n_draws, len(free)))
    used = np.zeros(n, int)
    rng = np.random.default_rng(seed)
    for g in range(n):
        ok = np.flatnonzero(np.all(np.isfinite(cube[g]), axis=1))
        if ok.size == 0:
            continue
        pick = np.sort(rng.choice(ok, size=min(n_draws, ok.size), replace=False))
        used[g] = pick.size
        out[g] = cube[g, np.resize(pick, n_draws)]
    return out, used


def predictive_photometry(model, samples: dict, redshift, n_draws: int = 50, seed: int = 0, mode: str = "fast"):
    """Predicted band fluxes [maggies] ``(n_gal, n_draws, n_band)`` of every galaxy's draws.

    ``samples``: ``{free parameter: (n_gal, n_samples)}`` (a BatchResult's); ``redshift``
    (n_gal,) the data redshifts (used when the spec fixes z). Returns ``(phot, used)``:
    ``used`` (n_gal,) the distinct draws behind each galaxy's rows (rows repeat them to fill
    ``n_draws``; 0 where no draw is finite, the row then NaN).
    """
    free = list(model.spec.free_params)
    draws, used = _draw_matrix(model, samples, int(n_draws), seed)
    z = jnp.asarray(np.asarray(redshift, np.float64), model.dtype)
    base = {k: float(v) for k, v in model.spec.fixed_params.items()}
    fixed_z = "redshift" not in free

    def galaxy(theta, zg, tables):
        def one(t):
            p = dict(base, **{name: t[i] for i, name in enumerate(free)})
            if fixed_z:
                p["redshift"] = zg
            return model.predict_photometry(p, mode=mode, tables=tables)

        return jax.vmap(one)(theta)

    def run(theta, zz):
        tables = model.tables_for_batch(zz) if (mode == "fast" and fixed_z and model.fixed_redshift is not None) else None
        if tables is None:
            return jax.vmap(lambda th, zg: galaxy(th, zg, None))(theta, zz)
        return jax.vmap(galaxy)(theta, zz, tables)

    phot = np.array(jax.jit(run)(jnp.asarray(draws, model.dtype), z), dtype=np.float64)  # a writable copy
    phot[used == 0] = np.nan
    return phot, used


def catalogue_residuals(model, batch, catalog, n_draws: int = 50, seed: int = 0, mode: str = "fast",
                        sys_frac: float = 0.0) -> pd.DataFrame:
    """One row per (galaxy, band) of a batch fit against its catalogue.

    ``batch``: :class:`~sedjax.fitting.batch_result.BatchResult`; ``catalog``:
    :class:`~sedjax.catalog.table.Catalog` (observed fluxes by id). Columns: ``id``,
    ``name`` (the file's id when the catalogue has one, else the id), ``redshift``,
    ``backend``, ``status``, ``band``, ``flux_maggies``, ``flux_err_maggies``, ``used``
    (band not masked), ``pred_p16``, ``pred_p50``, ``pred_p84`` [maggies], ``resid_sigma``
    (NaN for masked bands and galaxies without a finite draw).
    """
    phot, _ = predictive_photometry(model, batch.samples, batch.redshift, n_draws, seed, mode)
    with warnings.catch_warnings():  # galaxies without a finite draw: all-NaN rows, NaN percentiles
        warnings.simplefilter("ignore", RuntimeWarning)
        p16, p50, p84 = np.nanpercentile(phot, [16, 50, 84], axis=1)
    names = catalog.table["name"].astype(str).to_numpy() if "name" in catalog.table else None
    rows = []
    for g, gid in enumerate(batch.ids):
        i = catalog.index(gid)
        obs = catalog.row(gid)
        for b, band in enumerate(model.bands):
            used = bool(obs["mask"][b])
            f, e = float(obs["flux"][b]), float(obs["flux_err"][b])
            sigma = np.sqrt(e**2 + (sys_frac * p50[g, b]) ** 2)
            rows.append({
                "id": gid.item() if hasattr(gid, "item") else gid,
                "name": names[i] if names is not None else str(gid),
                "redshift": float(batch.redshift[g]), "backend": batch.backend, "status": str(batch.status[g]),
                "band": band, "flux_maggies": f if used else np.nan, "flux_err_maggies": e if used else np.nan,
                "used": used, "pred_p16": p16[g, b], "pred_p50": p50[g, b], "pred_p84": p84[g, b],
                "resid_sigma": (f - p50[g, b]) / sigma if used else np.nan,
            })
    return pd.DataFrame(rows)
