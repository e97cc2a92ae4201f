"""Physical domains of the parameters (issue 16): out-of-domain Fixed values and prior supports are refused."""

import pytest

from sedjax import Fixed, LogUniform, Normal, Parameters, Uniform
from sedjax.model.domains import DOMAINS

BASE = {
    "sfh_dpl_log_peak_sfr": {"uniform": [-1.0, 2.5]},
    "sfh_dpl_tau_gyr": {"uniform": [0.1, 10.0]},
    "sfh_dpl_alpha": {"uniform": [1.0, 10.0]},
    "sfh_dpl_beta": {"uniform": [1.0, 10.0]},
    "met_logzsol": {"uniform": [-2.0, 0.2]},
    "dust_tau_bc": {"uniform": [0.0, 2.0]},
    "dust_tau_diff": {"uniform": [0.0, 1.5]},
    "dust_slope": -0.7,
    "redshift": 0.1,
}


def _spec(**change):
    return Parameters.from_config({"sfh": "dpl", "params": {**BASE, **change}})


def test_default_config_params_pass():
    spec = _spec()
    assert spec.fixed_params["redshift"] == 0.1


@pytest.mark.parametrize("name, value, why", [
    ("dust_tau_diff", -1.0, "optical depth"),
    ("sfh_dpl_alpha", -5.0, "inverts"),
    ("sfh_dpl_tau_gyr", -1.0, "> 0"),
    ("redshift", 0.0, "luminosity distance"),
    ("redshift", 20.0, "younger"),
    ("dust_slope", 0.5, "fall with wavelength"),
    ("met_logzsol", -20.0, "log Z/Z☉"),
])
def test_fixed_value_outside_domain(name, value, why):
    with pytest.raises(ValueError) as e:
        _spec(**{name: value})
    msg = str(e.value)
    assert repr(name) in msg and f"{value:g}" in msg and why in msg and f"model.params.{name}" in msg


@pytest.mark.parametrize("name, prior", [
    ("dust_tau_diff", {"uniform": [-1.0, 1.0]}),
    ("sfh_dpl_beta", {"uniform": [-2.0, 5.0]}),
    ("redshift", {"uniform": [0.05, 15.0]}),
    ("sfh_dpl_tau_gyr", {"log_uniform": [0.1, 100.0]}),
])
def test_prior_support_outside_domain(name, prior):
    with pytest.raises(ValueError, match=rf"parameter '{name}': prior support .* leaves its physical domain"):
        _spec(**{name: prior})


def test_normal_prior_on_bounded_parameter_and_unbounded_ok():
    with pytest.raises(ValueError, match="'dust_tau_bc': a normal prior has unbounded support"):
        _spec(dust_tau_bc=Normal(0.5, 0.2))
    with pytest.raises(ValueError, match="not finite"):
        _spec(dust_slope=Fixed(float("nan")))
    # a prior may touch a strict end with zero probability; a fixed value may not
    _spec(sfh_dpl_tau_gyr=Uniform(0.0, 10.0), redshift=LogUniform(0.01, 12.0))


def test_prior_low_above_high_names_the_parameter():
    with pytest.raises(ValueError, match=r"parameter 'sfh_dpl_beta': Uniform\(low=5.0, high=1.0\)"):
        _spec(sfh_dpl_beta={"uniform": [5.0, 1.0]})


def test_every_family_parameter_has_a_domain():
    from sedjax.model.params import COMMON_PARAMS, DPL_NORMALISATIONS, SFH_PARAMS

    names = set(COMMON_PARAMS) | set(DPL_NORMALISATIONS) | {n for v in SFH_PARAMS.values() for n in v}
    assert names == set(DOMAINS)


def test_metallicity_beyond_grid_is_a_warning_not_an_error(ssp, caplog):
    import logging

    from testlib import DEFAULT_BANDS, default_spec

    from sedjax import SEDModel
    from sedjax.fitting.inputs import warn_metallicity_range
    from sedjax.model.domains import metallicity_grid_warning

    assert metallicity_grid_warning(default_spec(), ssp) is None
    spec = default_spec(met_logzsol=Uniform(-3.0, 1.0))  # inside the domain, beyond the BC03 grid
    msg = metallicity_grid_warning(spec, ssp)
    assert "met_logzsol reaches [-3, 1]" in msg and "clamps to the grid edge" in msg
    model = SEDModel(spec, ssp, bands=DEFAULT_BANDS)
    with caplog.at_level(logging.WARNING, logger="sedjax"):
        warn_metallicity_range(model)
        warn_metallicity_range(model)
    assert [r.getMessage() for r in caplog.records].count(msg) == 1
