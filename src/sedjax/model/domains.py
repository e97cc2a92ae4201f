"""Physical domains of the model parameters, checked when a :class:`~sedjax.model.params.Parameters` is built.

A value outside its domain does not fail inside the forward model: a negative optical
depth brightens a galaxy, a negative DPL slope or timescale gives NaN or absurd fluxes. So
every ``Fixed`` value and every prior's support must lie inside the domain, and a
violation names the parameter, the offending value and the fix.

=========================  =====================  =========================================
parameter                  domain                 why
=========================  =====================  =========================================
``dust_tau_diff``/``_bc``  [0, 20]                optical depth: < 0 would add light
``dust_slope``             [-3, 0]                attenuation falls with wavelength
``sfh_dpl_tau_gyr``        (0, 14]                time of the SFR peak after the Big Bang
``sfh_dpl_alpha``/``beta`` (0, 1000]              power-law slopes: <= 0 inverts the SFH
``sfh_delayed_tau_gyr``    (0, 100]               e-folding time
``sfh_delayed_tstart_gyr`` [0, 14]                start after the Big Bang
``sfh_const_duration_gyr`` (0, 14]                duration of constant star formation
``redshift``               (0, 12]                z = 0 has no luminosity distance; above
                                                  z = 12 the universe is < 0.37 Gyr old and
                                                  the IGM and SSP ages are extrapolated
``sfh_log_mass_formed``    [-5, 15]               log10 M☉: outside, a unit mistake
``sfh_dpl_log_peak_sfr``   [-10, 6]               log10 M☉/yr: outside, a unit mistake
``met_logzsol``            [-5, 2]                log10 Z/Z☉; inside the SSP grid's range the
                                                  model interpolates, outside it clamps to
                                                  the grid edge (no error; documented in
                                                  :mod:`sedjax.physics.ssp_weights`)
=========================  =====================  =========================================

Strict ends (``(``) exclude the end itself: a ``Fixed`` value must lie strictly inside,
and a prior may touch the end only with zero probability (``Uniform(0, 10)`` is allowed
for ``sfh_dpl_tau_gyr``). ``Normal`` priors have unbounded support, so they are refused
for bounded parameters (use ``uniform`` or ``log_uniform``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from sedjax.model.priors import Fixed, LogUniform, Normal, Uniform


class Domain(NamedTuple):
    low: float
    high: float
    low_open: bool  # the low end itself is not allowed
    why: str


Z_MAX = 12.0

DOMAINS = {
    "dust_tau_diff": Domain(0.0, 20.0, False, "an optical depth below 0 would add light"),
    "dust_tau_bc": Domain(0.0, 20.0, False, "an optical depth below 0 would add light"),
    "dust_slope": Domain(-3.0, 0.0, False, "attenuation must fall with wavelength"),
    "sfh_dpl_tau_gyr": Domain(0.0, 14.0, True, "the SFR peak time (Gyr after the Big Bang) must be > 0"),
    "sfh_dpl_alpha": Domain(0.0, 1000.0, True, "a DPL slope <= 0 inverts the star-formation history"),
    "sfh_dpl_beta": Domain(0.0, 1000.0, True, "a DPL slope <= 0 inverts the star-formation history"),
    "sfh_delayed_tau_gyr": Domain(0.0, 100.0, True, "an e-folding time must be > 0"),
    "sfh_delayed_tstart_gyr": Domain(0.0, 14.0, False, "star formation starts after the Big Bang"),
    "sfh_const_duration_gyr": Domain(0.0, 14.0, True, "a duration must be > 0 and shorter than the universe's age"),
    "redshift": Domain(0.0, Z_MAX, True,
                       f"z = 0 has no luminosity distance, and above z = {Z_MAX:g} the universe is younger "
                       "than 0.37 Gyr, where the IGM model and SSP ages are extrapolated"),
    "sfh_log_mass_formed": Domain(-5.0, 15.0, False, "log10 of the mass formed in M☉ (outside: a unit mistake)"),
    "sfh_dpl_log_peak_sfr": Domain(-10.0, 6.0, False, "log10 of the peak SFR in M☉/yr (outside: a unit mistake)"),
    "met_logzsol": Domain(-5.0, 2.0, False, "log10 Z/Z☉ (outside: log Z given instead of log Z/Z☉?)"),
}


def _fmt(d: Domain) -> str:
    return f"{'(' if d.low_open else '['}{d.low:g}, {d.high:g}]"


def check_domain(name: str, prior) -> None:
    """Raise ``ValueError`` when ``prior`` (a ``Fixed`` value or a prior's support) leaves ``name``'s domain."""
    d = DOMAINS.get(name)
    if isinstance(prior, Fixed):
        v = prior.value
        if not math.isfinite(v):
            raise ValueError(f"parameter {name!r}: fixed value {v} is not finite; give a number")
        if d is None:
            return
        ok = (v > d.low if d.low_open else v >= d.low) and v <= d.high
        if not ok:
            raise ValueError(
                f"parameter {name!r}: fixed value {v:g} is outside its physical domain {_fmt(d)} ({d.why}); "
                f"fix model.params.{name} in the config"
            )
        return
    if d is None:
        return
    if isinstance(prior, Normal):
        raise ValueError(
            f"parameter {name!r}: a normal prior has unbounded support but the parameter's physical domain "
            f"is {_fmt(d)} ({d.why}); use {{uniform: [low, high]}} or {{log_uniform: [low, high]}} inside it"
        )
    if isinstance(prior, (Uniform, LogUniform)):
        if prior.low < d.low or prior.high > d.high:
            raise ValueError(
                f"parameter {name!r}: prior support [{prior.low:g}, {prior.high:g}] leaves its physical domain "
                f"{_fmt(d)} ({d.why}); narrow model.params.{name} in the config"
            )


def metallicity_grid_warning(spec, ssp) -> str | None:
    """A warning when ``met_logzsol``'s prior (or fixed value) reaches beyond the SSP grid, else None.

    Not an error: the model clamps log Z/Z☉ to the grid's edges (constant spectrum
    beyond), so such a prior is valid but its tail is flat in the likelihood. Called by
    :func:`sedjax.fitting.single.fit`, :func:`sedjax.fitting.batch.fit_batch` and
    :func:`sedjax.catalog.mock.generate_mock`, which log it.
    """
    prior = spec.priors.get("met_logzsol")
    if prior is None:
        return None
    if isinstance(prior, Fixed):
        lo = hi = prior.value
    elif isinstance(prior, (Uniform, LogUniform)):
        lo, hi = prior.low, prior.high
    else:
        lo, hi = prior.mu - 3 * prior.sigma, prior.mu + 3 * prior.sigma
    lg_zsun = math.log10(ssp.zsun)
    g_lo, g_hi = float(min(ssp.ssp_lgmet)) - lg_zsun, float(max(ssp.ssp_lgmet)) - lg_zsun
    tol = 1e-3
    if lo >= g_lo - tol and hi <= g_hi + tol:
        return None
    return (f"met_logzsol reaches [{lo:g}, {hi:g}] but the SSP grid spans [{g_lo:.3g}, {g_hi:.3g}] (log Z/Z☉): "
            "outside it the model clamps to the grid edge, so those values all give the same spectrum")
