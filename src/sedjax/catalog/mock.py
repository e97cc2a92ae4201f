"""Mock catalogues: galaxies drawn from the model's priors, noise-free and noisy photometry.

:func:`generate_mock` returns a table in the catalogue schema of :mod:`sedjax.catalog.table`
(with the ``true_*`` columns); :func:`noise_sigma` is its noise model.
"""

from __future__ import annotations

import logging

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from sedjax.catalog.table import err_col, flux_col
from sedjax.model.domains import check_domain, metallicity_grid_warning
from sedjax.model.priors import prior_from_config

log = logging.getLogger(__name__)
DARK_MAGGIES = 1e-30  # AB magnitude 75: no photons at all (e.g. every band blueward of Lyman alpha)


# ----------------------------------------------------------------------- noise
def noise_sigma(flux_true, frac_err: float = 0.1, floor_maggies: float = 0.0, snr=None):
    """Per-band 1σ errors (maggies) of the noise model.

    ``snr`` set: σ = |f|/snr; otherwise σ = frac_err·|f|; a floor (maggies) is added in
    quadrature in both cases.
    """
    f = jnp.abs(flux_true)
    base = f / snr if snr is not None else frac_err * f
    return jnp.sqrt(base**2 + floor_maggies**2)


# ------------------------------------------------------------------------ mock
def check_mock_photometry(flux_true, params: dict, bands) -> None:
    """Refuse noise-free mock photometry that is not finite or has no flux in any band.

    Names the first bad galaxy (row), its parameters and the bands; a galaxy with some
    (not all) bands below :data:`DARK_MAGGIES` is logged as a warning.
    """
    flux_true = np.asarray(flux_true)

    def describe(i):
        return ", ".join(f"{k}={float(np.asarray(v)[i]):.4g}" for k, v in params.items())

    bad = ~np.all(np.isfinite(flux_true), axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        nb = [b for b, f in zip(bands, flux_true[i]) if not np.isfinite(f)]
        raise ValueError(
            f"mock galaxy {i} ({int(bad.sum())} in all) has non-finite model photometry in bands {nb}; "
            f"parameters: {describe(i)}. Fix the priors in model.params (or mock.redshift); nothing was written"
        )
    dark = flux_true < DARK_MAGGIES
    all_dark = dark.all(axis=1)
    if all_dark.any():
        i = int(np.flatnonzero(all_dark)[0])
        raise ValueError(
            f"mock galaxy {i} ({int(all_dark.sum())} in all) has no flux (< {DARK_MAGGIES:g} maggies) in any band "
            f"{list(bands)}; parameters: {describe(i)}. At redshift z every band blueward of "
            "1216·(1+z) Å is absorbed by the IGM: choose bands that see the galaxy or a lower redshift; "
            "nothing was written"
        )
    for i in np.flatnonzero(dark.any(axis=1))[:20]:
        log.warning("mock galaxy %d: no flux in bands %s (%s)", i, [b for b, d in zip(bands, dark[i]) if d], describe(i))


def generate_mock(
    model,
    n_galaxies: int,
    seed: int,
    noise: dict | None = None,
    redshift=None,
    mode: str = "fast",
    chunk_size: int = 4096,
) -> pd.DataFrame:
    """Draw galaxies from the model's priors, predict photometry, add Gaussian noise.

    Parameters
    ----------
    model : SEDModel
    n_galaxies : int
    seed : int
        Everything random derives from ``jax.random.PRNGKey(seed)``: same seed, same table.
    noise : dict with ``frac_err``, ``floor_maggies``, ``snr`` (see :func:`noise_sigma`)
    redshift : None or prior config / prior
        None: the model's redshift prior; otherwise per-galaxy z drawn from this prior
        (the model's ``z_range`` must cover it). Per-galaxy redshifts use exact photometry.
    mode : {"fast", "exact"} photometry mode for a fixed-redshift model.
    chunk_size : galaxies per vmapped call (bounds memory).

    Returns
    -------
    pandas.DataFrame in the catalogue schema, with truth columns.
    """
    met_warning = metallicity_grid_warning(model.spec, model.ssp)
    if met_warning:
        log.warning(met_warning)
    noise = {"frac_err": 0.1, "floor_maggies": 0.0, "snr": None, **(noise or {})}
    spec = model.spec
    key = jax.random.PRNGKey(seed)
    k_par, k_z, k_noise = jax.random.split(key, 3)
    params = spec.sample_batch(k_par, n_galaxies)
    per_galaxy_z = redshift is not None
    if per_galaxy_z:
        zprior = prior_from_config("redshift", redshift)
        try:
            check_domain("redshift", zprior)
        except ValueError as e:
            raise ValueError(f"mock.redshift: {e}") from None
        params["redshift"] = jnp.asarray(zprior.sample(k_z, (n_galaxies,)), model.dtype)
        lo, hi = model.z_range
        zmin, zmax = float(params["redshift"].min()), float(params["redshift"].max())
        if zmin < lo or zmax > hi:
            raise ValueError(
                f"mock redshifts span {zmin:.3f}–{zmax:.3f} but the model supports {lo}–{hi}: "
                "build the model with z_range covering the mock's redshift prior"
            )
        mode = "exact"

    def one(p):
        return model.predict_photometry(p, mode=mode), model.derived(p)

    if mode == "exact":
        # exact mode gathers per-galaxy SSP slices: map sequentially in small vmapped batches
        batched = jax.jit(lambda p: jax.lax.map(one, p, batch_size=8))
    else:
        batched = jax.jit(jax.vmap(one))
    fluxes, derived = [], []
    for start in range(0, n_galaxies, chunk_size):
        chunk = {k: v[start : start + chunk_size] for k, v in params.items()}
        f, d = batched(chunk)
        fluxes.append(np.asarray(f))
        derived.append({k: np.asarray(v) for k, v in d.items()})
    flux_true = np.concatenate(fluxes, axis=0)
    derived = {k: np.concatenate([d[k] for d in derived]) for k in derived[0]}
    check_mock_photometry(flux_true, params, model.bands)
    sigma = np.asarray(noise_sigma(jnp.asarray(flux_true), noise["frac_err"], noise["floor_maggies"], noise["snr"]))
    draws = np.asarray(jax.random.normal(k_noise, flux_true.shape, dtype=jnp.float64))
    flux_obs = flux_true + sigma * draws

    cols = {"id": np.arange(n_galaxies, dtype=np.int64), "redshift": np.asarray(params["redshift"], np.float64)}
    for b, band in enumerate(model.bands):
        cols[flux_col(band)] = flux_obs[:, b]
        cols[err_col(band)] = sigma[:, b]
    for name in spec.priors:
        cols[f"true_{name}"] = np.asarray(params[name], np.float64)
    for name, v in derived.items():
        cols[f"true_{name}"] = np.asarray(v, np.float64)
    for b, band in enumerate(model.bands):
        cols[f"true_flux_{band}"] = flux_true[:, b]
    return pd.DataFrame(cols)
