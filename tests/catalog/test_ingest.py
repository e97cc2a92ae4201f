"""A user's photometry file through the catalog: config block (sedjax.catalog.ingest) and the
checks of read_catalog: masks, negative fluxes, a missing band, and every bad input."""

import numpy as np
import pandas as pd
import pytest

from sedjax.catalog import units as U
from sedjax.catalog.ingest import count_galaxies, prepare_catalog, write_prepared_catalog
from sedjax.catalog.table import CatalogError, read_catalog, read_metadata

BANDS = ["sdss_g", "sdss_r", "2mass_ks"]


def _cfg(path, **over):
    cfg = {"source": "file", "path": str(path), "id": "objid", "redshift": "zspec", "flux_units": "uJy",
           "mag_units": "AB_mag", "rows": None, "negative_sigma": 5.0,
           "bands": {"sdss_g": {"mag": "g", "mag_err": "g_err", "extinction": "ext_g", "zero_point": 0.02},
                     "sdss_r": {"flux": "r_ujy", "flux_err": "r_ujy_err", "flag": "r_flag"},
                     "2mass_ks": {"mag": "k", "mag_err": "k_err", "units": "vega_mag"}}}
    cfg.update(over)
    return cfg


def _table():
    return pd.DataFrame({
        "objid": ["a1", "a2", "a3", "a4", "a5"],
        "zspec": [0.02, 0.021, 0.015, np.nan, 0.03],
        "g": [18.0, 99.0, 18.5, 17.0, 19.0],            # a2: sentinel
        "g_err": [0.05, 0.1, 0.05, 0.05, 0.05],
        "ext_g": [0.2, 0.1, 0.0, 0.0, np.nan],
        "r_ujy": [100.0, 50.0, -2.0, 10.0, -80.0],      # a3: slightly negative (kept); a5: -8 sigma (masked)
        "r_ujy_err": [5.0, 5.0, 3.0, 1.0, 10.0],
        "r_flag": [0, 1, 0, 0, 0],                      # a2: flagged
        "k": [15.0, np.nan, 16.0, 15.0, 17.0],          # a2: missing band
        "k_err": [0.1, np.nan, 0.1, 0.1, 0.1],
    })


def test_file_catalogue_masks_negative_fluxes_and_missing_band(tmp_path):
    path = tmp_path / "phot.csv"
    _table().to_csv(path, index=False)
    messages = []
    out = tmp_path / "out" / "catalog.parquet"
    df = write_prepared_catalog(_cfg(path), BANDS, out, tmp_path / "out" / "catalog.csv", log=messages.append)
    # a4 has no redshift: dropped (logged); a2 has every band masked: dropped
    assert list(df["name"]) == ["a1", "a3", "a5"] and list(df["id"]) == [0, 1, 2] and list(df["row"]) == [0, 2, 4]
    assert any("a2" in m and "sentinel" in m for m in messages)
    assert any("a2" in m and "flag 'r_flag'" in m for m in messages)
    assert any("a5" in m and "sdss_r" in m and "sigma below zero" in m for m in messages)
    assert any("dropping 2" in m for m in messages)
    # g: AB + zero point - extinction -> maggies
    g_ab = 18.0 + 0.02 - 0.2
    assert df["flux_sdss_g"].iloc[0] == pytest.approx(10 ** (-0.4 * g_ab), rel=1e-12)
    assert df["flux_err_sdss_g"].iloc[0] == pytest.approx(0.4 * np.log(10) * 0.05 * 10 ** (-0.4 * g_ab), rel=1e-12)
    # r: uJy -> maggies, the slightly negative flux is a valid measurement
    assert df["flux_sdss_r"].iloc[0] == pytest.approx(100e-6 / 3631, rel=1e-12)
    assert df["flux_sdss_r"].iloc[1] == pytest.approx(-2e-6 / 3631, rel=1e-12)
    assert np.isnan(df["flux_sdss_r"].iloc[2])  # a5: -8 sigma masked
    # Ks: Vega -> AB from sedpy's Vega spectrum
    assert df["flux_2mass_ks"].iloc[0] == pytest.approx(10 ** (-0.4 * (15.0 + U.vega_to_ab_mag("2mass_ks"))), rel=1e-12)
    assert count_galaxies(_cfg(path), BANDS) == 3
    meta = read_metadata(out)
    assert meta["kind"] == "file" and meta["conversions"]["2mass_ks"]["unit"] == "vega_mag"
    # the prepared file reads back with masks: negative flux fitted, masked band off
    cat = read_catalog(out, BANDS, log=messages.append)
    np.testing.assert_array_equal(cat.mask, [[True, True, True], [True, True, True], [True, False, True]])
    assert cat.flux_maggies[1, 1] < 0


def test_rows_subset(tmp_path):
    path = tmp_path / "phot.parquet"
    _table().to_parquet(path)
    df, _ = prepare_catalog(_cfg(path, rows=[2, 5]), BANDS, log=lambda *_: None)
    assert list(df["name"]) == ["a3", "a5"] and list(df["row"]) == [2, 4]


