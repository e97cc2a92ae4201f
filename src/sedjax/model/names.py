"""Names of the model's derived quantities (JAX-free: plotting and reports import it).

:meth:`sedjax.model.sed_model.SEDModel.derived` computes them (plus ``lum_<line>_lsun`` with a
nebular grid); figures and report tables list them in this order after the free parameters
(:func:`sedjax.plotting.style.order_quantities`).
"""

DERIVED_NAMES = (
    "log_mass_formed",
    "log_mass_surviving",
    "sfr_10myr",
    "sfr_100myr",
    "mass_weighted_age_gyr",
)
