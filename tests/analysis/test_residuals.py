"""A catalogue's posterior-predictive photometry and residuals (analysis.residuals, plotting.real_data)."""

from types import SimpleNamespace

import jax
import numpy as np
import pandas as pd
from testlib import DEFAULT_BANDS, default_spec

from sedjax import Fixed, SEDModel
from sedjax.analysis.residuals import catalogue_residuals
from sedjax.catalog.table import Catalog
from sedjax.plotting.real_data import band_offsets, plot_catalogue, real_data_section


def test_residuals_at_the_truth_are_zero_and_masked_bands_nan(ssp, tmp_path):
    model = SEDModel(default_spec(redshift=Fixed(0.1)), ssp, bands=DEFAULT_BANDS, z_range=(0.08, 0.12))
    free = list(model.spec.free_params)
    draws = [{k: float(v) for k, v in model.spec.sample(jax.random.PRNGKey(i)).items()} for i in range(3)]
    z = np.array([0.1, 0.085, 0.117])
    flux = []
    for p, zi in zip(draws, z):
        flux.append(np.asarray(model.predict_photometry(dict(p, redshift=zi), mode="exact")))
    flux = np.array(flux)
    err = 0.05 * flux
    mask = np.ones_like(flux, bool)
    mask[1, 2] = False
    table = pd.DataFrame({"id": [0, 1, 2], "name": ["a", "b", "c"]})
    cat = Catalog(ids=np.arange(3), redshift=z, flux_maggies=flux, flux_err_maggies=err, mask=mask,
                  bands=list(DEFAULT_BANDS), table=table)
    samples = {k: np.array([[p[k]] * 4 for p in draws]) for k in free}  # 4 identical draws = the truth
    samples[free[0]][2, :] = np.nan  # galaxy c: no finite draw
    batch = SimpleNamespace(samples=samples, redshift=z, ids=np.arange(3), backend="map",
                            status=np.array(["ok", "ok", "failed"]))
    df = catalogue_residuals(model, batch, cat, n_draws=4)
    assert len(df) == 3 * len(DEFAULT_BANDS) and list(df["name"].unique()) == ["a", "b", "c"]
    ok = df[(df["name"] != "c") & df["used"]]
    # fast (interpolated tables) vs exact photometry: within 1e-3 mag, i.e. < 0.03 sigma at 5% errors
    assert np.nanmax(np.abs(ok["resid_sigma"])) < 0.03
    assert df.loc[(df["name"] == "b") & (df["band"] == DEFAULT_BANDS[2]), "resid_sigma"].isna().all()
    assert df.loc[df["name"] == "c", "pred_p50"].isna().all()
    # an injected 0.1 mag offset in one band shows up in band_offsets and in the figure
    shifted = df.copy()
    sel = shifted["band"] == "sdss_g"
    shifted.loc[sel, "flux_maggies"] *= 10 ** (-0.4 * 0.1)
    shifted.loc[sel, "resid_sigma"] = (shifted.loc[sel, "flux_maggies"] - shifted.loc[sel, "pred_p50"]) / shifted.loc[
        sel, "flux_err_maggies"]
    off = band_offsets(shifted).set_index("band")
    assert abs(off.loc["sdss_g", "median_dmag"] - 0.1) < 2e-3 and abs(off.loc["sdss_r", "median_dmag"]) < 2e-3
    batch_df = pd.DataFrame({"id": [0, 1, 2], "status": ["ok", "ok", "failed"],
                             "log_mass_surviving_median": [9.0, 10.0, np.nan], "log_mass_surviving_p16": [8.8, 9.9, np.nan],
                             "log_mass_surviving_p84": [9.2, 10.1, np.nan], "sfr_100myr_median": [0.1, 1.0, np.nan],
                             "sfr_100myr_p16": [0.05, 0.8, np.nan], "sfr_100myr_p84": [0.2, 1.2, np.nan]})
    paths = plot_catalogue(batch_df, shifted, tmp_path / "catalogue_map.png", "map")
    assert (tmp_path / "catalogue_map.png").stat().st_size > 5000 and len(paths) == 2
    sec = real_data_section(tmp_path / "summary.md", {"map": shifted}, figures=paths, catalog="`x.csv`")
    assert "not scheduled" in " ".join(sec["text"]) and sec["figures"][0][1] == "catalogue_map.png"
    assert sec["tables"][0]["rows"][1][4] == "+0.100"  # sdss_g median Δm
