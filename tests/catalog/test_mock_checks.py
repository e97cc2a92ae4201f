"""generate_mock refuses photometry that is not finite or has no flux at all (issue 16)."""

import numpy as np
import pytest
from testlib import DEFAULT_BANDS, default_spec

from sedjax import Fixed, SEDModel
from sedjax.catalog.mock import check_mock_photometry, generate_mock


def test_non_finite_photometry_names_galaxy_and_parameters():
    flux = np.ones((3, 2))
    flux[1, 1] = np.nan
    params = {"sfh_dpl_tau_gyr": np.array([1.0, -1.0, 2.0]), "redshift": np.full(3, 0.1)}
    with pytest.raises(ValueError) as e:
        check_mock_photometry(flux, params, ["sdss_u", "sdss_g"])
    msg = str(e.value)
    assert "mock galaxy 1" in msg and "['sdss_g']" in msg and "sfh_dpl_tau_gyr=-1" in msg and "nothing was written" in msg


def test_redshift_12_with_optical_bands_has_no_flux(ssp, tmp_path):
    """z = 12 is inside the redshift domain, but every SDSS band lies blueward of Lyman alpha."""
    model = SEDModel(default_spec(redshift=Fixed(12.0)), ssp, bands=DEFAULT_BANDS)
    with pytest.raises(ValueError) as e:
        generate_mock(model, 2, seed=0)
    msg = str(e.value)
    assert "no flux" in msg and "redshift=12" in msg and "1216" in msg


def test_mock_redshift_prior_outside_domain(default_model):
    with pytest.raises(ValueError, match=r"mock.redshift: parameter 'redshift'"):
        generate_mock(default_model, 2, seed=0, redshift={"uniform": [-0.1, 0.3]})
