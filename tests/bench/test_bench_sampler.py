"""sedjax.bench.sampler helpers: the benchmark galaxy and the per-backend options."""

import numpy as np
import pandas as pd
import pytest

from sedjax.bench.sampler import galaxy_obs, sampler_options
from sedjax.catalog.table import Catalog


def _catalog():
    n, nb = 3, 2
    flux = np.arange(n * nb, dtype=float).reshape(n, nb) + 1
    return Catalog(ids=np.array(["7", "8", "9"]), flux_maggies=flux, flux_err_maggies=0.1 * flux,
                   mask=np.ones((n, nb), bool), redshift=np.array([0.1, 0.2, 0.3]), bands=["a", "b"],
                   table=pd.DataFrame())


def test_galaxy_obs_by_integer_id():
    cat = _catalog()
    obs = galaxy_obs(cat, 8)
    assert obs["redshift"] == 0.2
    np.testing.assert_array_equal(obs["flux"], cat.flux_maggies[1])
    np.testing.assert_array_equal(obs["flux_err"], cat.flux_err_maggies[1])
    with pytest.raises(ValueError, match="cat.parquet: galaxy id 4 not found"):
        galaxy_obs(cat, 4, source="cat.parquet")


def test_sampler_options_override_the_fit_options():
    fit_opts = {"nuts": {"n_chains": 4, "n_warmup": 1000}, "vi": {"n_steps": 10}, "map": None}
    over = {"nuts": {"n_chains": 2}, "ns": {"n_live": 100}}
    got = sampler_options(["nuts", "vi", "map", "ns"], fit_opts, over)
    assert got == {"nuts": {"n_chains": 2, "n_warmup": 1000}, "vi": {"n_steps": 10}, "map": {}, "ns": {"n_live": 100}}
    assert sampler_options(["vi"], fit_opts, None) == {"vi": {"n_steps": 10}}
