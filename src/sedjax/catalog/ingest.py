"""A user's photometry file -> a catalogue in the sedjax schema (the ``catalog:`` config block).

:func:`prepare_catalog` reads a CSV, Parquet or FITS table, maps its columns through the
``catalog:`` block (``id``, ``redshift``, per band ``flux``/``flux_err`` or ``mag``/``mag_err``
with ``units``, optional ``zero_point``, ``extinction`` and ``flag`` columns, ``rows``),
converts every band to AB maggies once (:mod:`sedjax.catalog.units`) and returns one row per
usable galaxy in the schema of :mod:`sedjax.catalog.table`: ``id`` (0, 1, … in file order:
the id fits, seeds and figure names use), ``name`` (the file's own id, as a string),
``row`` (0-based data row of the file), ``redshift``, ``flux_<band>``, ``flux_err_<band>``
(NaN where a band is masked).

A band of a galaxy is masked (with one log line per galaxy and band for the reasons
that are not plain missing data) when its value or error is missing, its error is ≤ 0,
its magnitude is a sentinel (99, −99, −9999), its ``flag`` column is non-zero, or its
flux lies more than ``negative_sigma`` errors below zero. Negative fluxes above that
are valid measurements and are kept. Galaxies with no usable band or no finite
redshift are dropped (logged).

Errors (:class:`~sedjax.catalog.table.CatalogError`, naming the file, the column and the
fix; nothing is written): unreadable file, missing columns (listing the file's columns),
a string in a numeric column (with its first bad row), duplicate ids, a model band
without columns or a ``catalog.bands`` entry that is not a model band, a magnitude
column with a flux unit (or the reverse), redshift ≤ 0, an empty selection.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from sedjax.catalog import units as U
from sedjax.catalog.table import CatalogError, err_col, flux_col, numeric_column

FIX = "the `catalog:` block of the config"


def read_table(path) -> pd.DataFrame:
    """A CSV (``.csv``), Parquet (``.parquet``/``.pq``) or FITS (``.fits``/``.fit``/``.fits.gz``) table."""
    path = str(path)
    if not os.path.exists(path):
        raise CatalogError(f"{path}: catalogue file not found (catalog.path in {FIX})")
    low = path.lower()
    try:
        if low.endswith(".csv"):
            return pd.read_csv(path)
        if low.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        if low.endswith((".fits", ".fit", ".fits.gz")):
            from astropy.table import Table

            return Table.read(path, format="fits").to_pandas()
    except Exception as exc:  # parser errors of pandas / pyarrow / astropy
        raise CatalogError(f"{path}: cannot read the catalogue ({type(exc).__name__}: {exc})") from exc
    raise CatalogError(f"{path}: unknown catalogue format; use a .csv, .parquet or .fits table")


def band_units(cfg: dict, band: str) -> tuple[str, str, str]:
    """``(value column, error column, unit)`` of one ``catalog.bands`` entry (checked)."""
    spec = cfg["bands"][band]
    if "mag" in spec:
        cols, unit, want_mag = (spec["mag"], spec.get("mag_err")), spec.get("units", cfg["mag_units"]), True
    else:
        cols, unit, want_mag = (spec.get("flux"), spec.get("flux_err")), spec.get("units", cfg["flux_units"]), False
    if cols[0] is None or cols[1] is None:
        raise CatalogError(f"catalog.bands.{band}: give `flux` and `flux_err`, or `mag` and `mag_err` ({FIX})")
    try:
        is_mag = U.is_magnitude(unit)
    except ValueError as exc:
        raise CatalogError(f"catalog.bands.{band}: {exc}") from None
    if is_mag != want_mag:
        kind = "magnitude columns (`mag`)" if want_mag else "flux columns (`flux`)"
        raise CatalogError(f"catalog.bands.{band}: {kind} with unit {unit!r}; set units to one of "
                           f"{list(U.MAG_UNITS) if want_mag else list(U.FLUX_UNITS)}")
    return cols[0], cols[1], unit


def check_bands(cfg: dict, bands) -> None:
    """Every model band has a ``catalog.bands`` entry and every entry is a model band."""
    have, want = list(cfg["bands"]), list(bands)
    unknown = [b for b in have if b not in want]
    if unknown:
        raise CatalogError(f"catalog.bands {unknown} are not bands of the model (model.bands: {want}); "
                           "add them to model.bands or remove them from catalog.bands")
    missing = [b for b in want if b not in have]
    if missing:
        raise CatalogError(f"model band(s) {missing} have no columns in catalog.bands; add e.g. "
                           f"`{missing[0]}: {{flux: <column>, flux_err: <column>}}` or remove the band from model.bands")
    for b in want:
        band_units(cfg, b)


def _columns_needed(cfg: dict, bands) -> list[str]:
    cols = [cfg["id"], cfg["redshift"]]
    for b in bands:
        v, e, _ = band_units(cfg, b)
        spec = cfg["bands"][b]
        cols += [v, e] + [spec[k] for k in ("extinction", "flag") if spec.get(k)]
    return cols


def select_rows(df: pd.DataFrame, cfg: dict, path) -> tuple[pd.DataFrame, int]:
    """``catalog.rows`` ([first, stop) of the file's data rows, or all) -> (rows, first)."""
    rows = cfg.get("rows")
    if rows is None:
        return df, 0
    lo, hi = int(rows[0]), int(rows[1])
    if not 0 <= lo < hi:
        raise CatalogError(f"catalog.rows {rows}: need 0 <= first < stop (a [first, stop) range of data rows)")
    if lo >= len(df):
        raise CatalogError(f"{path}: catalog.rows {rows} selects nothing: the file has {len(df)} data rows")
    return df.iloc[lo:hi], lo


def load_columns(cfg: dict, bands, log=print) -> dict:
    """Checked arrays of the configured columns (no unit conversion).

    Returns ``{"path", "names", "rows", "redshift", "value", "error", "mask", "units",
    "extinction"}``: ``value``/``error`` (n, n_band) as in the file, ``extinction`` (n, n_band)
    [mag] (0 where no column is configured or the cell is empty), ``mask`` True where usable (see the
    module docstring; the negative-flux test is :func:`flux_masks`'s), ``names`` the ids
    as strings, ``rows`` the 0-based data rows.
    """
    path = cfg["path"]
    if not path:
        raise CatalogError(f"catalog.source is 'file' but catalog.path is not set ({FIX})")
    bands = list(bands)
    check_bands(cfg, bands)
    df, first = select_rows(read_table(path), cfg, path)
    needed = _columns_needed(cfg, bands)
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise CatalogError(f"{path}: column(s) {missing} named in {FIX} are not in the file; the file has "
                           f"{list(df.columns)}")
    ids = df[cfg["id"]]
    if ids.isna().any():
        i = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise CatalogError(f"{path}: id column {cfg['id']!r} is empty at data row {first + i}; every galaxy needs an id")
    names = ids.astype(str).to_numpy()
    dup = pd.Series(names).duplicated(keep=False).to_numpy()
    if dup.any():
        raise CatalogError(
            f"{path}: id column {cfg['id']!r} repeats ids {sorted(set(names[dup]))[:10]} ({int(dup.sum())} rows); "
            "ids must be unique: deduplicate the file, choose a unique column as catalog.id, or fit a subset "
            "with catalog.rows")
    z = numeric_column(df, cfg["redshift"], path, first)
    n, nb = len(df), len(bands)
    value, error, mask = np.empty((n, nb)), np.empty((n, nb)), np.ones((n, nb), bool)
    extinction = np.zeros((n, nb))
    unit_of = []
    for j, b in enumerate(bands):
        vcol, ecol, unit = band_units(cfg, b)
        spec = cfg["bands"][b]
        value[:, j], error[:, j] = numeric_column(df, vcol, path, first), numeric_column(df, ecol, path, first)
        unit_of.append(unit)
        if spec.get("extinction"):
            extinction[:, j] = np.nan_to_num(numeric_column(df, spec["extinction"], path, first))
        mask[:, j] &= np.isfinite(value[:, j]) & np.isfinite(error[:, j]) & (error[:, j] > 0)
        reasons = []
        if U.is_magnitude(unit):
            reasons.append((U.sentinel_mask(value[:, j]), f"magnitude sentinel in {vcol!r}"))
        if spec.get("flag"):
            flag = numeric_column(df, spec["flag"], path, first)
            reasons.append((np.nan_to_num(flag) != 0, f"flag {spec['flag']!r} set"))
        for bad, why in reasons:
            for i in np.flatnonzero(bad & mask[:, j]):
                log(f"galaxy {names[i]} band {b}: masked ({why}: {value[i, j]:g})")
            mask[:, j] &= ~bad
    zeros = np.isfinite(z) & (z <= 0)
    if zeros.any():
        raise CatalogError(
            f"{path}: redshift column {cfg['redshift']!r} is <= 0 for ids {names[zeros][:10].tolist()}; the model "
            "needs z > 0: fix the values or leave those galaxies out with catalog.rows")
    return {"path": path, "names": names, "rows": np.arange(first, first + n), "redshift": z, "value": value,
            "error": error, "mask": mask, "units": unit_of, "extinction": extinction}


def negative_mask(flux, flux_err, negative_sigma: float) -> np.ndarray:
    """True where a flux lies more than ``negative_sigma`` errors below zero (a sentinel or a
    broken measurement rather than noise)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(flux) < -float(negative_sigma) * np.asarray(flux_err)


def prepare_catalog(cfg: dict, bands, log=print) -> tuple[pd.DataFrame, dict]:
    """The ``catalog:`` block's file as a sedjax-schema DataFrame plus its metadata.

    See the module docstring for the columns, masks and errors. The metadata records the
    file, its configuration and each band's unit and applied offsets (zero point,
    Vega → AB from :func:`sedjax.catalog.units.vega_to_ab_mag`).
    """
    bands = list(bands)
    c = load_columns(cfg, bands, log=log)
    n, names = len(c["names"]), c["names"]
    flux, err = np.full((n, len(bands)), np.nan), np.full((n, len(bands)), np.nan)
    offsets = {}
    for j, b in enumerate(bands):
        spec, unit, ext = cfg["bands"][b], c["units"][j], c["extinction"][:, j]
        zp = float(spec.get("zero_point", 0.0))
        if U.is_magnitude(unit):
            vega = U.vega_to_ab_mag(b) if unit == "vega_mag" else 0.0
            f, e = U.mag_to_maggies(c["value"][:, j] + zp + vega - ext, c["error"][:, j])
            offsets[b] = {"unit": unit, "zero_point_mag": zp, "vega_to_ab_mag": vega}
        else:
            f, e = U.flux_to_maggies(c["value"][:, j], c["error"][:, j], unit)
            scale = 10.0 ** (-0.4 * zp) * U.extinction_factor(ext)
            f, e = f * scale, e * scale
            offsets[b] = {"unit": unit, "zero_point_mag": zp}
        m = c["mask"][:, j].copy()
        neg = m & negative_mask(f, e, cfg["negative_sigma"])
        for i in np.flatnonzero(neg):
            log(f"galaxy {names[i]} band {b}: masked (flux {f[i]:.3g} is {f[i] / e[i]:.1f} sigma below zero, "
                f"beyond catalog.negative_sigma = {cfg['negative_sigma']:g})")
        m &= ~neg
        flux[:, j], err[:, j] = np.where(m, f, np.nan), np.where(m, e, np.nan)
    good = np.isfinite(flux).any(axis=1) & np.isfinite(c["redshift"])
    if (~good).any():
        log(f"{c['path']}: dropping {int((~good).sum())} galaxies with no usable band or no redshift: "
            f"{names[~good][:20].tolist()}")
    if not good.any():
        raise CatalogError(f"{c['path']}: no galaxy has a redshift and a usable band; check the columns in {FIX}")
    out = {"id": np.arange(int(good.sum())), "name": names[good], "row": c["rows"][good],
           "redshift": c["redshift"][good]}
    for j, b in enumerate(bands):
        out[flux_col(b)], out[err_col(b)] = flux[good, j], err[good, j]
    meta = {"kind": "file", "source": os.path.abspath(c["path"]), "catalog": cfg, "bands": bands,
            "conversions": offsets, "n_dropped": int((~good).sum())}
    return pd.DataFrame(out), meta


def write_prepared_catalog(cfg: dict, bands, parquet_path, csv_path=None, log=print, extra_meta=None) -> pd.DataFrame:
    """:func:`prepare_catalog` then write it (:func:`sedjax.catalog.table.write_catalog`, atomic).

    Every check runs before anything is written: on a ``CatalogError`` no file exists.
    ``extra_meta`` joins the metadata (e.g. the source's sha256, package versions).
    """
    from sedjax.catalog.table import write_catalog

    df, meta = prepare_catalog(cfg, bands, log=log)
    write_catalog(df, parquet_path, meta={**meta, **(extra_meta or {})}, csv_path=csv_path)
    return df


def count_galaxies(cfg: dict, bands) -> int:
    """Galaxies :func:`prepare_catalog` keeps (for the workflow's chunk count at parse time)."""
    df, _ = prepare_catalog(cfg, bands, log=lambda *_: None)
    return len(df)
