"""Catalogues: schema round trip, mock determinism and noise statistics, masks and errors,
one galaxy by id (``Catalog.row``) and truths (``Catalog.truths``)."""

import numpy as np
import pandas as pd
import pytest
from testlib import DEFAULT_BANDS

from sedjax.catalog.mock import generate_mock
from sedjax.catalog.table import (
    CatalogError,
    err_col,
    flux_col,
    read_catalog,
    read_metadata,
    write_catalog,
)


def test_round_trip_and_determinism(default_model, tmp_path):
    df = generate_mock(default_model, 50, seed=3)
    meta = {"seed": 3, "ssp_sha256": "abc"}
    write_catalog(df, tmp_path / "a.parquet", meta=meta, csv_path=tmp_path / "a.csv")
    write_catalog(generate_mock(default_model, 50, seed=3), tmp_path / "b.parquet", meta=meta)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    write_catalog(generate_mock(default_model, 50, seed=4), tmp_path / "c.parquet", meta=meta)
    assert (tmp_path / "a.parquet").read_bytes() != (tmp_path / "c.parquet").read_bytes()
    assert read_metadata(tmp_path / "a.parquet") == meta
    cat = read_catalog(tmp_path / "a.parquet", DEFAULT_BANDS)
    np.testing.assert_array_equal(cat.flux_maggies, df[[flux_col(b) for b in DEFAULT_BANDS]].to_numpy())
    assert cat.mask.all() and len(cat) == 50
    cat_csv = read_catalog(tmp_path / "a.csv", DEFAULT_BANDS)
    np.testing.assert_allclose(cat_csv.flux_maggies, cat.flux_maggies, rtol=1e-9)
    for name in default_model.spec.priors:
        assert f"true_{name}" in df.columns
    assert {"true_log_mass_formed", "true_sfr_100myr"} <= set(df.columns)
    assert not list(tmp_path.glob(".tmp_*"))


def test_truth_photometry_is_the_model(default_model):
    df = generate_mock(default_model, 5, seed=1)
    i = 2
    p = {n: df[f"true_{n}"].iloc[i] for n in default_model.spec.priors}
    exact = np.asarray(default_model.predict_photometry(p, mode="exact"))
    np.testing.assert_allclose(df[[f"true_flux_{b}" for b in DEFAULT_BANDS]].iloc[i].to_numpy(), exact, rtol=1.5e-3)


def test_noise_pulls_are_standard_normal(default_model):
    df = generate_mock(default_model, 4000, seed=9)
    pulls = np.concatenate([
        ((df[flux_col(b)] - df[f"true_flux_{b}"]) / df[err_col(b)]).to_numpy() for b in DEFAULT_BANDS
    ])
    n = pulls.size
    assert abs(pulls.mean()) < 4 / np.sqrt(n)
    assert abs(pulls.std() - 1) < 4 / np.sqrt(2 * n)
    np.testing.assert_allclose(df[err_col("sdss_r")], 0.1 * df["true_flux_sdss_r"], rtol=1e-12)


def test_snr_noise_model(default_model):
    df = generate_mock(default_model, 10, seed=1, noise={"snr": 20.0, "floor_maggies": 1e-10})
    expect = np.sqrt((df["true_flux_sdss_g"] / 20.0) ** 2 + 1e-20)
    np.testing.assert_allclose(df[err_col("sdss_g")], expect, rtol=1e-12)


def test_masks_and_skips(tmp_path):
    bands = ["sdss_g", "sdss_r"]
    df = pd.DataFrame({
        "id": [1, 2, 3, 4],
        "redshift": [0.1, 0.1, 0.1, 0.1],
        "flux_sdss_g": [1e-9, np.nan, 1e-9, np.nan],
        "flux_err_sdss_g": [1e-10, 1e-10, -1.0, 1e-10],
        "flux_sdss_r": [1e-9, 1e-9, 1e-9, 1e-9],
        "flux_err_sdss_r": [1e-10, 0.0, 1e-10, np.nan],
    })
    df.to_csv(tmp_path / "real.csv", index=False)
    messages = []
    cat = read_catalog(tmp_path / "real.csv", bands, log=messages.append)
    assert list(cat.ids) == [1, 3]
    assert cat.skipped == [2, 4] and "skipping 2" in messages[0]
    np.testing.assert_array_equal(cat.mask, [[True, True], [False, True]])
    assert np.all(np.isfinite(cat.flux_maggies)) and np.all(cat.flux_err_maggies > 0)


