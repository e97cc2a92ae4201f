"""Data redshifts outside the model's range are refused (issue 16), through fit and fit_batch.

The workflow's fit_single builds its model from the config's ``model:`` section; with a
per-galaxy-redshift mock (``mock.redshift: {uniform: [0.05, 0.3]}``) a model built without
``z_range`` covers only its fixed z = 0.1, and the fit must refuse a z = 0.25 galaxy instead
of silently losing u-band flux.
"""

import copy
from pathlib import Path

import jax
import numpy as np
import pytest
import yaml
from testlib import DEFAULT_BANDS, default_spec

from sedjax import SEDModel
from sedjax.catalog.mock import generate_mock
from sedjax.catalog.table import read_catalog, write_catalog
from sedjax.fitting.batch import fit_batch
from sedjax.fitting.inputs import check_redshifts
from sedjax.fitting.single import fit
from sedjax.model.from_config import model_from_config, redshift_range

REPO = Path(__file__).resolve().parents[2]
MOCK_Z = {"uniform": [0.05, 0.3]}
MAP_OPTS = {"n_starts": 1, "n_steps": 10}


def _model_cfg():
    return copy.deepcopy(yaml.safe_load((REPO / "config" / "config.yaml").read_text())["model"])


@pytest.fixture(scope="module")
def mock_catalog(ssp_path, tmp_path_factory):
    cfg = _model_cfg()
    wide = model_from_config(cfg, ssp_path, z_range=redshift_range(cfg, MOCK_Z))
    df = generate_mock(wide, 3, seed=3, redshift=MOCK_Z)
    path = tmp_path_factory.mktemp("mockz") / "catalog.parquet"
    write_catalog(df, path)
    return read_catalog(path, cfg["bands"])


def test_fit_single_refuses_redshift_outside_model(ssp_path, mock_catalog):
    cfg = _model_cfg()
    narrow = model_from_config(cfg, ssp_path)  # as fit_single without z_range: z in [0.1, 0.1]
    gid = int(mock_catalog.ids[0])
    obs = mock_catalog.row(gid)
    assert obs["redshift"] != pytest.approx(0.1)
    with pytest.raises(ValueError) as e:
        fit(narrow, obs, "map", jax.random.PRNGKey(0), options=MAP_OPTS, meta={"galaxy_id": gid})
    msg = str(e.value)
    assert f"galaxy {gid}" in msg and f"{obs['redshift']:g}" in msg and "[0.1, 0.1]" in msg
    assert "z_range" in msg and "mock.redshift" in msg
    with pytest.raises(ValueError, match="galaxy"):
        fit_batch(narrow, mock_catalog, "map", options=MAP_OPTS, chunk_size=3, log=None)

    # the fix: the model built with the mock's range fits the same galaxy
    wide = model_from_config(cfg, ssp_path, z_range=redshift_range(cfg, MOCK_Z))
    res = fit(wide, obs, "map", jax.random.PRNGKey(0), options=MAP_OPTS, meta={"galaxy_id": gid})
    assert res.meta["redshift"] == pytest.approx(obs["redshift"])
    assert np.all(np.isfinite(res.samples["sfh_dpl_tau_gyr"]))


@pytest.mark.parametrize("z, why", [(0.0, "> 0"), (-0.1, "> 0"), (np.nan, "finite"), (0.5, "lose flux")])
def test_check_redshifts_names_galaxy_and_reason(ssp, z, why):
    model = SEDModel(default_spec(), ssp, bands=DEFAULT_BANDS, z_range=(0.05, 0.3))
    check_redshifts(model, [0.05, 0.3, 0.2], ids=[1, 2, 3])  # the ends are inside
    with pytest.raises(ValueError) as e:
        check_redshifts(model, [0.1, z], ids=[7, 42])
    assert "galaxy 42" in str(e.value) and why in str(e.value) and "[0.05, 0.3]" in str(e.value)


def test_free_redshift_ignores_data_redshift(ssp):
    from sedjax import Uniform

    model = SEDModel(default_spec(redshift=Uniform(0.05, 0.3)), ssp, bands=DEFAULT_BANDS)
    check_redshifts(model, [5.0])  # the data z is not used by a free-z model