def test_fits_table(tmp_path):
    from astropy.table import Table

    path = tmp_path / "phot.fits"
    Table.from_pandas(_table()).write(path)
    df, _ = prepare_catalog(_cfg(path), BANDS, log=lambda *_: None)
    assert list(df["name"]) == ["a1", "a3", "a5"]


def _bad(tmp_path, table=None, cfg_over=None, bands=BANDS):
    path = tmp_path / "phot.csv"
    (table if table is not None else _table()).to_csv(path, index=False)
    out = tmp_path / "res" / "catalog.parquet"
    with pytest.raises(CatalogError) as err:
        write_prepared_catalog(_cfg(path, **(cfg_over or {})), bands, out, tmp_path / "res" / "catalog.csv",
                               log=lambda *_: None)
    assert not (tmp_path / "res").exists() or not any((tmp_path / "res").iterdir()), "nothing may be written"
    return str(err.value)


def test_missing_column_lists_what_exists(tmp_path):
    msg = _bad(tmp_path, table=_table().drop(columns=["k_err"]))
    assert "'k_err'" in msg and "catalog:" in msg and "'zspec'" in msg  # names the file's columns


def test_string_in_numeric_column_names_file_column_and_row(tmp_path):
    t = _table().astype({"g": object})
    t.loc[3, "g"] = "17.0x"
    msg = _bad(tmp_path, table=t)
    assert "phot.csv" in msg and "'g'" in msg and "data row 3" in msg and "'17.0x'" in msg


def test_duplicate_ids_refused(tmp_path):
    t = _table()
    t.loc[4, "objid"] = "a1"
    msg = _bad(tmp_path, table=t)
    assert "repeats ids ['a1']" in msg and "catalog.id" in msg


def test_unknown_and_missing_bands(tmp_path):
    msg = _bad(tmp_path, bands=["sdss_g", "sdss_r"])
    assert "2mass_ks" in msg and "not bands of the model" in msg
    msg = _bad(tmp_path, bands=BANDS + ["sdss_i"])
    assert "sdss_i" in msg and "no columns in catalog.bands" in msg


def test_unit_kind_mismatch_and_bad_redshift(tmp_path):
    cfg = _cfg("x")
    cfg["bands"]["sdss_g"]["units"] = "nJy"
    msg = _bad(tmp_path, cfg_over={"bands": cfg["bands"]})
    assert "catalog.bands.sdss_g" in msg and "AB_mag" in msg
    t = _table()
    t.loc[0, "zspec"] = -0.001
    msg = _bad(tmp_path, table=t)
    assert "'zspec'" in msg and "a1" in msg and "z > 0" in msg


def test_missing_file_and_empty_rows(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        prepare_catalog(_cfg(tmp_path / "nope.csv"), BANDS)
    msg = _bad(tmp_path, cfg_over={"rows": [10, 20]})
    assert "selects nothing" in msg and "5 data rows" in msg


# ------------------------------------------------------- read_catalog (sedjax schema)
def _schema_table():
    return pd.DataFrame({"id": [0, 1, 2], "redshift": [0.1, 0.1, 0.1], "flux_sdss_g": [1e-9, -99.0, -1e-10],
                         "flux_err_sdss_g": [1e-10, 1.0, 1e-10], "flux_sdss_r": [1e-9, 1e-9, 1e-9],
                         "flux_err_sdss_r": [1e-10, 1e-10, 1e-10]})


def test_read_catalog_masks_far_negative_fluxes_with_a_log_line(tmp_path):
    _schema_table().to_csv(tmp_path / "c.csv", index=False)
    messages = []
    cat = read_catalog(tmp_path / "c.csv", ["sdss_g", "sdss_r"], log=messages.append)
    np.testing.assert_array_equal(cat.mask[:, 0], [True, False, True])  # -99 +- 1: masked; -1 sigma: fitted
    assert len(messages) == 1 and "galaxy 1 band sdss_g" in messages[0] and "-99.0 sigma below zero" in messages[0]


def test_read_catalog_refuses_duplicates_and_strings(tmp_path):
    t = _schema_table()
    t.loc[2, "id"] = 0
    t.to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(CatalogError, match=r"repeats ids \['0'\]"):
        read_catalog(tmp_path / "dup.csv", ["sdss_g", "sdss_r"])
    t = _schema_table().astype({"flux_sdss_r": object})
    t.loc[1, "flux_sdss_r"] = "bad"
    t.to_csv(tmp_path / "str.csv", index=False)
    with pytest.raises(CatalogError, match=r"str\.csv: column 'flux_sdss_r' must be numeric but data row 1 holds 'bad'"):
        read_catalog(tmp_path / "str.csv", ["sdss_g", "sdss_r"])
    with pytest.raises(CatalogError, match=r"the file has \[.*'flux_sdss_g'.*`catalog:` block"):
        read_catalog(tmp_path / "str.csv", ["sdss_g", "sdss_i"])
