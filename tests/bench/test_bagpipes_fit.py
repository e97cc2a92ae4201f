"""sedjax.bench.bagpipes_fit: our priors stated as bagpipes' fit instructions, checked numerically.

The bagpipes side is read by bagpipes itself (its ``fitted_model`` parses the instructions into
parameters, limits and prior densities, and its ``prior.transform`` maps the unit cube), so
the test compares the distributions, not our own reading of bagpipes' format.
"""

import contextlib
import io

import numpy as np
import pytest
from testlib import posterior_bench_defaults

from sedjax import Parameters
from sedjax.bench.bagpipes_fit import AV_PER_TAU, bagpipes_to_ours, fit_instructions, prior_mapping
from sedjax.bench.peer import import_bagpipes, write_bagpipes_filters


def bench_spec(**changes):
    params = {**posterior_bench_defaults()["params"], **changes}
    return Parameters.from_config({"sfh": "dpl", "params": params})


def test_av_per_tau_is_the_magnitude_conversion():
    # A = -2.5 log10(exp(-tau)) = 1.0857 tau
    assert AV_PER_TAU == pytest.approx(-2.5 * np.log10(np.exp(-1.0)), rel=1e-12)
    assert AV_PER_TAU == pytest.approx(1.0857, abs=1e-4)


def test_fit_instructions_of_the_default_priors():
    spec = bench_spec()
    ins = fit_instructions(spec)
    p = posterior_bench_defaults()["params"]
    dpl, dust = ins["dblplaw"], ins["dust"]
    assert dpl["massformed"] == tuple(p["sfh_log_mass_formed"]["uniform"]) and "massformed_prior" not in dpl
    assert dpl["tau"] == tuple(p["sfh_dpl_tau_gyr"]["uniform"])
    assert dpl["alpha"] == tuple(p["sfh_dpl_alpha"]["uniform"]) and dpl["beta"] == tuple(p["sfh_dpl_beta"]["uniform"])
    lo, hi = p["met_logzsol"]["uniform"]
    assert dpl["metallicity"] == pytest.approx((10.0**lo, 10.0**hi)) and dpl["metallicity_prior"] == "log_10"
    lo, hi = p["dust_tau_diff"]["uniform"]
    assert dust["Av"] == pytest.approx((AV_PER_TAU * lo, AV_PER_TAU * hi)) and "Av_prior" not in dust
    assert dust["type"] == "CF00" and dust["eta"] == 1.0 and dust["n"] == pytest.approx(-p["dust_slope"])
    assert ins["redshift"] == p["redshift"] and ins["t_bc"] == 0.01
    rows = prior_mapping(spec)
    assert {r["ours"] for r in rows} == set(p) and all(r["exact"] for r in rows)


def test_bagpipes_draws_the_same_prior_as_ours(default_model, tmp_path):
    """Unit-cube points through bagpipes' own prior transform, mapped back to our names, are our
    priors' quantiles: uniform in log10 M formed, τ, α, β, log10 Z and τ_diff = Av / 1.0857."""
    bagpipes, _ = import_bagpipes()
    spec = bench_spec()
    filt = write_bagpipes_filters(default_model, tmp_path)
    phot = np.ones((len(filt), 2))
    with contextlib.redirect_stdout(io.StringIO()):
        galaxy = bagpipes.galaxy("t", load_data=lambda _id: phot, spectrum_exists=False, filt_list=filt)
        fm = bagpipes.fitting.fitted_model(galaxy, fit_instructions(spec))
    assert sorted(fm.params) == sorted(["dblplaw:massformed", "dblplaw:tau", "dblplaw:alpha", "dblplaw:beta",
                                        "dblplaw:metallicity", "dust:Av"])
    q = np.linspace(0.02, 0.98, 9)
    draws = np.array([fm.prior.transform(np.full(fm.ndim, u)) for u in q])
    ours, _ = bagpipes_to_ours({name: draws[:, i] for i, name in enumerate(fm.params)})
    assert set(ours) == set(spec.free_params)
    for name, values in ours.items():
        lo, hi = spec.to_config()["params"][name]["uniform"]
        np.testing.assert_allclose(values, lo + q * (hi - lo), rtol=1e-10, atol=1e-12, err_msg=name)


def test_log_uniform_and_fixed_priors_map_exactly():
    spec = bench_spec(sfh_dpl_tau_gyr={"log_uniform": [0.1, 10.0]}, sfh_dpl_alpha=3.0,
                      dust_slope={"uniform": [-1.3, -0.5]})
    ins = fit_instructions(spec)
    assert ins["dblplaw"]["tau"] == (0.1, 10.0) and ins["dblplaw"]["tau_prior"] == "log_10"
    assert ins["dblplaw"]["alpha"] == 3.0
    assert ins["dust"]["n"] == pytest.approx((0.5, 1.3))


@pytest.mark.parametrize("changes, words", [
    ({"dust_tau_bc": {"uniform": [0.0, 2.0]}}, ["dust_tau_bc", "eta", "dust_tau_bc: 0.0"]),
    ({"dust_tau_bc": 0.5}, ["dust_tau_bc", "ratio"]),
    ({"sfh_dpl_tau_gyr": {"normal": [5.0, 1.0]}}, ["sfh_dpl_tau_gyr", "normal"]),
    ({"met_logzsol": {"log_uniform": [0.01, 0.2]}}, ["met_logzsol", "log_uniform"]),
    ({"redshift": {"uniform": [0.05, 0.2]}}, ["redshift"]),
])
def test_priors_without_an_exact_bagpipes_counterpart_raise(changes, words):
    with pytest.raises(ValueError) as err:
        fit_instructions(bench_spec(**changes))
    for w in words:
        assert w in str(err.value)


def test_peak_sfr_normalisation_is_refused():
    params = {k: v for k, v in posterior_bench_defaults()["params"].items() if k != "sfh_log_mass_formed"}
    params["sfh_dpl_log_peak_sfr"] = {"uniform": [-1.0, 2.5]}
    with pytest.raises(ValueError, match="sfh_log_mass_formed"):
        prior_mapping(Parameters.from_config({"sfh": "dpl", "params": params}))


def test_bagpipes_draws_in_our_names():
    samples, derived = bagpipes_to_ours({
        "dblplaw:massformed": [10.0], "dblplaw:metallicity": [0.1], "dust:Av": [AV_PER_TAU * 0.4],
        "dust:eta": [2.5], "dust:n": [0.7], "stellar_mass": [9.8], "formed_mass": [10.0], "sfr": [1.5],
        "mass_weighted_age": [4.0], "ssfr": [-10.0],
    })
    assert samples["sfh_log_mass_formed"] == pytest.approx([10.0])
    assert samples["met_logzsol"] == pytest.approx([-1.0])
    assert samples["dust_tau_diff"] == pytest.approx([0.4])
    assert samples["dust_tau_bc"] == pytest.approx([0.6])  # (eta - 1) tau_diff
    assert samples["dust_slope"] == pytest.approx([-0.7])
    assert {k: v.tolist() for k, v in derived.items()} == {
        "log_mass_surviving": [9.8], "log_mass_formed": [10.0], "sfr_100myr": [1.5], "mass_weighted_age_gyr": [4.0]}
