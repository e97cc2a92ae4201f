"""Photometric unit conversions (sedjax.catalog.units) against independent definitions."""

import math

import numpy as np
import pytest

from sedjax.catalog import units as U


def test_ab_magnitude_zero_is_one_maggie_and_3631_jy():
    f, e = U.mag_to_maggies([0.0, 22.5], [0.1, 0.0])
    np.testing.assert_allclose(f, [1.0, 1e-9], rtol=1e-12)  # 22.5 AB = 1 nanomaggie
    # first-order error propagation: sigma_f = 0.4 ln10 f sigma_m
    assert e[0] == pytest.approx(0.4 * math.log(10) * 0.1, rel=1e-12)
    # the first-order error matches the symmetric finite difference of 10^(-0.4 m) for small sigma
    fd = (10 ** (-0.4 * -0.001) - 10 ** (-0.4 * 0.001)) / 2 / 0.001
    assert U.mag_to_maggies(0.0, 1.0)[1] == pytest.approx(fd, rel=1e-6)
    assert 3631.0 * U.maggies_to_flux(1.0, "maggies") == pytest.approx(U.maggies_to_flux(1.0, "Jy"))


def test_magnitudes_round_trip():
    mag = np.array([12.3, 18.0, 24.9])
    f, e = U.mag_to_maggies(mag, np.full(3, 0.05))
    m2, e2 = U.maggies_to_mag(f, e)
    np.testing.assert_allclose(m2, mag, rtol=1e-12)
    np.testing.assert_allclose(e2, 0.05, rtol=1e-12)


def test_microjansky_to_maggies():
    # 3631 uJy = 1e-6 maggies; 23.9 AB = 1 uJy
    f, e = U.flux_to_maggies([3631.0, -10.0], [36.31, 5.0], "uJy")
    np.testing.assert_allclose(f, [1e-6, -10.0 / 3631e6], rtol=1e-12)  # negative fluxes stay negative
    np.testing.assert_allclose(e, [1e-8, 5.0 / 3631e6], rtol=1e-12)
    assert U.maggies_to_mag(U.flux_to_maggies(1.0, 1.0, "uJy")[0]) == pytest.approx(23.9, abs=1e-3)
    for unit, per_jy in (("nJy", 1e9), ("mJy", 1e3), ("Jy", 1.0)):
        assert U.flux_to_maggies(3631.0 * per_jy, 1.0, unit)[0] == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(ValueError, match="not a flux unit"):
        U.flux_to_maggies(1.0, 1.0, "AB_mag")


@pytest.mark.parametrize("band,sedpy_name", [("sdss_r", "sdss_r0"), ("2mass_ks", "twomass_Ks"),
                                             ("2mass_j", "twomass_J")])
def test_vega_to_ab_matches_sedpy(band, sedpy_name):
    from sedpy.observate import load_filters

    ours = U.vega_to_ab_mag(band)
    theirs = -load_filters([sedpy_name])[0].ab_to_vega  # sedpy: m_Vega = m_AB + ab_to_vega
    assert ours == pytest.approx(theirs, abs=1e-3)
    # and the textbook sign/size: 2MASS Ks Vega -> AB is about +1.8 mag
    if band == "2mass_ks":
        assert 1.7 < ours < 1.95


def test_extinction_correction_brightens_by_a():
    # removing A = 0.3 mag of extinction: flux x 10^(0.12), magnitude 0.3 brighter
    f = 1e-8 * U.extinction_factor(0.3)
    assert U.maggies_to_mag(f) == pytest.approx(U.maggies_to_mag(1e-8) - 0.3, abs=1e-12)


def test_sentinels_and_unknown_unit():
    np.testing.assert_array_equal(U.sentinel_mask([99.0, -99.0, -9999.0, 18.2, np.nan]),
                                  [True, True, True, False, False])
    assert U.is_magnitude("vega_mag") and not U.is_magnitude("nJy")
    with pytest.raises(ValueError, match="unknown photometric unit"):
        U.is_magnitude("ABmag")
