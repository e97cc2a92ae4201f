"""Shared test helpers (not fixtures): the default bands and parameter spec.

Imported as ``from testlib import ...``: pytest puts tests/ on sys.path (rootdir conftest).
Kept out of conftest.py because tests/bench and tests/workflow have conftest.py files of
their own, and ``from conftest import`` would get whichever was imported last.
"""

DEFAULT_BANDS = ["sdss_u", "sdss_g", "sdss_r", "sdss_i", "sdss_z"]


def default_spec(**overrides):
    from sedjax import Fixed, Parameters, Uniform

    kw = dict(
        sfh_dpl_log_peak_sfr=Uniform(-1, 2.5),
        sfh_dpl_tau_gyr=Uniform(0.1, 10),
        sfh_dpl_alpha=Uniform(1, 10),
        sfh_dpl_beta=Uniform(1, 10),
        met_logzsol=Uniform(-2, 0.2),
        dust_tau_bc=Uniform(0, 2),
        dust_tau_diff=Uniform(0, 1.5),
        dust_slope=Fixed(-0.7),
        redshift=Fixed(0.1),
    )
    kw.update(overrides)
    return Parameters(mean_sfh_type="dpl", **kw)