def test_column_mapping_and_missing_column(tmp_path):
    df = pd.DataFrame({"objid": [7], "z": [0.2], "g": [1e-9], "g_err": [1e-10]})
    df.to_parquet(tmp_path / "mine.parquet")
    cols = {"id": "objid", "redshift": "z", "flux_sdss_g": "g", "flux_err_sdss_g": "g_err"}
    cat = read_catalog(tmp_path / "mine.parquet", ["sdss_g"], columns=cols)
    assert list(cat.ids) == [7]
    with pytest.raises(CatalogError, match="flux_err_sdss_g"):
        read_catalog(tmp_path / "mine.parquet", ["sdss_g"], columns={"id": "objid", "redshift": "z", "flux_sdss_g": "g"})
    with pytest.raises(CatalogError, match="not found"):
        read_catalog(tmp_path / "nope.parquet", ["sdss_g"])


def _small_catalog(tmp_path, ids):
    df = pd.DataFrame({
        "id": ids,
        "redshift": [0.1, 0.2, 0.3],
        "flux_sdss_g": [1e-9, 2e-9, np.nan],
        "flux_err_sdss_g": [1e-10, 2e-10, 1e-10],
        "flux_sdss_r": [4e-9, 5e-9, 6e-9],
        "flux_err_sdss_r": [4e-10, 5e-10, 6e-10],
        "true_mass": [10.0, 10.5, 11.0],
        "true_sfr": [1.0, 2.0, 3.0],
        "true_flux_sdss_g": [1.1e-9, 2.1e-9, 3.1e-9],
        "true_flux_sdss_r": [4.1e-9, 5.1e-9, 6.1e-9],
    })
    df.to_parquet(tmp_path / "cat.parquet")
    return read_catalog(tmp_path / "cat.parquet", ["sdss_g", "sdss_r"])


def test_row_by_id_integer_ids(tmp_path):
    cat = _small_catalog(tmp_path, [5, 7, 9])
    for gid in (9, "9", np.int32(9), 9.0):  # the catalogue's type decides: int ids compare as int
        assert cat.index(gid) == 2
    row = cat.row(7)
    assert set(row) == {"flux", "flux_err", "mask", "redshift"}
    np.testing.assert_array_equal(row["flux"], [2e-9, 5e-9])
    np.testing.assert_array_equal(row["flux_err"], [2e-10, 5e-10])
    np.testing.assert_array_equal(row["mask"], [True, True])
    assert row["redshift"] == 0.2
    np.testing.assert_array_equal(cat.row(9)["mask"], [False, True])
    assert cat.row(9)["flux"][0] == 0.0  # masked entries as in the arrays
    with pytest.raises(CatalogError, match="galaxy id 6 not in the catalogue"):
        cat.row(6)
    with pytest.raises(CatalogError, match="not a valid id"):
        cat.row("seven")
    with pytest.raises(CatalogError, match="not a valid id"):
        cat.row(7.5)


def test_row_by_id_string_ids(tmp_path):
    cat = _small_catalog(tmp_path, ["a", "b", "10"])
    assert cat.index("b") == 1
    assert cat.index(10) == 2  # string ids compare as strings
    with pytest.raises(CatalogError, match="'c' not in the catalogue"):
        cat.index("c")


def test_truths(tmp_path):
    cat = _small_catalog(tmp_path, [5, 7, 9])
    t = cat.truths()
    assert list(t) == ["mass", "sfr"]
    np.testing.assert_array_equal(t["mass"], [10.0, 10.5, 11.0])
    tf = cat.truths(fluxes=True)
    assert list(tf) == ["mass", "sfr", "flux_sdss_g", "flux_sdss_r"]
    np.testing.assert_array_equal(cat.truths(slice(1, 3))["sfr"], [2.0, 3.0])
    one = cat.truths(cat.index(7), fluxes=True)
    assert {k: float(v) for k, v in one.items()} == {"mass": 10.5, "sfr": 2.0, "flux_sdss_g": 2.1e-9, "flux_sdss_r": 5.1e-9}
    # real data: no true_* column, no truths
    df = pd.read_parquet(tmp_path / "cat.parquet").drop(columns=[c for c in cat.table.columns if c.startswith("true_")])
    df.to_parquet(tmp_path / "real.parquet")
    assert read_catalog(tmp_path / "real.parquet", ["sdss_g"]).truths(0, fluxes=True) == {}
