"""Photometric catalogues: one table schema for mock and real data.

Schema (one row per galaxy)
---------------------------
- ``id`` (int or str), ``redshift``
- ``flux_<band>``, ``flux_err_<band>`` in AB maggies for every band
- mocks only: ``true_<param>`` for every model parameter and ``true_<derived>`` for the
  derived quantities of :meth:`sedjax.model.sed_model.SEDModel.derived`, and ``true_flux_<band>``
  (noise-free model photometry).

Parquet (pandas + pyarrow) is the main format; the run's metadata (config, SSP sha256,
seed, package versions) travels as JSON under the ``sedjax`` key of the Parquet schema
metadata. CSV is written beside it for people.

A band is unusable for a galaxy when its flux or error is missing/NaN or its error is
≤ 0; those entries get ``mask = False`` and contribute nothing to the likelihood.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from sedjax.io.atomic import atomic_output
from sedjax.model.priors import prior_from_config

METADATA_KEY = b"sedjax"


def flux_col(band: str) -> str:
    return f"flux_{band}"


def err_col(band: str) -> str:
    return f"flux_err_{band}"


class CatalogError(ValueError):
    """A catalogue file that cannot be used (names the file, the column and the fix)."""


@dataclass
class Catalog:
    """Arrays a fit needs, read from a catalogue table.

    Attributes
    ----------
    ids : (n,) galaxy ids
    redshift : (n,) float
    flux_maggies, flux_err_maggies : (n, n_band) float, NaN-free (0 where masked)
    mask : (n, n_band) bool, True where the band is usable
    bands : list of str
    table : the full DataFrame of usable galaxies (truth columns included)
    skipped : ids of galaxies with no usable band (not in the arrays)
    """

    ids: np.ndarray
    redshift: np.ndarray
    flux_maggies: np.ndarray
    flux_err_maggies: np.ndarray
    mask: np.ndarray
    bands: list
    table: pd.DataFrame
    skipped: list = field(default_factory=list)

    def __len__(self):
        return len(self.ids)

    def truths(self, names) -> dict | None:
        """``{name: (n,) array}`` of ``true_<name>`` columns, or None if any is missing."""
        cols = [f"true_{n}" for n in names]
        if not all(c in self.table.columns for c in cols):
            return None
        return {n: self.table[f"true_{n}"].to_numpy() for n in names}


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
    noise = {"frac_err": 0.1, "floor_maggies": 0.0, "snr": None, **(noise or {})}
    spec = model.spec
    key = jax.random.PRNGKey(seed)
    k_par, k_z, k_noise = jax.random.split(key, 3)
    params = spec.sample_batch(k_par, n_galaxies)
    per_galaxy_z = redshift is not None
    if per_galaxy_z:
        zprior = prior_from_config("redshift", redshift)
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


# ------------------------------------------------------------------------- I/O
def write_catalog(df: pd.DataFrame, path, meta: dict | None = None, csv_path=None) -> None:
    """Write the table as Parquet (metadata under key ``sedjax``) and optionally CSV.

    Both files are written to temporary paths and renamed, so no half-written file stays.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    md = dict(table.schema.metadata or {})
    md[METADATA_KEY] = json.dumps(meta or {}, sort_keys=True, default=str).encode()
    table = table.replace_schema_metadata(md)
    with atomic_output(path) as tmp:
        pq.write_table(table, tmp)
    if csv_path is not None:
        with atomic_output(csv_path) as tmp:
            df.to_csv(tmp, index=False, float_format="%.10g")


def read_metadata(path) -> dict:
    """The ``sedjax`` metadata dict of a Parquet catalogue ({} if absent)."""
    import pyarrow.parquet as pq

    md = pq.read_schema(path).metadata or {}
    return json.loads(md[METADATA_KEY]) if METADATA_KEY in md else {}


def read_catalog(path, bands, columns: dict | None = None, log=print) -> Catalog:
    """Read a Parquet or CSV catalogue in the sedjax schema.

    Parameters
    ----------
    path : Parquet (``.parquet``/``.pq``) or CSV file
    bands : list of band names the fit uses
    columns : optional mapping from schema names (``id``, ``redshift``,
        ``flux_<band>``, ``flux_err_<band>``) to the file's own column names
    log : callable for the report of skipped galaxies

    Raises
    ------
    CatalogError
        Unreadable file or a missing required column (named, with the fix).
    """
    path = str(path)
    if not os.path.exists(path):
        raise CatalogError(f"{path}: catalogue file not found")
    try:
        if path.endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        elif path.endswith(".csv"):
            df = pd.read_csv(path)
        else:
            raise CatalogError(f"{path}: unknown catalogue format; use .parquet or .csv")
    except CatalogError:
        raise
    except Exception as exc:  # pyarrow/pandas parse errors
        raise CatalogError(f"{path}: cannot read catalogue ({exc})") from exc
    mapping = dict(columns or {})
    if mapping:
        df = df.rename(columns={v: k for k, v in mapping.items()})
    required = ["id", "redshift"] + [c for b in bands for c in (flux_col(b), err_col(b))]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise CatalogError(
            f"{path}: missing required column(s) {missing}. Rename them in the file or map "
            "them with the config's catalog columns: {schema_name: file_column}."
        )
    flux = df[[flux_col(b) for b in bands]].to_numpy(dtype=np.float64)
    err = df[[err_col(b) for b in bands]].to_numpy(dtype=np.float64)
    mask = np.isfinite(flux) & np.isfinite(err) & (err > 0)
    z = df["redshift"].to_numpy(dtype=np.float64)
    good = mask.any(axis=1) & np.isfinite(z)
    skipped = df.loc[~good, "id"].tolist()
    if skipped:
        log(f"{path}: skipping {len(skipped)} galaxies with no usable band or no redshift: ids {skipped[:20]}")
    flux = np.where(mask, flux, 0.0)[good]
    err = np.where(mask, err, 1.0)[good]
    return Catalog(
        ids=df.loc[good, "id"].to_numpy(),
        redshift=z[good],
        flux_maggies=flux,
        flux_err_maggies=err,
        mask=mask[good],
        bands=list(bands),
        table=df.loc[good].reset_index(drop=True),
        skipped=skipped,
    )
