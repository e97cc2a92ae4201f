"""The forward model and its parameters.

``sed_model`` (SEDModel: photometry in exact and fast modes, spectra, derived quantities,
fast tables per redshift), ``fast_photometry`` (the fast mode's contraction of band tables
with masses, metallicity weights and dust, with a custom JVP for cheap Jacobians), ``table_grid`` (fast tables on a redshift grid, interpolated:
per-galaxy redshifts), ``params`` (Parameters: which parameters exist and are free),
``priors`` (priors with bijections to an unconstrained space), ``names`` (derived-quantity
names, JAX-free), ``from_config`` (spec and model from the workflow config), ``reference``
(the exact model in plain NumPy: the non-JIT baseline and an independent check).
"""
