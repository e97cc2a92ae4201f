"""Fast-mode tables on a redshift grid (sedjax.model.table_grid): exactness at random z."""

import jax
import numpy as np
import pytest
from testlib import default_spec

from sedjax import Fixed, SEDModel
from sedjax.model.table_grid import grid_nodes

BANDS = ["galex_nuv", "sdss_u", "sdss_r", "2mass_ks"]


@pytest.fixture(scope="module")
def nearby_model(ssp):
    """Fixed-z spec, catalogue redshifts 0.014-0.025 (the RESOLVE example's range)."""
    return SEDModel(default_spec(redshift=Fixed(0.02)), ssp, bands=BANDS, z_range=(0.014, 0.025))


def test_grid_nodes_cover_range_with_spacing():
    z = grid_nodes(0.05, 0.1, 0.002)
    assert z[0] == pytest.approx(0.05) and z[-1] == pytest.approx(0.1)
    assert np.max(np.diff(np.log1p(z))) <= 0.002 + 1e-12
    assert grid_nodes(0.05, 3.0, 0.002, max_nodes=48).size == 48  # a wide range: coarser, bounded
    with pytest.raises(ValueError, match="z_lo < z_hi"):
        grid_nodes(0.1, 0.1)


def test_interpolated_fast_photometry_within_1e3_mag_of_exact_at_random_z(nearby_model):
    m = nearby_model
    rng = np.random.default_rng(3)
    for k in range(6):
        p = {n: float(v) for n, v in m.spec.sample(jax.random.PRNGKey(k)).items()}
        z = float(rng.uniform(*m.z_range))
        p["redshift"] = z
        tables = m.tables_for(z)
        assert tables is not None
        fast = np.asarray(m.predict_photometry(p, tables=tables))
        exact = np.asarray(m.predict_photometry(p, mode="exact"))
        direct = np.asarray(m.predict_photometry(p, tables=m.fast_tables(z)))
        # optical/NIR: the fast-vs-exact budget; GALEX NUV: the fast mode's own sub-bin error
        # (steep UV dust) can reach ~1.3e-3 mag without any grid, so there the grid may
        # add at most 3e-4 mag to it
        assert np.max(np.abs(2.5 * np.log10(fast / exact))[1:]) <= 1e-3, z
        assert np.max(np.abs(2.5 * np.log10(fast / direct))) <= 3e-4, z
    # nodes are built on demand and kept: a handful, never one per galaxy
    assert 2 <= len(m.z_tables._node) <= len(m.z_tables)


def test_tables_for_batch_matches_tables_for(nearby_model):
    m = nearby_model
    z = np.array([0.0143, 0.02, 0.0177, 0.0249, 0.0211])
    batch = m.tables_for_batch(jax.numpy.asarray(z))
    for i, zi in enumerate(z):
        one = m.tables_for(zi)
        ref = m.own_tables if one is None else one
        np.testing.assert_allclose(np.asarray(batch.young_band_flux[i]), np.asarray(ref.young_band_flux), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(batch.wave_eff_rest_aa[i]), np.asarray(ref.wave_eff_rest_aa), rtol=1e-12)
