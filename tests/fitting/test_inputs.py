"""Batch-fit inputs (sedjax.fitting.inputs): keys, validation, catalogue rows and truths."""

import jax
import numpy as np
import pytest
from testlib import DEFAULT_BANDS

from sedjax.catalog.mock import generate_mock
from sedjax.catalog.table import read_catalog, write_catalog
from sedjax.fitting.inputs import catalog_arrays, catalog_rows, galaxy_keys, needs_tables

SEED_MOCK = 1
SEED_FIT = 0


def _key(gid):
    return jax.random.fold_in(jax.random.PRNGKey(SEED_FIT), int(gid))


def test_keys_match_fit_single():
    keys = galaxy_keys(SEED_FIT, np.array([0, 5, 99]))
    for k, gid in zip(keys, [0, 5, 99]):
        np.testing.assert_array_equal(k, _key(gid))
    with pytest.raises(TypeError):
        galaxy_keys(0, np.array(["a", "b"]))


def test_catalog_arrays_validation(default_model):
    n_band = len(DEFAULT_BANDS)
    flux = np.ones((2, n_band))
    err = np.full((2, n_band), 0.1)
    err[0, 1] = np.nan
    flux[1, 3] = np.inf
    a = catalog_arrays({"flux": flux, "flux_err": err}, default_model)
    assert a["mask"].sum() == 2 * n_band - 2 and not a["mask"][0, 1] and not a["mask"][1, 3]
    assert a["flux"][1, 3] == 0.0 and a["flux_err"][0, 1] == 1.0
    np.testing.assert_array_equal(a["redshift"], [0.1, 0.1])
    assert not needs_tables(default_model, a["redshift"])
    assert needs_tables(default_model, [0.1, 0.12])
    with pytest.raises(ValueError, match="no usable band"):
        catalog_arrays({"flux": flux, "flux_err": err, "mask": np.zeros((2, n_band), bool)}, default_model)
    with pytest.raises(ValueError, match="shape"):
        catalog_arrays({"flux": flux[:, :2], "flux_err": err[:, :2]}, default_model)


def test_catalog_rows_slices_arrays_and_truths(default_model, tmp_path):
    df = generate_mock(default_model, 5, SEED_MOCK)
    path = tmp_path / "cat.parquet"
    write_catalog(df, path)
    cat = read_catalog(path, default_model.bands)
    arrays, truth = catalog_rows(cat, 1, 4)
    assert arrays["ids"].tolist() == df["id"].to_numpy()[1:4].tolist()
    np.testing.assert_array_equal(arrays["flux"], df[[f"flux_{b}" for b in default_model.bands]].to_numpy()[1:4])
    assert "met_logzsol" in truth and "flux_sdss_u" not in truth
    np.testing.assert_array_equal(truth["met_logzsol"], df["true_met_logzsol"].to_numpy()[1:4])
    # the same truths as the catalogue gives (true_flux_* excluded), as fit_batch.py used to slice them
    old = {c[5:]: cat.table[c].to_numpy()[1:4] for c in cat.table.columns
           if c.startswith("true_") and not c.startswith("true_flux_")}
    assert list(truth) == list(old)
    for k in old:
        np.testing.assert_array_equal(truth[k], old[k])
