"""Photometric catalogues: one table schema for mock and real data.

Schema (one row per galaxy)
---------------------------
- ``id`` (int or str), ``redshift``
- ``flux_<band>``, ``flux_err_<band>`` in AB maggies for every band
- mocks only: ``true_<param>`` for every model parameter and ``true_<derived>`` for the
  derived quantities of :meth:`sedjax.model.sed_model.SEDModel.derived`, and ``true_flux_<band>``
  (noise-free model photometry).

Mock catalogues are drawn by :mod:`sedjax.catalog.mock`; this module reads and writes
the table and holds :class:`Catalog` (one galaxy by id: :meth:`Catalog.row`; truths:
:meth:`Catalog.truths`).

Parquet (pandas + pyarrow) is the main format; the run's metadata (config, SSP sha256,
seed, package versions) travels as JSON under the ``sedjax`` key of the Parquet schema
metadata. CSV is written beside it for people.

A band is unusable for a galaxy when its flux or error is missing/NaN, its error is
≤ 0, or its flux lies more than ``negative_sigma`` (5) errors below zero (a sentinel such
as −99; logged per galaxy and band); those entries get ``mask = False`` and contribute
nothing to the likelihood. Other negative fluxes are valid measurements and are fitted.
Ids must be unique. A user's own file (CSV, Parquet, FITS; magnitudes or other units) is
converted to this schema by :mod:`sedjax.catalog.ingest`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sedjax.io.atomic import atomic_output

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

    def index(self, galaxy_id) -> int:
        """Row of the galaxy whose id is ``galaxy_id`` (the first, should ids repeat).

        One type rule: ``galaxy_id`` is converted to the catalogue's id type (integer ids:
        ``int(galaxy_id)``, so ``"7"`` finds 7; string ids: ``str(galaxy_id)``) and compared
        with ``==``. Raises ``CatalogError`` when the id cannot be converted or is not in the
        catalogue (absent, or skipped by :func:`read_catalog`).
        """
        ids = np.asarray(self.ids)
        try:
            key = _as_id_type(galaxy_id, ids.dtype)
        except (TypeError, ValueError) as exc:
            raise CatalogError(f"galaxy id {galaxy_id!r} is not a valid id of this catalogue (ids are {ids.dtype})") from exc
        rows = np.flatnonzero(ids == key)
        if rows.size == 0:
            raise CatalogError(
                f"galaxy id {galaxy_id!r} not in the catalogue (or skipped: no usable band or no redshift)"
            )
        return int(rows[0])

    def row(self, galaxy_id) -> dict:
        """One galaxy's photometry by id (see :meth:`index`): ``{"flux", "flux_err", "mask",
        "redshift"}`` (the ``obs`` of :func:`sedjax.fitting.single.fit`)."""
        i = self.index(galaxy_id)
        return {"flux": self.flux_maggies[i], "flux_err": self.flux_err_maggies[i], "mask": self.mask[i],
                "redshift": self.redshift[i]}

    def truths(self, rows=slice(None), *, fluxes: bool = False) -> dict:
        """``{name: values}`` of every ``true_<name>`` column (mocks; ``{}`` for real data) at ``rows``.

        ``rows``: an index (one galaxy: scalar values), a slice or an index array;
        ``fluxes``: include the noise-free photometry ``true_flux_<band>`` (``flux_<band>``
        keys); without it only parameters and derived quantities. Column order of the table.
        """
        return {
            c[len("true_"):]: self.table[c].to_numpy()[rows]
            for c in self.table.columns
            if c.startswith("true_") and (fluxes or not c.startswith("true_flux_"))
        }


def _as_id_type(galaxy_id, dtype: np.dtype):
    """``galaxy_id`` as the catalogue's id type: int for integer ids, float for float ids, else str."""
    if dtype.kind in "iu":
        if isinstance(galaxy_id, (float, np.floating)) and not float(galaxy_id).is_integer():
            raise ValueError(f"{galaxy_id!r} is not an integer")
        return int(galaxy_id)
    if dtype.kind == "f":
        return float(galaxy_id)
    return str(galaxy_id)


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


NEGATIVE_FLUX_SIGMA = 5.0
"""A flux more than this many errors below zero is masked (a sentinel such as −99, not noise)."""


def numeric_column(df: pd.DataFrame, col: str, path, first_row: int = 0) -> np.ndarray:
    """Column ``col`` as float64; a non-numeric string is a ``CatalogError`` naming the file,
    the column and the first bad data row (0-based, counted from ``first_row``: the file's
    row of ``df``'s first row; empty cells are missing values)."""
    s = df[col]
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    num = pd.to_numeric(s, errors="coerce")
    bad = (s.notna() & num.isna() & (s.astype(str).str.strip() != "")).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CatalogError(
            f"{path}: column {col!r} must be numeric but data row {first_row + i} holds {s.iloc[i]!r} ({int(bad.sum())} such "
            "rows); fix the file (leave a missing value empty) or map another column in the config's `catalog:` block"
        )
    return num.to_numpy(dtype=np.float64, na_value=np.nan)


def read_catalog(path, bands, columns: dict | None = None, log=print,
                 negative_sigma: float = NEGATIVE_FLUX_SIGMA) -> Catalog:
    """Read a Parquet or CSV catalogue in the sedjax schema.

    Parameters
    ----------
    path : Parquet (``.parquet``/``.pq``) or CSV file
    bands : list of band names the fit uses
    columns : optional mapping from schema names (``id``, ``redshift``,
        ``flux_<band>``, ``flux_err_<band>``) to the file's own column names
    log : callable for the report of skipped galaxies and masked bands
    negative_sigma : a flux below ``-negative_sigma`` × its error is masked (one log line
        per galaxy and band); fluxes above that, negative or not, are fitted

    Raises
    ------
    CatalogError
        Unreadable file, a missing required column (named, with the columns the file has
        and the ``catalog:`` config block as the fix), a non-numeric value in a flux,
        error or redshift column (with its first row), or repeated ids.
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
            f"{path}: missing required column(s) {missing}; the file has {list(df.columns)}. A catalogue in the "
            "sedjax schema needs id, redshift, flux_<band> and flux_err_<band> (AB maggies) for every model band: "
            "for your own file set catalog.source: file and map its columns in the config's `catalog:` block "
            "(catalog.id, catalog.redshift, catalog.bands.<band>), or remove the band from model.bands."
        )
    dup = df["id"].duplicated(keep=False).to_numpy()
    if dup.any():
        raise CatalogError(
            f"{path}: column 'id' repeats ids {sorted(map(str, set(df.loc[dup, 'id'])))[:10]} ({int(dup.sum())} rows); "
            "ids must be unique: deduplicate the file or choose a unique id column (catalog.id)"
        )
    flux = np.column_stack([numeric_column(df, flux_col(b), path) for b in bands])
    err = np.column_stack([numeric_column(df, err_col(b), path) for b in bands])
    mask = np.isfinite(flux) & np.isfinite(err) & (err > 0)
    with np.errstate(invalid="ignore"):
        low = mask & (flux < -negative_sigma * err)
    for i, j in zip(*np.nonzero(low)):
        log(f"{path}: galaxy {df['id'].iloc[i]} band {bands[j]}: masked (flux {flux[i, j]:.3g} is "
            f"{flux[i, j] / err[i, j]:.1f} sigma below zero: a sentinel or broken value, not noise)")
    mask &= ~low
    z = numeric_column(df, "redshift", path)
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
